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

Describe 'Invoke-Mlp -IncludeInput' {
    BeforeAll {
        $script:IrisColumns = @('sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species')
        $script:ScoreColumns = @('PredictedLabel', 'PredictedProbability', 'Probability_setosa', 'Probability_versicolor', 'Probability_virginica')
        # Fresh copies of the Iris rows, for tests that change a value.
        function script:Get-IrisCopy([int] $Count = 150) { @($Iris.Objects | Select-Object -First $Count | ForEach-Object { $_.PSObject.Copy() }) }
    }

    It 'keeps every input column and the row order, then the label, its probability and one column per class' {
        $plain = @($Iris.Objects | Invoke-Mlp $IrisModel)
        $scored = @($Iris.Objects | Invoke-Mlp $IrisModel -IncludeInput)
        $scored.Count | Should -Be 150
        (@($scored[0].PSObject.Properties.Name) -join ',') | Should -Be (@($IrisColumns + $ScoreColumns) -join ',')
        $worst = 0.0
        for ($i = 0; $i -lt 150; $i++) {
            foreach ($c in $IrisColumns) { $scored[$i].$c | Should -BeExactly $Iris.Objects[$i].$c }
            $scored[$i].PredictedLabel | Should -Be $plain[$i].Label
            $scored[$i].PredictedProbability | Should -Be $plain[$i].Probability
            for ($k = 0; $k -lt 3; $k++) {
                $worst = [Math]::Max($worst, [Math]::Abs($scored[$i].("Probability_" + $IrisModel.ClassNames[$k]) - $plain[$i].Probabilities[$k]))
            }
        }
        $worst | Should -Be 0
        $scored[0].Probability_setosa | Should -BeOfType [double]
        # the input rows are not changed
        @($Iris.Objects[0].PSObject.Properties.Name) -join ',' | Should -Be ($IrisColumns -join ',')
    }

    It 'writes a scored file with Export-Csv that Import-Csv reads back: numeric probabilities summing to 1' {
        $path = Join-Path $TestDrive 'scored.csv'
        Import-Csv (Join-Path $PSScriptRoot 'data/iris.csv') | Invoke-Mlp $IrisModel -IncludeInput | Export-Csv $path
        (Get-Content $path -Raw) | Should -Not -Match 'System\.'
        $back = @(Import-Csv $path)
        $back.Count | Should -Be 150
        (@($back[0].PSObject.Properties.Name) -join ',') | Should -Be (@($IrisColumns + $ScoreColumns) -join ',')
        $invariant = [Globalization.CultureInfo]::InvariantCulture
        $worstSum = 0.0; $labels = 0
        for ($i = 0; $i -lt 150; $i++) {
            $row = $back[$i]
            $row.species | Should -Be $Iris.Species[$i]
            $p = @($IrisModel.ClassNames | ForEach-Object { [double]::Parse($row."Probability_$_", $invariant) })
            $worstSum = [Math]::Max($worstSum, [Math]::Abs(($p | Measure-Object -Sum).Sum - 1))
            [double]::Parse($row.PredictedProbability, $invariant) | Should -Be ($p | Measure-Object -Maximum).Maximum
            if ($row.PredictedLabel -eq $IrisModel.ClassNames[[array]::IndexOf($p, ($p | Measure-Object -Maximum).Maximum)]) { $labels++ }
        }
        $worstSum | Should -BeLessThan 1e-6
        $labels | Should -Be 150
    }

    It 'takes hashtables, ordered dictionaries and arrays, keeping what came in' {
        $ordered = [ordered]@{ id = 7; petal_width = '0.2'; sepal_length = 5.1; petal_length = 1.4; sepal_width = 3.5 }
        $fromOrdered = Invoke-Mlp $IrisModel -InputObject $ordered -IncludeInput
        (@($fromOrdered.PSObject.Properties.Name) -join ',') | Should -Be (@('id', 'petal_width', 'sepal_length', 'petal_length', 'sepal_width') + $ScoreColumns -join ',')
        $fromOrdered.id | Should -Be 7
        $fromOrdered.petal_width | Should -BeExactly '0.2'
        $fromArray = , [double[]](5.1, 3.5, 1.4, 0.2) | Invoke-Mlp $IrisModel -IncludeInput
        (@($fromArray.PSObject.Properties.Name) -join ',') | Should -Be (@($IrisModel.FeatureNames) + $ScoreColumns -join ',')
        $fromHashtable = @{ sepal_length = 5.1; sepal_width = 3.5; petal_length = 1.4; petal_width = 0.2 } | Invoke-Mlp $IrisModel -IncludeInput
        @($fromHashtable.PSObject.Properties.Name) | Should -HaveCount 9
        foreach ($r in $fromOrdered, $fromHashtable) {
            $r.PredictedLabel | Should -Be $fromArray.PredictedLabel
            $r.Probability_setosa | Should -Be $fromArray.Probability_setosa
        }
        # without the switch a hashtable is one row too (it used to be taken for its entries)
        @(@{ sepal_length = 5.1; sepal_width = 3.5; petal_length = 1.4; petal_width = 0.2 } | Invoke-Mlp $IrisModel).Label | Should -Be $fromArray.PredictedLabel
    }

    It 'names the input property a prediction property would take, whatever its case, and emits nothing for it' {
        $row = [pscustomobject]@{ sepal_length = 5.1; sepal_width = 3.5; petal_length = 1.4; petal_width = 0.2; predictedlabel = 'mine' }
        $out = [Collections.Generic.List[object]]::new()
        { $row | Invoke-Mlp $IrisModel -IncludeInput | ForEach-Object { $out.Add($_) } } |
            Should -Throw -ErrorId 'InputPropertyCollides,SparsePrune.Cmdlets.InvokeMlpCommand' -ExpectedMessage "*'predictedlabel'*"
        $out.Count | Should -Be 0
        # without the switch the same row predicts: nothing is added to it
        @($row | Invoke-Mlp $IrisModel).Count | Should -Be 1
    }

    It 'stops at a row without a feature, naming the row and the column; the rows before it are all written' {
        $rows = Get-IrisCopy 6
        $rows[2] = $rows[2] | Select-Object sepal_length, sepal_width, petal_length, species
        $path = Join-Path $TestDrive 'missing.csv'
        { $rows | Invoke-Mlp $IrisModel -IncludeInput | Export-Csv $path } |
            Should -Throw -ErrorId 'FeaturePropertyNotFound,SparsePrune.Cmdlets.InvokeMlpCommand' -ExpectedMessage "Row 3 has no property 'petal_width'*"
        $written = @(Import-Csv $path)
        $written.Count | Should -Be 2
        ($written.sepal_length -join ',') | Should -Be (($rows[0..1].sepal_length) -join ',')
    }

    It 'stops at a text in a numeric column (<Case>), naming the row, the column and the value' -ForEach @(
        @{ Case = 'a word'; Value = 'abc'; Shown = "'abc'" }
        @{ Case = 'an empty cell'; Value = ''; Shown = 'empty' }
        @{ Case = 'a decimal comma'; Value = '5,1'; Shown = "'5,1'" }
    ) {
        $rows = Get-IrisCopy 6
        $rows[4].sepal_length = $Value
        $out = [Collections.Generic.List[object]]::new()
        { $rows | Invoke-Mlp $IrisModel -IncludeInput | ForEach-Object { $out.Add($_) } } |
            Should -Throw -ErrorId 'InvalidInputValue,SparsePrune.Cmdlets.InvokeMlpCommand' -ExpectedMessage "Row 5: property 'sepal_length' is $Shown, not a finite number."
        $out.Count | Should -Be 4
        # the same stop without the switch
        $plain = [Collections.Generic.List[object]]::new()
        { $rows | Invoke-Mlp $IrisModel | ForEach-Object { $plain.Add($_) } } | Should -Throw -ErrorId 'InvalidInputValue,SparsePrune.Cmdlets.InvokeMlpCommand'
        $plain.Count | Should -Be 4
    }

    It 'streams: the first scored row comes out long before the input ends, and a bad row after a full batch keeps every earlier row' {
        $m = New-Mlp 3, 5, 1 -Seed 8
        $script:sent = 0
        $script:sentAtFirst = $null
        & { for ($i = 0; $i -lt 20000; $i++) { $script:sent++; , [double[]]@(($i % 7), 1, 2) } } |
            Invoke-Mlp $m -IncludeInput | Select-Object -First 1 | ForEach-Object { $script:sentAtFirst = $script:sent }
        $script:sentAtFirst | Should -BeGreaterThan 0
        $script:sentAtFirst | Should -BeLessThan 20000
        $rows = @(for ($i = 0; $i -lt 5000; $i++) { , [object[]]@(($i % 7), 1, 2) })
        $rows[4999] = [object[]]@(1, 'x', 2)
        $out = [Collections.Generic.List[object]]::new()
        { $rows | Invoke-Mlp $m -IncludeInput | ForEach-Object { $out.Add($_) } } |
            Should -Throw -ErrorId 'InvalidInputValue,SparsePrune.Cmdlets.InvokeMlpCommand' -ExpectedMessage "Row 5000: element 1 is 'x'*"
        $out.Count | Should -Be 4999
        $out[4998].x0 | Should -Be (4998 % 7)
    }

    It 'adds PredictedValue for a regressor' {
        $rows = @(for ($i = 0; $i -lt 40; $i++) { [pscustomobject]@{ name = "r$i"; u = ($i % 5) / 2; v = [Math]::Sin($i); y = ($i % 5) - [Math]::Sin($i) } })
        $m = New-Mlp 2, 8, 1 -Seed 3 | Invoke-Training -Dataset ($rows | ConvertTo-Dataset -TargetProperty y -FeatureProperty u, v -Task Regression -TestFraction 0) -Epochs 5 -Seed 3
        $plain = @($rows | Invoke-Mlp $m)
        $scored = @($rows | Invoke-Mlp $m -IncludeInput)
        $scored.Count | Should -Be 40
        (@($scored[0].PSObject.Properties.Name) -join ',') | Should -Be 'name,u,v,y,PredictedValue'
        for ($i = 0; $i -lt 40; $i++) {
            $scored[$i].name | Should -Be "r$i"
            $scored[$i].PredictedValue | Should -Be $plain[$i].Value
        }
    }

    It 'names a class by its index when the model has no class names, and refuses classes whose columns would collide' {
        $m = New-Mlp 3, 4, 2 -Seed 1
        $r = , [double[]](1, 2, 3) | Invoke-Mlp $m -IncludeInput
        (@($r.PSObject.Properties.Name) -join ',') | Should -Be 'x0,x1,x2,PredictedLabel,PredictedProbability,Probability_0,Probability_1'
        $cased = 1..30 | ForEach-Object { [pscustomobject]@{ a = $_ % 3; b = 1; y = @('a', 'A', 'b')[$_ % 3] } } | ConvertTo-Dataset -TargetProperty y
        $twoCases = New-Mlp 2, 3 -Seed 1 | Invoke-Training -Dataset $cased -Epochs 1
        { [pscustomobject]@{ a = 1; b = 1 } | Invoke-Mlp $twoCases -IncludeInput } |
            Should -Throw -ErrorId 'ClassNamesCollide,SparsePrune.Cmdlets.InvokeMlpCommand' -ExpectedMessage "*'Probability_*"
    }
}
