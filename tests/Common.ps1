# Dot-sourced by every *.Tests.ps1: finds the staged module and a pwsh to start children with.
$script:ModulePath = if ($env:SPARSEPRUNE_MODULE) { $env:SPARSEPRUNE_MODULE } else {
    Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'
}
$script:ModulePath = (Resolve-Path $script:ModulePath).Path
# pwsh as a dotnet tool runs as 'dotnet <PSHOME>/pwsh.dll'.
$script:PwshCommand = if ((Split-Path -Leaf ([Environment]::ProcessPath)) -like 'pwsh*') { @([Environment]::ProcessPath) } else {
    @([Environment]::ProcessPath, (Join-Path $PSHOME 'pwsh.dll'))
}

# Runs a script in a fresh pwsh process with the staged module imported; returns its output lines.
function Invoke-InFreshPwsh {
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{})
    $saved = @{}
    foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
    try {
        $full = "`$ErrorActionPreference = 'Stop'; `$PSStyle.OutputRendering = 'PlainText'; Import-Module '$script:ModulePath'; $Script"
        $exe = $script:PwshCommand[0]
        $rest = @($script:PwshCommand | Select-Object -Skip 1)
        $out = & $exe @rest -NoProfile -NonInteractive -Command $full 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($out | ForEach-Object { "$_" }) }
    }
    finally {
        foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
    }
}

# ---- helpers shared by the test files ------------------------------------------------------
# Everything below recomputes what the module reports from the model's own weights
# (GetWeight/GetBias), so that tests never copy numbers from an earlier run.

# The hex of the IEEE-754 bits of a float array of any rank (float[] or float[,]).
function ConvertTo-FloatHex {
    param([Parameter(Mandatory)] [AllowEmptyCollection()] [Array] $Values)
    $bytes = [byte[]]::new($Values.Length * 4)
    if ($bytes.Length) { [Buffer]::BlockCopy($Values, 0, $bytes, 0, $bytes.Length) }
    [Convert]::ToHexString($bytes)
}

# One string holding the widths and the exact bits of every weight and bias of a model.
function Get-ModelFingerprint {
    param([Parameter(Mandatory)] $Model)
    $parts = [Collections.Generic.List[string]]::new()
    $parts.Add(($Model.Widths -join ','))
    for ($i = 0; $i -lt $Model.LayerCount; $i++) {
        $parts.Add('W' + (ConvertTo-FloatHex -Values $Model.GetWeight($i)))
        $parts.Add('B' + (ConvertTo-FloatHex -Values $Model.GetBias($i)))
    }
    $parts -join '|'
}

# A layer's weights as a flat row-major float[] (element [r, c] is at r * in + c).
function Get-FlatWeight {
    param([Parameter(Mandatory)] $Model, [Parameter(Mandatory)] [int] $Layer)
    $w = $Model.GetWeight($Layer)
    $flat = [float[]]::new($w.Length)
    if ($w.Length) { [Buffer]::BlockCopy($w, 0, $flat, 0, $w.Length * 4) }
    , $flat
}

# Every layer's weights and biases, copied (flat weights, biases, shapes).
function Get-ModelSnapshot {
    param([Parameter(Mandatory)] $Model)
    $layers = for ($i = 0; $i -lt $Model.LayerCount; $i++) {
        $w = $Model.GetWeight($i)
        [pscustomobject]@{
            Index = $i
            Out   = $w.GetLength(0)
            In    = $w.GetLength(1)
            W     = (Get-FlatWeight -Model $Model -Layer $i)
            B     = [float[]]$Model.GetBias($i)
        }
    }
    [pscustomobject]@{ Widths = [int[]]$Model.Widths; Layers = @($layers) }
}

function Get-NonZeroCount {
    param([Parameter(Mandatory)] [AllowEmptyCollection()] [Array] $Values)
    $n = 0
    foreach ($v in $Values) { if ($v -ne 0) { $n++ } }
    $n
}

# Indices of $Scores in ascending order, ties by index (the order the design ranks by).
function Get-StableOrder {
    param([Parameter(Mandatory)] [double[]] $Scores)
    $keys = [Tuple[double, int][]]::new($Scores.Length)
    for ($i = 0; $i -lt $Scores.Length; $i++) { $keys[$i] = [Tuple[double, int]]::new($Scores[$i], $i) }
    [Array]::Sort($keys)
    , [int[]]@($keys | ForEach-Object Item2)
}

# floor(fraction × n), computed in decimal like a person would (0.29 × 100 = 29).
function Get-FloorCount([double] $Fraction, [long] $N) { [long][Math]::Floor([decimal]$Fraction * $N) }

# Reads an internal member of a data set (TrainX, TrainY, TestX, TestY, Offset, Scale).
function Get-DatasetArray {
    param([Parameter(Mandatory)] $Dataset, [Parameter(Mandatory)] [string] $Name)
    $flags = [Reflection.BindingFlags]'Instance, Public, NonPublic'
    $p = $Dataset.GetType().GetProperty($Name, $flags)
    if (-not $p) { throw "SparsePrune.Dataset has no member '$Name'." }
    , $p.GetValue($Dataset)
}

function Get-Erf([double] $x) {
    # Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7).
    $sign = if ($x -lt 0) { -1.0 } else { 1.0 }
    $x = [Math]::Abs($x)
    $t = 1.0 / (1.0 + 0.3275911 * $x)
    $y = 1.0 - (((((1.061405429 * $t - 1.453152027) * $t) + 1.421413741) * $t - 0.284496736) * $t + 0.254829592) * $t * [Math]::Exp(-$x * $x)
    $sign * $y
}

function Invoke-Activation([double] $v, [string] $Activation) {
    switch ($Activation) {
        'ReLU' { [Math]::Max(0.0, $v) }
        'Tanh' { [Math]::Tanh($v) }
        'Sigmoid' { 1.0 / (1.0 + [Math]::Exp(-$v)) }
        'LeakyReLU' { if ($v -ge 0) { $v } else { 0.01 * $v } }
        'GELU' { 0.5 * $v * (1.0 + (Get-Erf ($v / [Math]::Sqrt(2.0)))) }
        default { throw "Unknown activation $Activation" }
    }
}

# The model's outputs for already-normalized input rows, computed in PowerShell (double
# precision) from GetWeight/GetBias: an independent forward pass.
function Invoke-ManualForward {
    param([Parameter(Mandatory)] $Model, [Parameter(Mandatory)] [object[]] $Rows)
    $snap = Get-ModelSnapshot $Model
    $act = "$($Model.Activation)"
    $last = $snap.Layers.Count - 1
    foreach ($row in $Rows) {
        $h = [double[]]$row
        foreach ($l in $snap.Layers) {
            $next = [double[]]::new($l.Out)
            for ($o = 0; $o -lt $l.Out; $o++) {
                $s = [double]$l.B[$o]
                $base = $o * $l.In
                for ($k = 0; $k -lt $l.In; $k++) { $s += [double]$l.W[$base + $k] * $h[$k] }
                $next[$o] = if ($l.Index -lt $last) { Invoke-Activation $s $act } else { $s }
            }
            $h = $next
        }
        , $h
    }
}

function Get-Softmax([double[]] $Logits) {
    $max = ($Logits | Measure-Object -Maximum).Maximum
    $e = @($Logits | ForEach-Object { [Math]::Exp($_ - $max) })
    $sum = ($e | Measure-Object -Sum).Sum
    , [double[]]@($e | ForEach-Object { $_ / $sum })
}

function Get-ArgMax([double[]] $Values) {
    $best = 0
    for ($i = 1; $i -lt $Values.Length; $i++) { if ($Values[$i] -gt $Values[$best]) { $best = $i } }
    $best
}

# Iris as PowerShell numbers: rows (double[] of the 4 features) and species, from the CSV.
function Get-IrisTable {
    $csv = Import-Csv (Join-Path $PSScriptRoot 'data/iris.csv')
    $names = @('sepal_length', 'sepal_width', 'petal_length', 'petal_width')
    [pscustomobject]@{
        Objects  = $csv
        Features = $names
        Rows     = @($csv | ForEach-Object { $r = $_; , [double[]]@($names | ForEach-Object { [double]::Parse($r.$_, [Globalization.CultureInfo]::InvariantCulture) }) })
        Species  = @($csv | ForEach-Object species)
    }
}

# Column means and population standard deviations of rows (double[] each).
function Get-ColumnStatistics {
    param([Parameter(Mandatory)] [object[]] $Rows)
    $f = $Rows[0].Length; $n = $Rows.Count
    $mean = [double[]]::new($f); $std = [double[]]::new($f)
    for ($j = 0; $j -lt $f; $j++) {
        $s = 0.0; foreach ($r in $Rows) { $s += $r[$j] }; $mean[$j] = $s / $n
        $q = 0.0; foreach ($r in $Rows) { $d = $r[$j] - $mean[$j]; $q += $d * $d }; $std[$j] = [Math]::Sqrt($q / $n)
    }
    [pscustomobject]@{ Mean = $mean; Std = $std }
}

# Runs $Action and returns the ErrorRecord it throws (or $null if it does not throw).
function Get-ThrownError {
    param([Parameter(Mandatory)] [scriptblock] $Action, [object[]] $ArgumentList = @())
    try { $null = & $Action @ArgumentList; $null }
    catch { $_ }
}

# Starts a fresh pwsh with the staged module imported, without waiting (several can run at
# once); Receive-FreshPwsh waits and returns what Invoke-InFreshPwsh returns. -BeforeImport runs
# before the module is imported (e.g. to load another module first).
function Start-FreshPwsh {
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{}, [string] $BeforeImport = '')
    $full = "`$ErrorActionPreference = 'Stop'; `$PSStyle.OutputRendering = 'PlainText'; $BeforeImport; Import-Module '$script:ModulePath'; $Script"
    $psi = [Diagnostics.ProcessStartInfo]::new($script:PwshCommand[0])
    foreach ($a in @($script:PwshCommand | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $full)) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = $Environment[$k] }
    $p = [Diagnostics.Process]::Start($psi)
    [pscustomobject]@{ Process = $p; Stdout = $p.StandardOutput.ReadToEndAsync(); Stderr = $p.StandardError.ReadToEndAsync() }
}

function Receive-FreshPwsh {
    param([Parameter(Mandatory, ValueFromPipeline)] $Started, [int] $TimeoutSeconds = 180)
    process {
        if (-not $Started.Process.WaitForExit($TimeoutSeconds * 1000)) {
            $Started.Process.Kill($true)
            throw "The fresh pwsh (process $($Started.Process.Id)) did not finish within $TimeoutSeconds s."
        }
        $Started.Process.WaitForExit()
        $text = $Started.Stdout.GetAwaiter().GetResult() + $Started.Stderr.GetAwaiter().GetResult()
        [pscustomobject]@{ ExitCode = $Started.Process.ExitCode; Output = @($text -split "\r?\n" | Where-Object { $_ -ne '' }) }
    }
}

# The neurons of a snapshot layer (Get-ModelSnapshot) that L1 neuron pruning to -Ratio keeps:
# all but the floor(Ratio x Out) rows of smallest L1 norm (ties by index), in index order.
function Get-KeptNeurons {
    param([Parameter(Mandatory)] $Layer, [Parameter(Mandatory)] [double] $Ratio)
    $norms = [double[]]::new($Layer.Out)
    for ($o = 0; $o -lt $Layer.Out; $o++) {
        $s = 0.0
        for ($k = 0; $k -lt $Layer.In; $k++) { $s += [Math]::Abs($Layer.W[$o * $Layer.In + $k]) }
        $norms[$o] = $s
    }
    [int[]]@((Get-StableOrder $norms) | Select-Object -Skip (Get-FloorCount $Ratio $Layer.Out) | Sort-Object)
}

# What a model file gives when it is read: identity, layers, baseline, history, exact weights and
# the predictions for the given rows; for .spmlp also the format version and, for a masked
# unquantized model, the weights with the masks lifted. Written to tests/data/*.expected.json by
# make-models-0.2.0.ps1 and compared by FormatCompatibility.Tests.ps1 with what the reader gives now.
function Get-ModelFileDescription {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [object[]] $Rows)
    $r = { param($v) if ($null -eq $v) { $null } else { ([double]$v).ToString('R', [cultureinfo]::InvariantCulture) } }
    $model = Import-Mlp $Path
    $predictions = @($Rows | Invoke-Mlp -Model $model)
    $d = [ordered]@{
        Name               = $model.Name
        Activation         = "$($model.Activation)"
        Task               = "$($model.Task)"
        Seed               = $model.Seed
        Widths             = @($model.Widths)
        FeatureNames       = @($model.FeatureNames)
        ClassNames         = @($model.ClassNames)
        InputNormalization = "$($model.InputNormalization)"
        Layers             = @($model.Layers | ForEach-Object {
                [ordered]@{ Stored = "$($_.Stored)"; Weights = $_.Weights; NonZeroWeights = $_.NonZeroWeights; Bits = $_.Bits; Quantization = $_.Quantization }
            })
        Baseline           = if ($model.Baseline) {
            [ordered]@{ Widths = @($model.Baseline.Widths); LayerWeights = @($model.Baseline.LayerWeights); MetricName = $model.Baseline.MetricName; Metric = & $r $model.Baseline.Metric }
        }
        History            = @($model.History | ForEach-Object {
                [ordered]@{
                    # the settings line: HistoryRecord.Parameters in 0.2.0; its typed Settings, whose text is that line, since issue 22
                    Step = $_.Step; Operation = $_.Operation; Time = $_.Time.ToString('o')
                    Parameters = if ($_.PSObject.Properties['Settings']) { "$($_.Settings)" } else { $_.Parameters }
                    WeightsBefore = $_.WeightsBefore; NonZeroBefore = $_.NonZeroBefore; WeightsAfter = $_.WeightsAfter; NonZeroAfter = $_.NonZeroAfter
                    MetricName = $_.MetricName; Metric = & $r $_.Metric; Note = $_.Note
                }
            })
        Fingerprint        = Get-ModelFingerprint $model
        Labels             = @($predictions.Label)
        # round-trip text; the test compares them as numbers, within 1e-6
        Probabilities      = @($predictions | ForEach-Object { ($_.Probabilities | ForEach-Object { $_.ToString('R', [cultureinfo]::InvariantCulture) }) -join ' ' })
    }
    if ($Path -like '*.spmlp') {
        $d.Version = [BitConverter]::ToUInt16([IO.File]::ReadAllBytes($Path), 8)
        # a quantized model refuses Set-Sparsity
        if (@($model.History | Where-Object Operation -EQ 'Sparsify').Count -and -not @($model.Layers | Where-Object Bits).Count) {
            $d.RestoredFingerprint = Get-ModelFingerprint (Copy-Mlp $model | Set-Sparsity 0)
        }
    }
    $d
}

# ---- helpers of the assertion tests (Assertions, AssertionsPesterVersions) ---------------------

# The share of the baseline's weights that are zero now (deleted ones are gone from GetWeight).
function Get-HandSparsity($Model, [int[]] $BaselineWidths) {
    $nonZero = 0; $baseline = 0
    for ($i = 0; $i -lt $Model.LayerCount; $i++) {
        $nonZero += Get-NonZeroCount -Values $Model.GetWeight($i)
        $baseline += $BaselineWidths[$i] * $BaselineWidths[$i + 1]
    }
    1 - $nonZero / $baseline
}
function Format-Value([double] $Value) { $Value.ToString('0.####', [cultureinfo]::InvariantCulture) }

# ---- helpers of the pruning run tests (Schedule, BudgetSearch, Sensitivity) --------------------

# The weights of each layer of a dense model of these widths.
function Get-LayerWeightCount([int[]] $W) { , [long[]]@(for ($i = 0; $i -lt $W.Count - 1; $i++) { [long]$W[$i] * $W[$i + 1] }) }

# Everything a failed or -WhatIf call must leave as it was.
function Get-ModelState($Model) {
    [pscustomobject]@{
        Print = Get-ModelFingerprint $Model; History = $Model.History.Count
        HasBaseline = $null -ne $Model.Baseline; Dataset = $Model.Dataset
    }
}
function Assert-ModelUnchanged($Model, $State) {
    Get-ModelFingerprint $Model | Should -BeExactly $State.Print -Because 'the weights and biases keep their bits'
    $Model.History.Count | Should -Be $State.History
    ($null -ne $Model.Baseline) | Should -Be $State.HasBaseline
    [object]::ReferenceEquals($Model.Dataset, $State.Dataset) | Should -BeTrue
}

# The validation split as the contract describes it: the first floor(n x fraction) rows of
# the train split in the order of a shuffle seeded with -Seed. SplitValidation is internal;
# its result is checked row by row against this recomputation.
function Get-ValidationSplit($Dataset, [double] $Fraction, [int] $Seed) {
    $flags = [Reflection.BindingFlags]'Instance, Public, NonPublic'
    $Dataset.GetType().GetMethod('SplitValidation', $flags).Invoke($Dataset, @($Fraction, $Seed))
}

function Get-Ratio([string] $Parameters) {
    if ($Parameters -notmatch '(?:^| )Ratio=([0-9.Ee-]+)') { throw "no Ratio= in '$Parameters'" }
    [double]::Parse($Matches[1], [cultureinfo]::InvariantCulture)
}

# The starting point of the pruning test files (Schedule, BudgetSearch, Sensitivity): Digits,
# Synthetic, the widths, a model trained a few epochs that the tests copy (Copy-Mlp) before
# changing it, and the invariant culture.
function Get-PruningFixture {
    $digits = Get-Dataset Digits
    $widths = 64, 32, 16, 10
    $trained = New-Mlp -Layers $widths -Seed 1 | Invoke-Training -Dataset $digits -Epochs 5 -Seed 1
    $digits, (Get-Dataset Synthetic), $widths, $trained, [Globalization.CultureInfo]::InvariantCulture
}

# Runs a Python script that writes PyTorch files and their manifest.json into $Work, with
# Debian's /usr/bin/python3 when it can import torch. Gives the manifest (null when torch is
# missing or the script wrote none) and what the script printed, for a test's message.
function Invoke-TorchGenerator([string] $Script, [string] $Work, [string[]] $Arguments) {
    $result = @{ Manifest = $null; Output = $null }
    if (-not (Test-Path /usr/bin/python3)) { return $result }
    & /usr/bin/python3 -c 'import torch, torch.onnx' 2>$null
    if ($LASTEXITCODE -ne 0) { return $result }
    $py = Join-Path $Work 'generate.py'
    Set-Content -Path $py -Value $Script -Encoding utf8NoBOM
    $result.Output = (& /usr/bin/python3 $py @Arguments 2>&1) -join "`n"
    $manifestPath = Join-Path $Work 'manifest.json'
    if (Test-Path $manifestPath) { $result.Manifest = Get-Content -Raw $manifestPath | ConvertFrom-Json -AsHashtable }
    $result
}

# The worker processes this process started that are still running: a killed one that has
# exited but is not yet reaped (state Z, <defunct>) has ended and is not counted.
function Get-ChildPwsh {
    if (-not $IsLinux) { return @() }
    @(& ps -o pid=,stat=,args= --ppid $PID 2>$null | Where-Object { $_ -match 'pwsh' -and $_ -notmatch '^\s*\d+\s+Z' })
}
