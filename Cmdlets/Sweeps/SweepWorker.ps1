# The functions every sweep worker runs: the session's own runspace thread, a local worker
# process, or an SSH session to another host. Invoke-PruningSweep sends this text to the worker
# (so a remote host needs only the module itself), then calls Initialize once and
# Invoke-SparsePruneSweepPoint per point. Results go back as the JSON of SparsePrune.SweepResult,
# errors of a point as an Error entry: an exception out of these functions means the worker is lost.
# Compress-Mlp -ThrottleLimit / -HostName starts the same workers with the model as given and calls
# Invoke-SparsePruneCompressionCandidate per candidate instead.

function Initialize-SparsePruneSweepWorker {
    param(
        [string] $ModulePath,
        [byte[]] $ModelBytes,
        [byte[]] $DatasetBytes,
        # A worker on the session's machine reads the data set's bytes from this file instead.
        [string] $DatasetFile,
        [int] $Threads,
        [int] $WorkersOnHost,
        [string] $SweepId,
        [int] $Points,
        [string] $Worker,
        # The model every point distils from (Invoke-PruningSweep -Teacher), as .spmlp bytes.
        [byte[]] $TeacherBytes
    )
    $ErrorActionPreference = 'Stop'
    if ($ModulePath) { Import-Module -Name $ModulePath } else { Import-Module -Name SparsePrune }
    # LibTorch's thread pool is per process: the workers of one host share its cores.
    if ($Threads -le 0 -and $WorkersOnHost -gt 0) { $Threads = [Math]::Max(1, [Math]::Floor([Environment]::ProcessorCount / $WorkersOnHost)) }
    if ($Threads -gt 0) { [TorchSharp.torch]::set_num_threads($Threads) }
    if ($DatasetFile) { $DatasetBytes = [IO.File]::ReadAllBytes($DatasetFile) }
    $global:SparsePruneSweepWorker = @{
        ModelBytes = $ModelBytes
        Dataset    = if ($DatasetBytes) { [SparsePrune.DatasetBytes]::FromBytes($DatasetBytes) } else { $null }
        SweepId    = $SweepId
        Points     = $Points
        Worker     = $Worker
        # Read once: distillation only reads the teacher, so every point may share it.
        Teacher    = if ($TeacherBytes) { [SparsePrune.SpmlpFormat]::FromBytes($TeacherBytes, 'the sweep''s teacher') } else { $null }
    }
    [pscustomobject]@{ ComputerName = [Environment]::MachineName; ProcessId = $PID; Threads = [TorchSharp.torch]::get_num_threads() }
}

function Invoke-SparsePruneSweepPoint {
    param([string] $PointJson, [bool] $PassThru)
    $ErrorActionPreference = 'Stop'
    $state = $global:SparsePruneSweepWorker
    $clock = [Diagnostics.Stopwatch]::StartNew()
    try {
        $point = [SparsePrune.SweepPoint]::FromJson($PointJson)
        $Dataset = $state.Dataset
        # Every point starts from its own copy of the very bytes the session sent.
        $model = [SparsePrune.SpmlpFormat]::FromBytes($state.ModelBytes, 'the sweep''s model')
        foreach ($step in [SparsePrune.SweepStep]::Pruning, [SparsePrune.SweepStep]::Quantization) {
            $splat = @{}
            foreach ($p in $point.For($step)) { $splat[$p.Binds] = $p.Value }
            if ($splat.Count -eq 0) { continue }
            $splat.Seed = $point.Seed
            if ($Dataset) { $splat.Dataset = $Dataset }
            # Pruning always distils from the teacher; quantization when it fine-tunes (else it does not train).
            if ($state.Teacher -and ($step -eq 'Pruning' -or $splat.FineTuneEpochs -gt 0)) { $splat.Teacher = $state.Teacher }
            $out = if ($step -eq 'Pruning') {
                Invoke-Pruning -Model $model @splat -Confirm:$false -WarningAction SilentlyContinue
            } else {
                Invoke-Quantization -Model $model @splat -Confirm:$false -WarningAction SilentlyContinue
            }
            if ($null -eq $out) { throw "Invoke-$step did not finish: it was stopped or changed nothing." }
            $model = $out
        }
        if ($point.Script) {
            # The script sees the model copy as $_ and the data set as $Dataset; a model it outputs replaces the copy.
            $script = [scriptblock]::Create($point.Script)
            $out = @($model | ForEach-Object -Process $script) | Where-Object { $_ -is [SparsePrune.Mlp] } | Select-Object -Last 1
            if ($out) { $model = $out }
        }
        $report = if ($Dataset) { Get-CompressionReport -Model $model -Dataset $Dataset } else { Get-CompressionReport -Model $model }
        $latency = if ($Dataset) { (Measure-Mlp -Model $model -Dataset $Dataset).LatencyMs } else { $null }
        $result = [SparsePrune.SweepResult]::Create($state.SweepId, $state.Points, $point, $report, $latency, $clock.Elapsed.TotalSeconds,
            [TorchSharp.torch]::get_num_threads(), [Environment]::MachineName, $state.Worker)
        # Assigned, not output by a statement: a statement would unroll the byte[] into an object[].
        $modelBytes = $null
        if ($PassThru) { $modelBytes = [SparsePrune.SpmlpFormat]::ToBytes($model) }
        @{ Json = $result.ToJson(); Model = $modelBytes }
    } catch {
        @{ Error = $_.Exception.Message; ErrorId = $_.FullyQualifiedErrorId }
    }
}

function Invoke-SparsePruneCompressionCandidate {
    param([string] $RecipeJson, [string] $SpecJson, [byte[]] $BasisBytes)
    $ErrorActionPreference = 'Stop'
    $state = $global:SparsePruneSweepWorker
    $clock = [Diagnostics.Stopwatch]::StartNew()
    try {
        # Made from the very bytes the session sent (the model as given, and the basis when the
        # candidate starts from another); the session judges it, so only the model goes back.
        $modelBytes = [SparsePrune.CompressionCandidateFactory]::MakeBytes($state.ModelBytes, $state.Dataset, $RecipeJson, $SpecJson, $BasisBytes, $state.Teacher)
        @{ Model = $modelBytes; Seconds = $clock.Elapsed.TotalSeconds }
    } catch {
        # A .NET method's exception arrives wrapped ("Exception calling ..."): its own message says what failed.
        $e = $_.Exception
        if ($e -is [Management.Automation.MethodInvocationException] -and $e.InnerException) { $e = $e.InnerException }
        @{ Error = $e.Message; ErrorId = if ($e -is [SparsePrune.SparsePruneException]) { $e.ErrorId } else { $_.FullyQualifiedErrorId } }
    }
}
