# Invoke-Mlp (arrays, pipeline rows, objects with feature-named properties) and Measure-Mlp,
# checked against a forward pass computed in PowerShell from GetWeight/GetBias.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Iris = Get-IrisTable
    # TestFraction 0: the train split is all 150 rows, so the standardization statistics are the CSV's
    # and the evaluation split is the whole file.
    $script:IrisData = Import-Csv (Join-Path $PSScriptRoot 'data/iris.csv') | ConvertTo-Dataset -TargetProperty species -TestFraction 0
    $script:IrisModel = New-Mlp 4, 8, 3 -Seed 4 | Invoke-Training -Dataset $IrisData -Epochs 30 -LearningRate 0.01 -Seed 2
    $stats = Get-ColumnStatistics $Iris.Rows
    $script:IrisNormalized = @($Iris.Rows | ForEach-Object { $r = $_; , [double[]]@(0..3 | ForEach-Object { ($r[$_] - $stats.Mean[$_]) / $stats.Std[$_] }) })
}

Describe 'Invoke-Mlp' {
    It 'computes the forward pass of an untrained <Activation> regressor for double[] rows' -ForEach @(
        @{ Activation = 'ReLU' }, @{ Activation = 'Tanh' }, @{ Activation = 'Sigmoid' }, @{ Activation = 'GELU' }, @{ Activation = 'LeakyReLU' }
    ) {
        $m = New-Mlp 3, 6, 4, 1 -Activation $Activation -Seed 17
        $rows = @(, [double[]](0.5, -1.25, 2); , [double[]](-3, 0.1, 0.7); , [double[]](1, 1, -1))
        $predictions = @($rows | Invoke-Mlp -Model $m)
        $manual = @(Invoke-ManualForward -Model $m -Rows $rows)
        $predictions.Count | Should -Be 3
        for ($i = 0; $i -lt 3; $i++) {
            $predictions[$i] | Should -BeOfType SparsePrune.RegressionPrediction
            $predictions[$i].Row | Should -Be $i
            [Math]::Abs($predictions[$i].Value - $manual[$i][0]) | Should -BeLessThan 1e-5
        }
        # the activation matters: another one gives other outputs for the same weights
        $other = if ($Activation -eq 'Tanh') { 'Sigmoid' } else { 'Tanh' }
        $m2 = New-Mlp 3, 6, 4, 1 -Activation $other -Seed 17
        (@($rows | Invoke-Mlp -Model $m2).Value -join ',') | Should -Not -Be ($predictions.Value -join ',')
    }

    It 'takes one row through -InputObject and many rows as one array of arrays' {
        $m = New-Mlp 3, 2, 1 -Seed 1
        $one = @(Invoke-Mlp -Model $m -InputObject ([double[]](1, 2, 3)))
        $one.Count | Should -Be 1
        $many = @(Invoke-Mlp -Model $m -InputObject @([double[]](1, 2, 3), [double[]](3, 2, 1)))
        $many.Count | Should -Be 2
        $many[0].Value | Should -Be $one[0].Value
        ($many.Row -join ',') | Should -Be '0,1'
    }

    It 'classifies Iris rows from Import-Csv by their feature-named properties, normalizing them as the training data was' {
        $predictions = @($Iris.Objects | Invoke-Mlp -Model $IrisModel)
        $predictions.Count | Should -Be 150
        $logits = @(Invoke-ManualForward -Model $IrisModel -Rows $IrisNormalized)
        $worstProbability = 0.0; $worstSum = 0.0
        $expectedIndex = [Collections.Generic.List[int]]::new(); $expectedLabel = [Collections.Generic.List[string]]::new()
        for ($i = 0; $i -lt 150; $i++) {
            $p = $predictions[$i]
            $soft = Get-Softmax $logits[$i]
            $best = Get-ArgMax $soft
            $expectedIndex.Add($best); $expectedLabel.Add($IrisModel.ClassNames[$best])
            $worstProbability = [Math]::Max($worstProbability, [Math]::Abs($p.Probability - $soft[$best]))
            $worstSum = [Math]::Max($worstSum, [Math]::Abs(($p.Probabilities | Measure-Object -Sum).Sum - 1))
        }
        $predictions | ForEach-Object { $_ | Should -BeOfType SparsePrune.ClassPrediction }
        ($predictions.ClassIndex -join ',') | Should -Be ($expectedIndex -join ',')
        ($predictions.Label -join ',') | Should -Be ($expectedLabel -join ',')
        $worstProbability | Should -BeLessThan 1e-5
        $worstSum | Should -BeLessThan 1e-6
        # and the labels are species names, mostly right after training
        $right = 0; for ($i = 0; $i -lt 150; $i++) { if ($predictions[$i].Label -eq $Iris.Species[$i]) { $right++ } }
        $right | Should -BeGreaterThan 100
    }

    It 'numbers rows across batches of more than 1024 pipeline rows and computes each the same' {
        $m = New-Mlp 3, 5, 1 -Seed 8
        $rows = @(for ($i = 0; $i -lt 2100; $i++) { , [double[]]@((($i % 97) / 10), (-($i % 13) / 5), 1) })
        $predictions = @($rows | Invoke-Mlp -Model $m)
        $predictions.Count | Should -Be 2100
        ($predictions.Row -join ',') | Should -Be ((0..2099) -join ',')
        $check = 0, 1023, 1024, 2047, 2048, 2099
        $manual = @(Invoke-ManualForward -Model $m -Rows @($check | ForEach-Object { , $rows[$_] }))
        for ($k = 0; $k -lt $check.Count; $k++) { [Math]::Abs($predictions[$check[$k]].Value - $manual[$k][0]) | Should -BeLessThan 1e-5 }
    }

    It 'takes an array of objects through -InputObject' {
        @(Invoke-Mlp -Model $IrisModel -InputObject $Iris.Objects).Count | Should -Be 150
    }

    It 'gives the same labels for objects and for arrays of the same numbers' {
        $fromObjects = @($Iris.Objects | Invoke-Mlp -Model $IrisModel).Label -join ','
        $fromArrays = @($Iris.Rows | Invoke-Mlp -Model $IrisModel).Label -join ','
        $fromArrays | Should -Be $fromObjects
    }
}

Describe 'Measure-Mlp' {
    It 'reports Accuracy equal to the share of right Invoke-Mlp labels, and LatencyMs > 0' {
        $r = Measure-Mlp $IrisModel
        $r.MetricName | Should -Be 'Accuracy'
        $predictions = @($Iris.Objects | Invoke-Mlp -Model $IrisModel)
        $right = 0; for ($i = 0; $i -lt 150; $i++) { if ($predictions[$i].Label -eq $Iris.Species[$i]) { $right++ } }
        $r.Accuracy | Should -Be ($right / 150)
        $r.LatencyMs | Should -BeGreaterThan 0
        $r.Samples | Should -Be 150
        $r.Throughput | Should -BeGreaterThan 0
        $r.Parameters | Should -Be $IrisModel.Parameters
    }

    It 'reports Loss (mean squared error) for a regressor and takes -Dataset and pipeline input' {
        $s = Get-Dataset Synthetic
        $r = New-Mlp 10, 4, 1 -Seed 3 | Measure-Mlp -Dataset $s -Repeat 5
        $r.MetricName | Should -Be 'Loss'
        $r.Accuracy | Should -BeNullOrEmpty
        $r.Loss | Should -BeGreaterThan 0
        $r.LatencyMs | Should -BeGreaterThan 0
        $r.Samples | Should -Be $s.TestCount
    }
}
