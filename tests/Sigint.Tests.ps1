# Ctrl+C for real: a child pwsh running long work gets SIGINT, as a terminal's Ctrl+C sends it.
# It must end promptly, run its finally blocks, and leave a model that exports, loads, predicts
# and says in its History where it stopped; a sweep must also end its worker processes.
BeforeDiscovery {
    $script:Cases = @(
        @{ Case = 'Training'; Work = '$null = $model | Invoke-Training -Dataset $data -Epochs 100000 -BatchSize 16 -Seed 2'; Expect = 'Train'; Note = 'stopped in epoch *' }
        @{ Case = 'Gradual'; Work = '$null = $model | Invoke-Pruning -Dataset $data -Ratio 0.9 -Schedule Gradual -Epochs 100000 -BatchSize 16'; Expect = 'GradualPrune'; Note = '*stopped in epoch *' }
        @{ Case = 'Budget'; Work = '$null = $model | Invoke-Pruning -Dataset $data -MaxAccuracyDrop 0.01 -Scope Layer -FineTuneEpochs 2000 -BatchSize 16'; Expect = 'Stop'; Note = '*Ctrl+C*' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force

    # Starts the child on $Work, waits until the work has begun, sends SIGINT; returns what it left.
    function script:Invoke-InterruptedChild([string] $Name, [string] $Work, [int] $SettleSeconds = 2) {
        $out = Join-Path $TestDrive $Name
        New-Item -ItemType Directory $out | Out-Null
        $script = Join-Path $out 'child.ps1'
        Set-Content $script @"
`$ErrorActionPreference = 'Stop'
Import-Module '$script:ModulePath'
`$data = Get-Dataset Digits
`$model = New-Mlp -Layers 64, 256, 128, 10 -Seed 3 | Invoke-Training -Dataset `$data -Epochs 1 -Seed 1
try {
    Set-Content '$out/started' 'yes'
    $Work
    Set-Content '$out/finished' 'not stopped'
}
finally {
    `$model | Export-Mlp -Path '$out/model.spmlp' -Force
    Set-Content '$out/cleaned-up' 'yes'
}
"@
        # Through env --default-signal: a suite started in the background of a shell without job
        # control inherits SIGINT ignored, and so would the child, which Ctrl+C could not stop.
        $psi = [Diagnostics.ProcessStartInfo]::new('env')
        foreach ($a in @('--default-signal=INT') + $script:PwshCommand + @('-NoProfile', '-NonInteractive', '-File', $script)) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $child = [Diagnostics.Process]::Start($psi)
        try {
            $wait = [Diagnostics.Stopwatch]::StartNew()
            while (-not (Test-Path "$out/started") -and -not $child.HasExited -and $wait.Elapsed.TotalSeconds -lt 120) { Start-Sleep -Milliseconds 100 }
            Start-Sleep -Seconds $SettleSeconds
            # The processes the child started (a sweep's workers), to check none outlives it.
            $children = @(& ps -o pid= --ppid $child.Id 2>$null | ForEach-Object { [int]"$_".Trim() })
            $clock = [Diagnostics.Stopwatch]::StartNew()
            & kill -s INT $child.Id
            $exited = $child.WaitForExit(60000)
            [pscustomobject]@{
                Exited = $exited; Seconds = $clock.Elapsed.TotalSeconds; Folder = $out; Children = $children
                Errors = $(if ($exited) { $child.StandardError.ReadToEnd() })
            }
        }
        finally { if (-not $child.HasExited) { $child.Kill($true) } }
    }
}

Describe 'SIGINT to a pwsh running <Case>' -ForEach $Cases -Skip:(-not $IsLinux) {
    BeforeAll { $script:Result = Invoke-InterruptedChild $Case $Work }

    It 'ends within seconds, its finally block run and the work not finished' {
        $Result.Exited | Should -BeTrue -Because 'a stopped pipeline ends the script'
        $Result.Seconds | Should -BeLessThan 30
        Test-Path (Join-Path $Result.Folder 'cleaned-up') | Should -BeTrue
        Test-Path (Join-Path $Result.Folder 'finished') | Should -BeFalse
    }

    It 'leaves a model that exports, loads and predicts, its History saying where it stopped' {
        $model = Import-Mlp (Join-Path $Result.Folder 'model.spmlp')
        $last = @($model.History)[-1]
        $last.Operation | Should -Be $Expect
        $last.Note | Should -BeLike $Note
        $p = Invoke-Mlp -Model $model -InputObject (@(1..64 | ForEach-Object { ($_ % 5) / 5.0 }))
        $p.Probabilities.Count | Should -Be 10
        ($p.Probabilities | Measure-Object -Sum).Sum | Should -BeGreaterThan 0.99
    }
}

Describe 'SIGINT to a pwsh running a sweep over worker processes' -Skip:(-not $IsLinux) {
    BeforeAll {
        # Points of thousands of epochs: both workers are mid-point when the signal comes (after
        # the few seconds the workers take to start and receive the model).
        $work = '$null = $model | Invoke-PruningSweep -Dataset $data -ThrottleLimit 2 -ResultPath (New-Item -ItemType Directory "' + '$' + 'PSScriptRoot/results").FullName -Grid @{ Ratio = 0.3, 0.5, 0.7, 0.9; FineTuneEpochs = 100000 }'
        $script:Result = Invoke-InterruptedChild 'Sweep' $work -SettleSeconds 8
    }

    It 'ends within seconds, its finally block run and the sweep not finished' {
        $Result.Exited | Should -BeTrue
        $Result.Seconds | Should -BeLessThan 30
        Test-Path (Join-Path $Result.Folder 'cleaned-up') | Should -BeTrue
        Test-Path (Join-Path $Result.Folder 'finished') | Should -BeFalse
    }

    It 'had two worker processes, and leaves none behind' {
        $Result.Children.Count | Should -Be 2 -Because 'the sweep ran two workers when the signal came'
        $alive = @($Result.Children | Where-Object { Get-Process -Id $_ -ErrorAction Ignore })
        $alive | Should -BeNullOrEmpty -Because 'a stopped sweep ends its workers'
    }

    It 'leaves no partial result file, and the model it swept from as it was' {
        @(Get-ChildItem (Join-Path $Result.Folder 'results') -Force | Where-Object Name -NotLike 'point-*.json') | Should -BeNullOrEmpty
        $model = Import-Mlp (Join-Path $Result.Folder 'model.spmlp')
        @($model.History)[-1].Operation | Should -Be 'Train'
        @($model.History)[-1].Note | Should -Not -BeLike '*stopped*'
    }
}
