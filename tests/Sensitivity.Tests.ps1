# Measure-LayerSensitivity: each layer pruned alone to each level on a copy, the model unchanged.
# Every expectation is computed from the model's own weights and floor(fraction x N), never
# copied from a run.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Digits, $script:Synthetic, $script:Widths, $script:Trained, $script:Invariant = Get-PruningFixture
}

Describe 'Measure-LayerSensitivity' {
    BeforeAll {
        $script:Levels = [double[]](0.5, 0.8, 0.95)
        $script:Before = Get-ModelState $Trained
        $script:Rows = @(Measure-LayerSensitivity $Trained -Ratio $Levels -Seed 7)
        $script:Validation = Get-ValidationSplit $Digits 0.1 7
    }

    It 'emits one SparsePrune.LayerSensitivity row per layer and level, layer by layer' {
        $Rows.Count | Should -Be (($Widths.Count - 1) * $Levels.Count)
        for ($i = 0; $i -lt $Rows.Count; $i++) {
            $r = $Rows[$i]
            $r.PSObject.TypeNames[0] | Should -Be 'SparsePrune.LayerSensitivity'
            $r.Layer | Should -Be ([Math]::Floor($i / $Levels.Count))
            $r.Ratio | Should -Be $Levels[$i % $Levels.Count]
            $r.Sparsity | Should -Be $r.Ratio -Because 'the old name stays as an alias property'
            $r.Shape | Should -Be "$($Widths[$r.Layer])x$($Widths[$r.Layer + 1])"
            "$($r.Structure)" | Should -Be 'Connection'
            "$($r.Criterion)" | Should -Be 'L1'
            $r.Model | Should -Be $Trained.Name
            $r.MetricName | Should -Be 'Accuracy'
        }
    }

    It 'deletes floor(level x weights) of the one layer it prunes' {
        $n = Get-LayerWeightCount $Widths
        foreach ($r in $Rows) { $r.Deleted | Should -Be (Get-FloorCount $r.Ratio $n[$r.Layer]) -Because "layer $($r.Layer) at $($r.Ratio)" }
    }

    It 'leaves the model unchanged: weights, history, baseline and data set' {
        Assert-ModelUnchanged $Trained $Before
        $Trained.Baseline | Should -BeNullOrEmpty
    }

    It 'scores on validation rows carved from the train split by a shuffle seeded with -Seed' {
        $n = $Digits.TrainCount
        $nVal = [Math]::Floor($n * 0.1)
        $Validation.TestCount | Should -Be $nVal
        $Validation.TrainCount | Should -Be ($n - $nVal)
        $order = [int[]](0..($n - 1))
        [Random]::new(7).Shuffle($order)
        $train = Get-DatasetArray $Digits TrainX
        $val = Get-DatasetArray $Validation TestX
        $f = $Digits.Features
        for ($i = 0; $i -lt $nVal; $i++) {
            for ($k = 0; $k -lt $f; $k++) { if ($val[$i * $f + $k] -ne $train[$order[$i] * $f + $k]) { throw "validation row $i differs from train row $($order[$i])" } }
        }
        $expected = (Measure-Mlp $Trained -Dataset $Validation -Repeat 1).Accuracy
        foreach ($r in $Rows) { $r.BaselineMetric | Should -Be $expected }
    }

    It 'Drop = BaselineMetric - Metric, and Metric is what Invoke-Pruning -Layer -Ratio gives on a copy' {
        foreach ($r in $Rows) {
            $r.Drop | Should -Be ($r.BaselineMetric - $r.Metric)
            $copy = $Trained | Copy-Mlp | Invoke-Pruning -Layer $r.Layer -Ratio $r.Ratio
            (Measure-Mlp $copy -Dataset $Validation -Repeat 1).Accuracy | Should -Be $r.Metric -Because "layer $($r.Layer) at $($r.Ratio)"
        }
    }

    It 'finds the layer that tolerates the highest level best with Where-Object and Sort-Object' {
        $top = ($Levels | Measure-Object -Maximum).Maximum
        $atTop = @($Rows | Where-Object Sparsity -EQ $top)
        $atTop.Count | Should -Be ($Widths.Count - 1)
        $best = $atTop | Sort-Object Drop | Select-Object -First 1
        $best | Should -Not -BeNullOrEmpty
        foreach ($other in $atTop) { $best.Drop | Should -BeLessOrEqual $other.Drop }
    }

    It 'goes through Format-Table, Export-Csv and ConvertTo-Json' {
        $table = $Rows | Format-Table | Out-String -Width 120
        $table | Should -Match 'Drop'
        $table | Should -Not -Match 'Exception'
        foreach ($r in $Rows) { $table | Should -Match ([regex]::Escape($r.Shape)) }

        $csv = Join-Path $TestDrive 'sensitivity.csv'
        $Rows | Export-Csv -Path $csv -NoTypeInformation -ErrorAction Stop
        $back = @(Import-Csv $csv)
        $back.Count | Should -Be $Rows.Count
        $names = 'Model', 'Layer', 'Shape', 'Structure', 'Criterion', 'Ratio', 'Deleted', 'MetricName', 'BaselineMetric', 'Metric', 'Drop'
        foreach ($name in $names) { $back[0].PSObject.Properties.Name | Should -Contain $name }
        for ($i = 0; $i -lt $Rows.Count; $i++) {
            [int]$back[$i].Layer | Should -Be $Rows[$i].Layer
            [double]::Parse($back[$i].Drop, $Invariant) | Should -Be $Rows[$i].Drop
        }

        $parsed = @($Rows | ConvertTo-Json -ErrorAction Stop | ConvertFrom-Json)
        $parsed.Count | Should -Be $Rows.Count
        for ($i = 0; $i -lt $Rows.Count; $i++) {
            $parsed[$i].Layer | Should -Be $Rows[$i].Layer
            $parsed[$i].Ratio | Should -Be $Rows[$i].Ratio
            [double]$parsed[$i].Drop | Should -Be $Rows[$i].Drop
        }
    }

    It '-Structure Neuron measures the hidden layers only and deletes floor(level x neurons)' {
        # -Sparsity is the old name of -Ratio, kept as an alias so that scripts still run.
        $rows = @(Measure-LayerSensitivity $Trained -Structure Neuron -Sparsity 0.25, 0.5 -Seed 7)
        $rows.Count | Should -Be (($Widths.Count - 2) * 2)
        foreach ($r in $rows) {
            $r.Layer | Should -BeLessThan ($Widths.Count - 2)
            $r.Deleted | Should -Be (Get-FloorCount $r.Ratio $Widths[$r.Layer + 1])
        }
        Assert-ModelUnchanged $Trained $Before
    }
}
