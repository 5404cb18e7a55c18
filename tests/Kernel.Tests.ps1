# Sparse execution through the cmdlets: Measure-Mlp -Latency, Optimize-Mlp, the Kernel column,
# and predictions through the sparse kernel that stay those of the dense path.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Digits = Get-Dataset Digits -Seed 3
}

Describe 'Measure-Mlp -Latency' {
    It 'gives one row per batch size with the median, the runs, the threads and each layer''s kernel' {
        $m = New-Mlp 64, 32, 10 -Seed 1
        $rows = @($m | Measure-Mlp -Latency -BatchSize 1, 8, 32 -Repeat 6 -Warmup 1)
        $rows.Count | Should -Be 3
        $rows.BatchSize | Should -Be @(1, 8, 32)
        foreach ($r in $rows) {
            $r | Should -BeOfType SparsePrune.LatencyMeasurement
            $r.Runs | Should -Be 6
            $r.MedianMs | Should -BeGreaterThan 0
            $r.MinMs | Should -Not -BeGreaterThan $r.MedianMs
            $r.Threads | Should -BeGreaterThan 0
            $r.Kernels | Should -Be @('Dense', 'Dense')
            $r.RowsPerSecond | Should -BeGreaterThan 0
        }
    }

    It 'needs no data set, and the rows convert to CSV and JSON' {
        $m = New-Mlp 5, 4, 1 -Seed 2
        $rows = @($m | Measure-Mlp -Latency -BatchSize 2 -Repeat 3)
        ($rows | ConvertTo-Csv | ConvertFrom-Csv).BatchSize | Should -Be '2'
        ($rows | ConvertTo-Json | ConvertFrom-Json).Runs | Should -Be 3
    }

    It 'refuses a batch size of 0 with a terminating error and the host keeps running' {
        $m = New-Mlp 5, 4, 1 -Seed 2
        $e = Get-ThrownError { $m | Measure-Mlp -Latency -BatchSize 0 }
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidBatchSize*'
        $e.Exception.Message | Should -Match '65536'
    }
}

Describe 'Optimize-Mlp and the sparse kernel' {
    BeforeAll {
        $script:Pruned = New-Mlp 64, 96, 48, 10 -Seed 5 | Invoke-Training -Dataset $Digits -Epochs 2 -Seed 1 |
            Invoke-Pruning -Ratio 0.95
    }

    It 'predicts through the sparse kernel what the dense path predicts, within 1e-5' {
        $rows = @(, [double[]](1..64 | ForEach-Object { ($_ % 7) - 3 })) + @(, [double[]](1..64 | ForEach-Object { ($_ % 5) * 0.5 }))
        $Pruned | Optimize-Mlp -Kernel Sparse | Out-Null
        @($Pruned.Layers.Kernel) | Should -Be @('Sparse', 'Sparse', 'Sparse')
        $sparse = @($rows | Invoke-Mlp -Model $Pruned)
        $Pruned | Optimize-Mlp -Kernel Dense | Out-Null
        @($Pruned.Layers.Kernel) | Should -Be @('Dense', 'Dense', 'Dense')
        $dense = @($rows | Invoke-Mlp -Model $Pruned)
        for ($i = 0; $i -lt 2; $i++) {
            $sparse[$i].Label | Should -Be $dense[$i].Label
            for ($c = 0; $c -lt 10; $c++) { [math]::Abs($sparse[$i].Probabilities[$c] - $dense[$i].Probabilities[$c]) | Should -BeLessThan 1e-5 }
        }
    }

    It 'times every sparse layer at -BatchSize, keeps the faster kernel and records it in the history' {
        $m = $Pruned | Copy-Mlp
        $out = $m | Optimize-Mlp -BatchSize 4 -Repeat 3 -Verbose 4>&1
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'layer *' })
        $verbose.Count | Should -Be 3
        $verbose[0].Message | Should -Match 'layer 0 \(64x96, density \d+(\.\d+)? %\): dense [\d.]+ ms, sparse [\d.]+ ms at batch 4 -> (Dense|Sparse)'
        foreach ($v in $verbose) {
            $v.Message -match 'dense ([\d.]+) ms, sparse ([\d.]+) ms at batch 4 -> (\w+)' | Should -BeTrue
            # The message rounds to 0.001 ms: equal figures say nothing about which was faster.
            if ([double]$Matches[2] -ne [double]$Matches[1]) {
                $expected = if ([double]$Matches[2] -lt [double]$Matches[1]) { 'Sparse' } else { 'Dense' }
                $Matches[3] | Should -Be $expected
            }
        }
        $last = $m.History[-1]
        $last.Operation | Should -Be 'Optimize'
        $last.Settings.ToString() | Should -Be 'BatchSize=4'
        $m.Layers.Kernel | Should -Not -Contain 'Auto'
    }

    It 'changes nothing under -WhatIf' {
        $m = $Pruned | Copy-Mlp
        $m | Optimize-Mlp -Kernel Sparse | Out-Null
        $steps = $m.History.Count
        $m | Optimize-Mlp -Kernel Dense -WhatIf | Out-Null
        $m.Layers.Kernel | Should -Be @('Sparse', 'Sparse', 'Sparse')
        $m.History.Count | Should -Be $steps
    }

    It 'warns that a model with no sparse layer runs dense' {
        $m = New-Mlp 8, 4, 2 -Seed 1
        $null = $m | Optimize-Mlp -BatchSize 2 -Repeat 2 -WarningVariable w -WarningAction SilentlyContinue
        $w | Should -Match 'no layer stored sparse'
        $m.Layers.Kernel | Should -Be @('Dense', 'Dense')
    }

    It 'keeps the kernel through Copy-Mlp and measures latency through it' {
        $m = $Pruned | Copy-Mlp
        $m | Optimize-Mlp -Kernel Sparse | Out-Null
        $r = $m | Measure-Mlp -Latency -BatchSize 1 -Repeat 3
        $r.Kernels | Should -Be @('Sparse', 'Sparse', 'Sparse')
        ($m | Copy-Mlp).Layers.Kernel | Should -Be @('Sparse', 'Sparse', 'Sparse')
    }

    It 'keeps the kernel through Export-Mlp and Import-Mlp' {
        $m = $Pruned | Copy-Mlp
        $m | Optimize-Mlp -Kernel Sparse | Out-Null
        $path = Join-Path $TestDrive 'kernel.spmlp'
        $m | Export-Mlp $path
        (Import-Mlp $path).Layers.Kernel | Should -Be @('Sparse', 'Sparse', 'Sparse')
        $m | Optimize-Mlp -Kernel Auto | Export-Mlp $path -Force
        (Import-Mlp $path).Layers.Kernel | Should -Be @('Auto', 'Auto', 'Auto')
    }
}

Describe 'The dense kernels on a narrower instruction set (SPARSEPRUNE_GEMM)' {
    # A CPU without AVX-512 (or without AVX2) takes the narrower kernels; here they are forced
    # in fresh processes and must predict what the widest path predicts, to float rounding.
    BeforeAll {
        $script:Probe = @'
$m = New-Mlp -Layers 64,96,48,10 -Seed 3
$rows = [System.Collections.Generic.List[double[]]]::new()
$rng = [Random]::new(5)
foreach ($i in 1..40) { $rows.Add([double[]]@(foreach ($j in 1..64) { $rng.NextDouble() * 16 })) }
$p = @(Invoke-Mlp $m -InputObject $rows.ToArray())
($p | ForEach-Object { ($_.Probabilities | ForEach-Object { $_.ToString('R', [cultureinfo]::InvariantCulture) }) -join ' ' }) -join ';'
'@
        function script:Get-Probabilities([string] $Path) {
            $r = Invoke-InFreshPwsh -Script $Probe -Environment @{ SPARSEPRUNE_GEMM = $Path }
            $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
            @(($r.Output[-1] -split ';') | ForEach-Object { , [double[]]($_ -split ' ') })
        }
        $script:Widest = Get-Probabilities ''
    }

    It 'predicts what the widest path predicts with SPARSEPRUNE_GEMM=<Path>' -ForEach @(@{ Path = 'vector256' }, @{ Path = 'scalar' }) {
        $narrow = Get-Probabilities $Path
        $narrow.Count | Should -Be 40
        for ($i = 0; $i -lt 40; $i++) {
            for ($k = 0; $k -lt 10; $k++) { [Math]::Abs($narrow[$i][$k] - $Widest[$i][$k]) | Should -BeLessOrEqual 1e-6 -Because "row $i, class $k" }
        }
    }
}
