# Get-CompressionReport: every field recomputed from GetWeight/GetBias, the layer shapes and the
# docs/contract.md formulas; the mission's two pipelines as tests.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force

    # The report a model should give, from its current weights and shapes, the widths it had
    # before any pruning and the number of weights present in each layer now.
    function script:Get-ExpectedReport {
        param($Model, [int[]] $BaselineWidths, [long[]] $Present, [string[]] $Stored, [object[]] $Deleted)
        $rows = for ($i = 0; $i -lt $Model.LayerCount; $i++) {
            $w = $Model.GetWeight($i)
            $out = $w.GetLength(0); $in = $w.GetLength(1)
            $baseW = [long]$BaselineWidths[$i] * $BaselineWidths[$i + 1]; $baseN = [long]$BaselineWidths[$i + 1]
            $n = $Present[$i]
            $k = Get-NonZeroCount -Values $w
            $kb = Get-NonZeroCount -Values $Model.GetBias($i)
            $dense = 4 * ($in * $out + $out)
            # what the model file spends on the layer's weights: dense, 4 bytes per weight and bias;
            # sparse, 4 per present weight and bias plus the position codes of the present weights
            $storedBytes = if ($Stored[$i] -eq 'Dense') { $dense } else {
                @($Deleted[$i]).Count | Should -Be ($in * $out - $n)
                4 * $n + 4 * $out + (Get-PositionCodeBytes -Count ($in * $out) -Deleted $Deleted[$i])
            }
            [pscustomobject][ordered]@{
                Layer = $i; InFeatures = $in; OutFeatures = $out; Stored = $Stored[$i]
                Weights = $n; NonZeroWeights = $k; BaselineWeights = $baseW
                Parameters = $n + $out; NonZeroParameters = $k + $kb; BaselineParameters = $baseW + $baseN
                Neurons = $out; BaselineNeurons = $baseN
                DenseBytes = $dense; BaselineDenseBytes = 4 * ($baseW + $baseN); StoredBytes = $storedBytes
                Flops = $(if ($Stored[$i] -eq 'Dense') { 2 * $in * $out } else { 2 * $n }) + $out
                BaselineFlops = 2 * $baseW + $baseN
            }
        }
        $sum = { param($name) ($rows | Measure-Object -Property $name -Sum).Sum }
        $total = [pscustomobject][ordered]@{}
        foreach ($name in 'Weights', 'NonZeroWeights', 'BaselineWeights', 'Parameters', 'NonZeroParameters', 'BaselineParameters',
            'Neurons', 'BaselineNeurons', 'DenseBytes', 'BaselineDenseBytes', 'StoredBytes', 'Flops', 'BaselineFlops') {
            $total | Add-Member -NotePropertyName $name -NotePropertyValue (& $sum $name)
        }
        foreach ($r in @($rows) + $total) {
            # docs/contract.md, Formulas
            $r | Add-Member -NotePropertyName Sparsity -NotePropertyValue (($r.Weights - $r.NonZeroWeights) / $r.Weights)
            $r | Add-Member -NotePropertyName PrunedWeights -NotePropertyValue ($r.BaselineWeights - $r.Weights)
            $r | Add-Member -NotePropertyName PruningRatio -NotePropertyValue (($r.BaselineWeights - $r.Weights) / $r.BaselineWeights)
            $r | Add-Member -NotePropertyName OverallSparsity -NotePropertyValue (1 - $r.NonZeroWeights / $r.BaselineWeights)
            $r | Add-Member -NotePropertyName WeightCompressionRatio -NotePropertyValue ($r.BaselineDenseBytes / $r.StoredBytes)
        }
        [pscustomobject]@{ Total = $total; Layers = @($rows) }
    }

    # The bytes of the smallest relative position coding (model file format 2) of the positions
    # 0..Count-1 not in $Deleted: each gap g from the previous listed position (from -1 at first)
    # takes ceil(g / (2^b - 1)) codes of b bits (fillers, then the code that lists it), b = 1..16.
    function script:Get-PositionCodeBytes {
        param([long] $Count, [int[]] $Deleted)
        $gone = [Collections.Generic.HashSet[int]]::new($Deleted)
        $gaps = [Collections.Generic.List[long]]::new()
        $previous = -1
        for ($p = 0; $p -lt $Count; $p++) { if (-not $gone.Contains($p)) { $gaps.Add($p - $previous); $previous = $p } }
        $best = [long]::MaxValue
        foreach ($bits in 1..16) {
            $max = [Math]::Pow(2, $bits) - 1
            $codes = 0
            foreach ($g in $gaps) { $codes += [Math]::Ceiling($g / $max) }
            $best = [Math]::Min($best, [long][Math]::Ceiling($codes * $bits / 8))
        }
        $best
    }

    function script:Assert-ReportMatches {
        param($Actual, $Expected, [string] $Where)
        foreach ($p in $Expected.PSObject.Properties) {
            $a = $Actual.($p.Name)
            if ($p.Value -is [double]) {
                [Math]::Abs([double]$a - $p.Value) | Should -BeLessThan 1e-12 -Because "$Where $($p.Name): expected $($p.Value), got $a"
            }
            else { "$a" | Should -Be "$($p.Value)" -Because "$Where $($p.Name)" }
        }
    }

    # Mean squared error on the test split, by a forward pass in PowerShell.
    function script:Get-ManualMse($Model, $Dataset) {
        $x = Get-DatasetArray $Dataset 'TestX'; $y = Get-DatasetArray $Dataset 'TestY'
        $f = $Dataset.Features
        $rows = for ($i = 0; $i -lt $y.Length; $i++) { , [double[]]$x[($i * $f)..($i * $f + $f - 1)] }
        $outputs = @(Invoke-ManualForward -Model $Model -Rows $rows)
        $se = 0.0
        for ($i = 0; $i -lt $y.Length; $i++) { $d = $outputs[$i][0] - $y[$i]; $se += $d * $d }
        $se / $y.Length
    }
}

Describe 'The mission''s example: New-Mlp 10,5,3,1 | Invoke-Training SGD | Set-Sparsity -Threshold 0.1 | Invoke-Pruning -Ratio 0.3 | Get-CompressionReport' {
    BeforeAll {
        $script:Data = Get-Dataset Synthetic
        $script:Model = $null
        $script:Masked = $null
        $script:Report = New-Mlp -Layers 10, 5, 3, 1 -Seed 1 |
            Invoke-Training -Dataset $Data -Optimizer SGD -LearningRate 0.01 -Epochs 10 |
            ForEach-Object { $_ | Export-Mlp -Path (Join-Path $TestDrive 'trained.spmlp'); $_ } |
            Set-Sparsity -Threshold 0.1 |
            ForEach-Object { $script:Masked = Get-ModelSnapshot $_; $_ } |
            Invoke-Pruning -Ratio 0.3 |
            ForEach-Object { $script:Model = $_; $_ } |
            Get-CompressionReport
        $widths = @(10, 5, 3, 1)
        $present = [long[]]@(for ($i = 0; $i -lt 3; $i++) { $n = $widths[$i] * $widths[$i + 1]; $n - (Get-FloorCount 0.3 $n) })
        $stored = @(for ($i = 0; $i -lt 3; $i++) { if ((Get-FloorCount 0.3 ($widths[$i] * $widths[$i + 1])) -gt 0) { 'Sparse' } else { 'Dense' } })
        # the deleted connections: the floor(0.3 n) smallest |w| of each layer after masking (masked ones are 0), ties by index
        $deleted = @(for ($i = 0; $i -lt 3; $i++) {
                $w = $Masked.Layers[$i].W
                , [int[]]@((Get-StableOrder ([double[]]@($w | ForEach-Object { [Math]::Abs($_) }))) | Select-Object -First (Get-FloorCount 0.3 $w.Length))
            })
        $script:Expected = Get-ExpectedReport -Model $Model -BaselineWidths $widths -Present $present -Stored $stored -Deleted $deleted
    }

    It 'emits one CompressionReport for the model' {
        @($Report).Count | Should -Be 1
        $Report | Should -BeOfType SparsePrune.CompressionReport
        $Report.Model | Should -Be $Model.Name
        $Report.Dataset | Should -Be 'Synthetic'
    }

    It 'has the totals recomputed from GetWeight/GetBias: <Field>' -ForEach @(
        'Weights', 'NonZeroWeights', 'Sparsity', 'BaselineWeights', 'PrunedWeights', 'PruningRatio', 'OverallSparsity',
        'Parameters', 'NonZeroParameters', 'BaselineParameters', 'Neurons', 'BaselineNeurons', 'DenseBytes', 'StoredBytes',
        'WeightCompressionRatio', 'Flops', 'BaselineFlops' | ForEach-Object { @{ Field = $_ } }
    ) {
        $e = $Expected.Total.$Field
        if ($e -is [double]) { [Math]::Abs([double]$Report.$Field - $e) | Should -BeLessThan 1e-12 -Because "expected $e, got $($Report.$Field)" }
        else { "$($Report.$Field)" | Should -Be "$e" }
    }

    It 'has FileBytes, the file Export-Mlp writes, and CompressionRatio, the dense file before Set-Sparsity over it' {
        $path = Join-Path $TestDrive 'pruned.spmlp'
        $Model | Export-Mlp -Path $path
        $Report.FileBytes | Should -Be (Get-Item $path).Length
        $Report.FileBytes | Should -BeGreaterThan $Report.StoredBytes -Because 'the file holds metadata, a header, masks and fixed fields besides the weights'
        $dense = (Get-Item (Join-Path $TestDrive 'trained.spmlp')).Length
        $Report.BaselineFileBytes | Should -Be $dense
        $Report.CompressionRatio | Should -Be ($dense / (Get-Item $path).Length)
        # A layer has no file: its rows have the weights-only ratio and no file ratio.
        $Report.Layers[0].PSObject.Properties.Name | Should -Not -Contain 'CompressionRatio'
        $Report.Layers[0].PSObject.Properties.Name | Should -Not -Contain 'FileBytes'
    }

    It 'has per-layer rows recomputed from GetWeight/GetBias' {
        $Report.Layers.Count | Should -Be 3
        for ($i = 0; $i -lt 3; $i++) { Assert-ReportMatches -Actual $Report.Layers[$i] -Expected $Expected.Layers[$i] -Where "layer $i" }
    }

    It 'counts what the formulas say: 30 % of each layer''s baseline deleted, masked ones still present' {
        $Report.PrunedWeights | Should -Be ((Get-FloorCount 0.3 50) + (Get-FloorCount 0.3 15) + (Get-FloorCount 0.3 3))
        $Report.BaselineWeights | Should -Be (50 + 15 + 3)
        $Report.Weights | Should -Be $Model.Weights
        $Report.NonZeroWeights | Should -Be $Model.NonZeroWeights
        $Report.Parameters | Should -Be $Model.Parameters
        ($Report.Layers | ForEach-Object { "$($_.Stored)" }) -join ',' | Should -Be (($Model.Layers | ForEach-Object { "$($_.Stored)" }) -join ',')
    }

    It 'reports the loss now (recomputed by hand on the test split) and at the baseline (before sparsifying)' {
        $Report.MetricName | Should -Be 'Loss'
        $manual = Get-ManualMse $Model $Data
        [Math]::Abs($Report.Metric - $manual) | Should -BeLessThan (1e-4 * [Math]::Max(1, $manual))
        $Report.BaselineMetric | Should -Be ($Model.History | Where-Object Operation -EQ 'Train' | Select-Object -Last 1).Metric
        $Report.Metric | Should -Be $Model.History[-1].Metric
    }

    It 'emits the same rows with -ByLayer' {
        $rows = @($Model | Get-CompressionReport -ByLayer)
        $rows.Count | Should -Be 3
        for ($i = 0; $i -lt 3; $i++) {
            $rows[$i] | Should -BeOfType SparsePrune.LayerReport
            Assert-ReportMatches -Actual $rows[$i] -Expected $Expected.Layers[$i] -Where "-ByLayer row $i"
        }
    }
}

Describe 'The mission''s Digits pipeline: 64,128,64,10 | Set-Sparsity 0.8 | Invoke-Pruning -Structure Neuron -Ratio 0.3 -FineTuneEpochs 3' {
    BeforeAll {
        $script:Data = Get-Dataset Digits
        $script:Masked = $null
        $script:Model = New-Mlp -Layers 64, 128, 64, 10 -Seed 1 |
            Invoke-Training -Dataset $Data |
            Set-Sparsity 0.8 |
            ForEach-Object { $script:Masked = Get-ModelSnapshot $_; $_ } |
            Invoke-Pruning -Structure Neuron -Ratio 0.3 -FineTuneEpochs 3
        $script:Report = $Model | Get-CompressionReport
    }

    It 'shrinks each hidden layer by floor(0.3 x width) and keeps the output layer' {
        ($Model.Widths -join ',') | Should -Be ('64,{0},{1},10' -f (128 - (Get-FloorCount 0.3 128)), (64 - (Get-FloorCount 0.3 64)))
        $Report.Neurons | Should -Be ($Model.Widths[1] + $Model.Widths[2] + 10)
        $Report.BaselineNeurons | Should -Be (128 + 64 + 10)
    }

    It 'removed the neurons with the smallest L1 norm after masking, and the masks held through fine-tuning' {
        $keptPrev = [int[]](0..63)
        foreach ($l in $Masked.Layers) {
            if ($l.Index -lt 2) {
                $kept = Get-KeptNeurons -Layer $l -Ratio 0.3
            }
            else { $kept = [int[]](0..9) }
            $kept.Count | Should -Be $Model.Widths[$l.Index + 1]
            $now = Get-FlatWeight $Model $l.Index
            $now.Length | Should -Be ($kept.Count * $keptPrev.Count)
            $in = $keptPrev.Count
            for ($r = 0; $r -lt $kept.Count; $r++) {
                for ($c = 0; $c -lt $in; $c++) {
                    if ($l.W[$kept[$r] * $l.In + $keptPrev[$c]] -eq 0 -and $now[$r * $in + $c] -ne 0) {
                        throw "layer $($l.Index): masked weight (neuron $($kept[$r]), input $($keptPrev[$c])) is non-zero after fine-tuning"
                    }
                }
            }
            $keptPrev = $kept
        }
    }

    It 'has a report recomputed from GetWeight/GetBias (no connection deleted, every layer dense)' {
        $widths = @(64, 128, 64, 10)
        $present = [long[]]@(for ($i = 0; $i -lt 3; $i++) { [long]$Model.Widths[$i] * $Model.Widths[$i + 1] })
        $expected = Get-ExpectedReport -Model $Model -BaselineWidths $widths -Present $present -Stored @('Dense', 'Dense', 'Dense')
        Assert-ReportMatches -Actual $Report -Expected $expected.Total -Where 'total'
        for ($i = 0; $i -lt 3; $i++) { Assert-ReportMatches -Actual $Report.Layers[$i] -Expected $expected.Layers[$i] -Where "layer $i" }
        $Report.Sparsity | Should -BeGreaterThan 0.5 -Because 'the 80 % masks hold in the surviving rows'
    }

    It 'reports the accuracy at baseline (after training) and now (after fine-tuning)' {
        $Report.MetricName | Should -Be 'Accuracy'
        $Report.BaselineMetric | Should -Be ($Model.History | Where-Object Operation -EQ 'Train' | Select-Object -Last 1).Metric
        $Report.Metric | Should -Be (Measure-Mlp $Model -Repeat 1).Accuracy
        $Report.Metric | Should -BeGreaterThan 0.5
        $Model.History[-1].Operation | Should -Be 'FineTune'
        $Model.History[-1].Settings.ToString() | Should -Match 'Epochs=3'
    }
}

Describe 'Get-CompressionReport on a model never sparsified or pruned' {
    It 'takes the model as its baseline: nothing pruned, compression 1, no metric without a data set' {
        $m = New-Mlp 6, 4, 3 -Seed 2
        $r = Get-CompressionReport $m
        $r.Weights | Should -Be (24 + 12)
        $r.BaselineWeights | Should -Be $r.Weights
        $r.PrunedWeights | Should -Be 0
        $r.PruningRatio | Should -Be 0
        $r.Sparsity | Should -Be 0
        $r.CompressionRatio | Should -Be 1
        $r.WeightCompressionRatio | Should -Be 1
        $r.BaselineFileBytes | Should -Be $r.FileBytes -Because 'a model without a baseline is measured against its own dense file, which is its file'
        $r.Metric | Should -BeNullOrEmpty
        $r.Flops | Should -Be $r.BaselineFlops
    }

    It 'evaluates the -Dataset it is given' {
        $iris = Get-Dataset Iris
        $r = New-Mlp 4, 5, 3 -Seed 2 | Get-CompressionReport -Dataset $iris
        $r.MetricName | Should -Be 'Accuracy'
        $r.Dataset | Should -Be 'Iris'
        $r.Metric | Should -BeGreaterOrEqual 0
        $r.Metric | Should -BeLessOrEqual 1
    }
}
