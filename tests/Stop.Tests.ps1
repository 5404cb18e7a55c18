# Ctrl+C: stopping a pipeline that trains ends it within seconds and leaves a usable model
# whose history says it was stopped.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
}

Describe 'Stopping Invoke-Training (Ctrl+C)' {
    BeforeAll {
        $script:Data = Get-Dataset Digits
        $script:Model = New-Mlp 64, 256, 128, 10 -Seed 3
        $script:Initial = Get-ModelFingerprint $Model

        # A second runspace in this process, like a console pipeline; .Stop() is what Ctrl+C does.
        $script:Shell = [powershell]::Create()
        $null = $Shell.AddScript({
                param($ModulePath, $Model, $Data)
                Import-Module $ModulePath
                $Model | Invoke-Training -Dataset $Data -Epochs 100000 -BatchSize 16 -Seed 1
            }).AddArgument($script:ModulePath).AddArgument($Model).AddArgument($Data)
        $script:Handle = $Shell.BeginInvoke()

        # wait until training reports progress (it has really started), at most 60 s
        $wait = [Diagnostics.Stopwatch]::StartNew()
        while ($Shell.Streams.Progress.Count -eq 0 -and -not $Handle.IsCompleted -and $wait.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 100 }
        $script:StartedBeforeStop = $Shell.Streams.Progress.Count -gt 0
        Start-Sleep -Milliseconds 500

        $clock = [Diagnostics.Stopwatch]::StartNew()
        $Shell.Stop()
        $script:StopSeconds = $clock.Elapsed.TotalSeconds
        $script:State = $Shell.InvocationStateInfo.State
        $script:Warnings = @($Shell.Streams.Warning)
        $script:Errors = @($Shell.Streams.Error)
    }

    AfterAll {
        if ($Shell) { $Shell.Dispose() }
    }

    It 'had started training before it was stopped' {
        $StartedBeforeStop | Should -BeTrue -Because 'a progress record shows the training loop is running'
    }

    It 'stops within a few seconds' {
        $StopSeconds | Should -BeLessThan 10
        "$State" | Should -Be 'Stopped'
        $Handle.IsCompleted | Should -BeTrue
    }

    It 'leaves a history record saying the training was stopped' {
        $Model.History.Count | Should -Be 1
        $Model.History[-1].Operation | Should -Be 'Train'
        $Model.History[-1].Note | Should -Match 'stopped'
    }

    It 'leaves a model that still works: Invoke-Mlp, Measure-Mlp, Set-Sparsity, Export-Mlp' {
        $Model.Dataset.Name | Should -Be 'Digits'
        Get-ModelFingerprint $Model | Should -Not -Be $Initial -Because 'the finished batches changed the weights'
        foreach ($i in 0..2) { foreach ($v in $Model.GetWeight($i)) { if ([float]::IsNaN($v) -or [float]::IsInfinity($v)) { throw "layer $i holds $v" } } }
        $row = [double[]]::new(64)
        @(Invoke-Mlp -Model $Model -InputObject $row).Count | Should -Be 1
        $m = Measure-Mlp $Model -Repeat 3
        $m.Accuracy | Should -BeGreaterThan 0.2 -Because 'some training happened'
        $m.LatencyMs | Should -BeGreaterThan 0
        $null = $Model | Set-Sparsity 0.5
        $Model.Sparsity | Should -BeGreaterThan 0.49
        $Model | Export-Mlp (Join-Path $TestDrive 'stopped.spmlp')
        (Import-Mlp (Join-Path $TestDrive 'stopped.spmlp')).History[0].Note | Should -Match 'stopped'
    }

    It 'can be trained again afterwards' {
        $before = $Model.History.Count
        $null = $Model | Invoke-Training -Epochs 1 -Seed 2
        $Model.History.Count | Should -Be ($before + 1)
        $Model.History[-1].Note | Should -BeNullOrEmpty
    }
}

Describe 'Stopping Invoke-Training while it writes a progress record after every batch' {
    # One batch an epoch: every batch ends with a progress record, so Ctrl+C nearly always lands
    # between the check of the stop flag and Write-Progress. The finished epochs must be kept.
    It 'keeps the finished batches and records the stop (run <Run>)' -ForEach @(@{ Run = 1 }, @{ Run = 2 }, @{ Run = 3 }) {
        $data = Get-Dataset Digits
        $model = New-Mlp 64, 512, 512, 10 -Seed $Run
        $initial = Get-ModelFingerprint $model
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript({
                    param($ModulePath, $Model, $Data)
                    Import-Module $ModulePath
                    $Model | Invoke-Training -Dataset $Data -Epochs 100000 -BatchSize 2048 -Seed 1
                }).AddArgument($script:ModulePath).AddArgument($model).AddArgument($data)
            $handle = $shell.BeginInvoke()
            $wait = [Diagnostics.Stopwatch]::StartNew()
            while ($shell.Streams.Progress.Count -lt 3 -and -not $handle.IsCompleted -and $wait.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 20 }
            $shell.Stop()
            "$($shell.InvocationStateInfo.State)" | Should -Be 'Stopped'
            $model.History.Count | Should -Be 1 -Because 'the stop is recorded, not undone'
            $model.History[0].Note | Should -Match 'stopped in epoch'
            Get-ModelFingerprint $model | Should -Not -Be $initial -Because 'the finished epochs are kept'
        }
        finally { $shell.Dispose() }
    }
}

Describe 'Stopping the long paths of Invoke-Pruning and Measure-LayerSensitivity (Ctrl+C)' {
    BeforeAll {
        $script:Digits = Get-Dataset Digits
        $script:Trained = New-Mlp 64, 128, 64, 10 -Seed 5 | Invoke-Training -Dataset $Digits -Epochs 2 -Seed 1

        # Runs $Script on a copy of the trained model in a second runspace, stops it (what Ctrl+C
        # does) once it has written $Records progress records, and returns what a user would see.
        # $Arguments reaches the script as a fourth argument.
        function script:Invoke-AndStop([scriptblock] $Script, [int] $Records = 2, [hashtable] $Arguments = @{}) {
            $model = $Trained | Copy-Mlp
            $before = [pscustomobject]@{ Print = Get-ModelFingerprint $model; History = $model.History.Count }
            $shell = [powershell]::Create()
            try {
                $null = $shell.AddScript($Script).AddArgument($script:ModulePath).AddArgument($model).AddArgument($Digits).AddArgument($Arguments)
                $handle = $shell.BeginInvoke()
                $wait = [Diagnostics.Stopwatch]::StartNew()
                while ($shell.Streams.Progress.Count -lt $Records -and -not $handle.IsCompleted -and $wait.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 20 }
                $started = $shell.Streams.Progress.Count -ge $Records -and -not $handle.IsCompleted
                $clock = [Diagnostics.Stopwatch]::StartNew()
                $shell.Stop()
                [pscustomobject]@{
                    Model = $model; Before = $before; Started = $started; StopSeconds = $clock.Elapsed.TotalSeconds
                    State = "$($shell.InvocationStateInfo.State)"
                }
            }
            finally { $shell.Dispose() }
        }

        # The model works after a stop: predictions, metric, a further step and a file.
        function script:Assert-Usable($Model) {
            foreach ($i in 0..($Model.Layers.Count - 1)) { foreach ($v in $Model.GetWeight($i)) { if ([float]::IsNaN($v) -or [float]::IsInfinity($v)) { throw "layer $i holds $v" } } }
            @(Invoke-Mlp -Model $Model -InputObject ([double[]]::new(64))).Count | Should -Be 1
            (Measure-Mlp $Model -Repeat 1).Accuracy | Should -BeGreaterThan 0.1
            $null = $Model | Set-Sparsity 0.1
            $Model | Export-Mlp (Join-Path $TestDrive "stopped-$([guid]::NewGuid()).spmlp")
        }
    }

    It 'a budget search: stops within seconds, leaves the model as it was and its history says so' {
        $r = Invoke-AndStop {
            param($ModulePath, $Model, $Data)
            Import-Module $ModulePath
            $Model | Invoke-Pruning -MaxAccuracyDrop 0.01 -Scope Global -FineTuneEpochs 200 -Dataset $Data
        }
        $r.Started | Should -BeTrue -Because 'the search had reported progress before the stop'
        $r.State | Should -Be 'Stopped'
        $r.StopSeconds | Should -BeLessThan 10
        Get-ModelFingerprint $r.Model | Should -BeExactly $r.Before.Print -Because 'the tries run on copies'
        $r.Model.History.Count | Should -Be ($r.Before.History + 1)
        $r.Model.History[-1].Operation | Should -Be 'Stop'
        $r.Model.History[-1].Note | Should -Match 'stopped'
        Assert-Usable $r.Model
    }

    It 'a sensitivity scan: stops within seconds and leaves the model and its history as they were' {
        $r = Invoke-AndStop {
            param($ModulePath, $Model, $Data)
            Import-Module $ModulePath
            Measure-LayerSensitivity $Model -Dataset $Data -Ratio (1..99 | ForEach-Object { $_ / 100 }) -Structure Connection
        }
        $r.Started | Should -BeTrue
        $r.State | Should -Be 'Stopped'
        $r.StopSeconds | Should -BeLessThan 10
        Get-ModelFingerprint $r.Model | Should -BeExactly $r.Before.Print
        $r.Model.History.Count | Should -Be $r.Before.History -Because 'a scan does not change the model, so it records nothing'
        Assert-Usable $r.Model
    }

    It 'gradual pruning: keeps what it pruned so far, and the history says where it stopped' {
        $r = Invoke-AndStop -Records 4 {
            param($ModulePath, $Model, $Data)
            Import-Module $ModulePath
            $Model | Invoke-Pruning -Schedule Gradual -Ratio 0.9 -Epochs 500 -UpdateEvery 5 -Dataset $Data -Seed 2
        }
        $r.Started | Should -BeTrue
        $r.State | Should -Be 'Stopped'
        $r.StopSeconds | Should -BeLessThan 10
        $r.Model.History[-1].Operation | Should -Be 'GradualPrune'
        $r.Model.History[-1].Note | Should -Match 'stopped in epoch'
        $r.Model.Weights | Should -BeLessThan $r.Model.Baseline.Weights -Because 'the updates before the stop pruned'
        Assert-Usable $r.Model
    }

    It '<Schedule>: the weights stay masked at the last target reached, and the history says where it stopped' -ForEach @(
        @{ Schedule = 'Gradual -Regrow'; Operation = 'GradualPrune'; Arguments = @{ Schedule = 'Gradual'; Regrow = $true } }
        @{ Schedule = 'RigL'; Operation = 'RigLPrune'; Arguments = @{ Schedule = 'RigL' } }
    ) {
        $r = Invoke-AndStop -Records 4 -Arguments $Arguments {
            param($ModulePath, $Model, $Data, $Arguments)
            Import-Module $ModulePath
            $Model | Invoke-Pruning @Arguments -Ratio 0.9 -Scope ERK -Epochs 500 -UpdateEvery 5 -Dataset $Data -Seed 2
        }
        $r.Started | Should -BeTrue
        $r.State | Should -Be 'Stopped'
        $r.StopSeconds | Should -BeLessThan 10
        $r.Model.History[-1].Operation | Should -Be $Operation
        $r.Model.History[-1].Note | Should -Match 'stopped in epoch'
        $r.Model.Weights | Should -Be $r.Model.Baseline.Weights -Because 'regrowing schedules mask until their end; a stop deletes nothing'
        ($r.Model.Layers.NonZeroWeights | Measure-Object -Sum).Sum | Should -BeLessThan $r.Model.Baseline.Weights -Because 'the updates before the stop masked weights'
        Assert-Usable $r.Model
    }

    It 'quantization: keeps the shared values, and the history says the fine-tuning was stopped' {
        $r = Invoke-AndStop -Records 3 {
            param($ModulePath, $Model, $Data)
            Import-Module $ModulePath
            $Model | Invoke-Quantization -Bits 3 -FineTuneEpochs 500 -Dataset $Data -Seed 2
        }
        $r.Started | Should -BeTrue
        $r.State | Should -Be 'Stopped'
        $r.StopSeconds | Should -BeLessThan 10
        $r.Model.History[-2].Operation | Should -Be 'Quantize'
        $r.Model.History[-1].Operation | Should -Be 'FineTune'
        $r.Model.History[-1].Note | Should -Match 'stopped'
        @($r.Model.GetWeight(0) | Where-Object { $_ -ne 0 } | Sort-Object -Unique).Count | Should -BeLessOrEqual 8 -Because 'the sharing holds at the stop'
        foreach ($i in 0..($r.Model.Layers.Count - 1)) { foreach ($v in $r.Model.GetWeight($i)) { if ([float]::IsNaN($v)) { throw "layer $i holds NaN" } } }
        @(Invoke-Mlp -Model $r.Model -InputObject ([double[]]::new(64))).Count | Should -Be 1
    }

    It 'a lottery ticket: keeps the finished round, and the history says the fine-tuning was stopped' {
        $r = Invoke-AndStop -Records 3 {
            param($ModulePath, $Model, $Data)
            Import-Module $ModulePath
            $Model | Invoke-Pruning -Schedule LotteryTicket -Ratio 0.8 -Steps 3 -FineTuneEpochs 500 -Dataset $Data -Seed 2
        }
        $r.Started | Should -BeTrue
        $r.State | Should -Be 'Stopped'
        $r.StopSeconds | Should -BeLessThan 10
        $ops = @($r.Model.History | ForEach-Object Operation)
        $ops | Should -Contain 'Prune'
        $ops | Should -Contain 'Rewind'
        $r.Model.History[-1].Operation | Should -Be 'FineTune'
        $r.Model.History[-1].Note | Should -Match 'stopped'
        Assert-Usable $r.Model
    }
}
