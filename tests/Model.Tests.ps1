# New-Mlp, Copy-Mlp, Invoke-Training: shapes, initialization, seeds, copies, optimizers, L1.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Synthetic = Get-Dataset Synthetic
    $script:Digits = Get-Dataset Digits
}

Describe 'New-Mlp' {
    It 'builds the layers named by -Layers <Widths>, input first' -ForEach @(
        @{ Widths = @(10, 5, 3, 1) }
        @{ Widths = @(64, 128, 64, 10) }
        @{ Widths = @(4, 2) }
    ) {
        $m = New-Mlp -Layers $Widths -Seed 1
        $m | Should -BeOfType SparsePrune.Mlp
        ($m.Widths -join ',') | Should -Be ($Widths -join ',')
        $m.LayerCount | Should -Be ($Widths.Count - 1)
        $m.Layers.Count | Should -Be ($Widths.Count - 1)
        $expectedWeights = 0; $expectedParameters = 0
        for ($i = 0; $i -lt $Widths.Count - 1; $i++) {
            $row = $m.Layers[$i]
            $row.Index | Should -Be $i
            $row.InFeatures | Should -Be $Widths[$i]
            $row.OutFeatures | Should -Be $Widths[$i + 1]
            $row.Weights | Should -Be ($Widths[$i] * $Widths[$i + 1])
            $row.NonZeroWeights | Should -Be (Get-NonZeroCount -Values $m.GetWeight($i))
            "$($row.Stored)" | Should -Be 'Dense'
            $w = $m.GetWeight($i)
            $w.GetLength(0) | Should -Be $Widths[$i + 1]
            $w.GetLength(1) | Should -Be $Widths[$i]
            $m.GetBias($i).Length | Should -Be $Widths[$i + 1]
            $expectedWeights += $Widths[$i] * $Widths[$i + 1]
            $expectedParameters += $Widths[$i] * $Widths[$i + 1] + $Widths[$i + 1]
        }
        $m.Weights | Should -Be $expectedWeights
        $m.Parameters | Should -Be $expectedParameters
        $m.Sparsity | Should -Be 0
        $m.History.Count | Should -Be 0
        $m.Baseline | Should -BeNullOrEmpty
    }

    It 'takes the widths positionally and infers the task from the last width' {
        (New-Mlp 10, 5, 1).Task | Should -Be 'Regression'
        (New-Mlp 10, 5, 3).Task | Should -Be 'Classification'
        (New-Mlp 10, 5, 1 -Task Regression).Task | Should -Be 'Regression'
        (New-Mlp 4, 3 -Task Classification).Task | Should -Be 'Classification'
    }

    It 'uses -Name and -Activation, defaulting to ReLU' {
        $m = New-Mlp 4, 3 -Name 'my-net' -Activation Tanh
        $m.Name | Should -Be 'my-net'
        "$($m.Activation)" | Should -Be 'Tanh'
        "$((New-Mlp 4, 3).Activation)" | Should -Be 'ReLU'
    }

    It 'draws weights and biases from U(-1/sqrt(fan_in), 1/sqrt(fan_in))' {
        $m = New-Mlp 64, 32, 10 -Seed 3
        for ($i = 0; $i -lt 2; $i++) {
            $bound = 1.0 / [Math]::Sqrt($m.Widths[$i])
            $w = Get-FlatWeight $m $i
            $stats = $w | Measure-Object -Minimum -Maximum -Average
            $stats.Maximum | Should -BeLessOrEqual $bound
            $stats.Minimum | Should -BeGreaterOrEqual (-$bound)
            # spread over the interval, centred
            $stats.Maximum | Should -BeGreaterThan (0.8 * $bound)
            $stats.Minimum | Should -BeLessThan (-0.8 * $bound)
            [Math]::Abs($stats.Average) | Should -BeLessThan (0.2 * $bound)
            foreach ($b in $m.GetBias($i)) { [Math]::Abs($b) | Should -BeLessOrEqual $bound }
        }
    }

    It 'gives identical weights for the same -Seed and different ones for another seed' {
        $a = Get-ModelFingerprint (New-Mlp 10, 8, 1 -Seed 42)
        $b = Get-ModelFingerprint (New-Mlp 10, 8, 1 -Seed 42)
        $c = Get-ModelFingerprint (New-Mlp 10, 8, 1 -Seed 43)
        $a | Should -BeExactly $b
        $a | Should -Not -Be $c
        (New-Mlp 10, 8, 1 -Seed 42).Seed | Should -Be 42
    }

    It 'emits one model per call into the pipeline' {
        $out = @(New-Mlp 3, 2)
        $out.Count | Should -Be 1
    }
}

Describe 'Copy-Mlp' {
    BeforeAll {
        $script:Original = New-Mlp 10, 16, 8, 1 -Seed 5 | Invoke-Training -Dataset $Synthetic -Epochs 1 -Seed 1
        $script:OriginalPrint = Get-ModelFingerprint $Original
        $script:OriginalHistory = $Original.History.Count
    }

    It 'makes an equal but separate object' {
        $copy = Copy-Mlp $Original
        [object]::ReferenceEquals($copy, $Original) | Should -BeFalse
        Get-ModelFingerprint $copy | Should -BeExactly $OriginalPrint
        $copy.History.Count | Should -Be $OriginalHistory
        $copy.Name | Should -Be $Original.Name
        (Copy-Mlp $Original -Name 'twin').Name | Should -Be 'twin'
    }

    It 'leaves the original unchanged when the copy is <What>' -ForEach @(
        @{ What = 'sparsified'; Change = { param($c) $c | Set-Sparsity -Sparsity 0.7 } }
        @{ What = 'trained'; Change = { param($c) $c | Invoke-Training -Epochs 1 -Seed 2 } }
        @{ What = 'pruned (connections)'; Change = { param($c) $c | Invoke-Pruning -Ratio 0.5 } }
        @{ What = 'pruned (neurons)'; Change = { param($c) $c | Invoke-Pruning -Structure Neuron -Ratio 0.5 } }
    ) {
        $copy = $Original | Copy-Mlp
        $null = & $Change $copy
        Get-ModelFingerprint $copy | Should -Not -Be $OriginalPrint
        Get-ModelFingerprint $Original | Should -BeExactly $OriginalPrint
        $Original.History.Count | Should -Be $OriginalHistory
        $Original.Baseline | Should -BeNullOrEmpty
        ($Original.Layers | Where-Object { "$($_.Stored)" -ne 'Dense' }) | Should -BeNullOrEmpty
    }

    It 'leaves the copy unchanged when the original changes' {
        $source = New-Mlp 6, 4, 2 -Seed 9
        $copy = Copy-Mlp $source
        $print = Get-ModelFingerprint $copy
        $null = $source | Set-Sparsity 0.5
        Get-ModelFingerprint $copy | Should -BeExactly $print
    }
}

Describe 'Invoke-Training' {
    It 'trains with <Optimizer>: the loss on the test split falls, the same model object flows on' -ForEach @(
        @{ Optimizer = 'SGD' }
        @{ Optimizer = 'Adam' }
    ) {
        $m = New-Mlp 10, 16, 1 -Seed 2
        $before = (Measure-Mlp $m -Dataset $Synthetic).Loss
        $out = @($m | Invoke-Training -Dataset $Synthetic -Optimizer $Optimizer -LearningRate 0.01 -Epochs 5 -Seed 3)
        $out.Count | Should -Be 1
        [object]::ReferenceEquals($out[0], $m) | Should -BeTrue
        $after = (Measure-Mlp $m).Loss
        $after | Should -BeLessThan ($before * 0.8)
        $m.Dataset.Name | Should -Be 'Synthetic'
        $m.History.Count | Should -Be 1
        $m.History[0].Operation | Should -Be 'Train'
        $m.History[0].Settings.ToString() | Should -Match "Optimizer=$Optimizer"
        $m.History[0].Settings.ToString() | Should -Match 'Epochs=5'
        $m.History[0].MetricName | Should -Be 'Loss'
        $m.History[0].Metric | Should -Be $after
    }

    It 'uses the model''s data set when -Dataset is left out' {
        $m = New-Mlp 10, 8, 1 -Seed 2 | Invoke-Training -Dataset $Synthetic -Epochs 1 -Seed 1
        $print = Get-ModelFingerprint $m
        $null = $m | Invoke-Training -Epochs 1 -Seed 2
        Get-ModelFingerprint $m | Should -Not -Be $print
        $m.History.Count | Should -Be 2
        $m.History[1].Settings.ToString() | Should -Match 'Dataset=Synthetic'
    }

    It 'gives the same weights for the same -Seed' {
        $a = New-Mlp 10, 8, 1 -Seed 2 | Invoke-Training -Dataset $Synthetic -Epochs 2 -Seed 11
        $b = New-Mlp 10, 8, 1 -Seed 2 | Invoke-Training -Dataset $Synthetic -Epochs 2 -Seed 11
        $c = New-Mlp 10, 8, 1 -Seed 2 | Invoke-Training -Dataset $Synthetic -Epochs 2 -Seed 12
        Get-ModelFingerprint $a | Should -BeExactly (Get-ModelFingerprint $b)
        Get-ModelFingerprint $a | Should -Not -Be (Get-ModelFingerprint $c)
    }

    It 'with -L1 leaves more near-zero weights than without' {
        $count = {
            param($m)
            $n = 0
            for ($i = 0; $i -lt $m.LayerCount; $i++) { foreach ($v in $m.GetWeight($i)) { if ([Math]::Abs($v) -lt 1e-3) { $n++ } } }
            $n
        }
        $plain = New-Mlp 64, 32, 10 -Seed 5 | Invoke-Training -Dataset $Digits -Epochs 3 -Seed 1
        $l1 = New-Mlp 64, 32, 10 -Seed 5 | Invoke-Training -Dataset $Digits -Epochs 3 -Seed 1 -L1 0.003
        $withoutL1 = & $count $plain
        $withL1 = & $count $l1
        $withL1 | Should -BeGreaterThan (2 * $withoutL1) -Because "L1 $withL1 against $withoutL1 near-zero weights"
        $l1.History[0].Settings.ToString() | Should -Match 'L1=0.003'
    }

    It 'keeps -Momentum with SGD and records it' {
        $m = New-Mlp 10, 8, 1 -Seed 2 | Invoke-Training -Dataset $Synthetic -Optimizer SGD -Momentum 0.9 -Epochs 1 -Seed 1
        $m.History[0].Settings.ToString() | Should -Match 'Momentum=0.9'
    }
}
