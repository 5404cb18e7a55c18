# Export-Mlp / Import-Mlp: exact round trip (weights, masks, deletions, history, predictions),
# -Force, -PassThru, pipeline input, no temporary files left behind; the file spends exactly
# StoredBytes on weights, and a 95 % pruned LeNet-300-100 takes at most 1/15 of its dense file.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:IrisCsv = Join-Path $PSScriptRoot 'data/iris.csv'
    $script:IrisRows = Import-Csv $IrisCsv
    $script:IrisData = $IrisRows | ConvertTo-Dataset -TargetProperty species
    # trained, masked (reversible) and pruned (deleted): everything a file has to keep
    $script:Model = New-Mlp 4, 16, 8, 3 -Seed 6 -Name 'iris-net' -Activation Tanh |
        Invoke-Training -Dataset $IrisData -Epochs 10 -LearningRate 0.01 -Seed 1 |
        Set-Sparsity 0.6 |
        Invoke-Pruning -Ratio 0.3
}

Describe 'Export-Mlp and Import-Mlp' {
    BeforeAll {
        $script:Path = Join-Path $TestDrive 'iris-net.spmlp'
        $script:ExportOutput = @($Model | Export-Mlp -Path $Path)
        $script:Loaded = Import-Mlp -Path $Path
    }

    It 'writes one file and emits nothing without -PassThru' {
        $ExportOutput.Count | Should -Be 0
        Test-Path $Path | Should -BeTrue
        (Get-Item $Path).Length | Should -BeGreaterThan 0
        @(Get-ChildItem $TestDrive -Force | Where-Object Name -Like '*.tmp').Count | Should -Be 0 -Because 'the atomic write leaves no temporary file'
    }

    It 'gives back identical weights and biases, bit for bit' {
        $Loaded | Should -BeOfType SparsePrune.Mlp
        [object]::ReferenceEquals($Loaded, $Model) | Should -BeFalse
        Get-ModelFingerprint $Loaded | Should -BeExactly (Get-ModelFingerprint $Model)
    }

    It 'keeps name, activation, task, layers, storage, baseline and history' {
        $Loaded.Name | Should -Be 'iris-net'
        "$($Loaded.Activation)" | Should -Be 'Tanh'
        "$($Loaded.Task)" | Should -Be 'Classification'
        ($Loaded.Layers | ForEach-Object { "$($_.InFeatures)x$($_.OutFeatures) $($_.Stored) $($_.Weights) $($_.NonZeroWeights)" }) -join ';' |
            Should -Be (($Model.Layers | ForEach-Object { "$($_.InFeatures)x$($_.OutFeatures) $($_.Stored) $($_.Weights) $($_.NonZeroWeights)" }) -join ';')
        $Loaded.Baseline.Weights | Should -Be $Model.Baseline.Weights
        $Loaded.Baseline.Metric | Should -Be $Model.Baseline.Metric
        ($Loaded.History.Operation -join ',') | Should -Be ($Model.History.Operation -join ',')
        ($Loaded.FeatureNames -join ',') | Should -Be ($Model.FeatureNames -join ',')
        ($Loaded.ClassNames -join ',') | Should -Be ($Model.ClassNames -join ',')
    }

    It 'gives identical predictions for raw Import-Csv rows (normalization kept)' {
        $a = @($IrisRows | Invoke-Mlp -Model $Model)
        $b = @($IrisRows | Invoke-Mlp -Model $Loaded)
        ($b.Label -join ',') | Should -Be ($a.Label -join ',')
        # doubles print round-trippably: equal text means equal bits
        (@($b | ForEach-Object { $_.Probabilities }) -join ',') | Should -BeExactly (@($a | ForEach-Object { $_.Probabilities }) -join ',')
    }

    It 'gives an identical compression report' {
        $a = $Model | Get-CompressionReport -Dataset $IrisData
        $b = $Loaded | Get-CompressionReport -Dataset $IrisData
        ($b | ConvertTo-Json -Depth 4 -Compress) | Should -Be ($a | ConvertTo-Json -Depth 4 -Compress)
    }

    It 'keeps the values behind the mask and the deletions: -Sparsity 0 restores the same weights in both' {
        $original = Copy-Mlp $Model | Set-Sparsity 0
        $reloaded = Import-Mlp $Path | Set-Sparsity 0
        Get-ModelFingerprint $reloaded | Should -BeExactly (Get-ModelFingerprint $original)
        $reloaded.Weights | Should -Be $Model.Weights -Because 'deleted connections stay deleted'
        $reloaded.NonZeroWeights | Should -Be $reloaded.Weights
    }

    It 'can be trained and pruned further like the original' {
        $a = Copy-Mlp $Model | Invoke-Training -Dataset $IrisData -Epochs 2 -Seed 4 | Invoke-Pruning -Ratio 0.5
        $b = Import-Mlp $Path | Invoke-Training -Dataset $IrisData -Epochs 2 -Seed 4 | Invoke-Pruning -Ratio 0.5
        Get-ModelFingerprint $b | Should -BeExactly (Get-ModelFingerprint $a)
    }

    It 'round-trips a neuron-pruned model with its new widths' {
        $m = Copy-Mlp $Model | Invoke-Pruning -Structure Neuron -Ratio 0.5
        $p = Join-Path $TestDrive 'neurons.spmlp'
        $m | Export-Mlp $p
        $r = Import-Mlp $p
        ($r.Widths -join ',') | Should -Be ($m.Widths -join ',')
        Get-ModelFingerprint $r | Should -BeExactly (Get-ModelFingerprint $m)
    }

    It 'has no data set after Import-Mlp unless -Dataset attaches one, which later cmdlets then use' {
        $Loaded.Dataset | Should -BeNullOrEmpty
        (Get-CompressionReport $Loaded).Metric | Should -BeNullOrEmpty
        $withData = Import-Mlp -Path $Path -Dataset $IrisData
        $withData.Dataset.Name | Should -Be $IrisData.Name
        $report = Get-CompressionReport $withData
        $report.MetricName | Should -Be 'Accuracy'
        $report.Metric | Should -Be (Measure-Mlp $withData -Repeat 1).Accuracy
    }

    It 'writes a smaller file for a pruned model than for the same model dense (deleted weights are not stored)' {
        $dense = New-Mlp 64, 128, 10 -Seed 3
        $pruned = Copy-Mlp $dense | Invoke-Pruning -Ratio 0.8
        $densePath = Join-Path $TestDrive 'dense.spmlp'
        $prunedPath = Join-Path $TestDrive 'pruned.spmlp'
        $dense | Export-Mlp $densePath
        $pruned | Export-Mlp $prunedPath
        $saved = (Get-Item $densePath).Length - (Get-Item $prunedPath).Length
        # the deleted weights (4 bytes each) are gone; the position codes of the present ones cost at
        # most what a bitmap would (1 bit per weight), and the pruned model's history and baseline
        # add some metadata (well under 2 KiB here)
        $deleted = $dense.Weights - $pruned.Weights
        $deleted | Should -Be (6553 + 1024)
        $saved | Should -BeGreaterThan ($deleted * 4 - 9472 / 8 - 2048)
        Get-ModelFingerprint (Import-Mlp $prunedPath) | Should -BeExactly (Get-ModelFingerprint $pruned)
    }

    It 'writes exactly StoredBytes of weights for a pruned model: the rest of the file is header, metadata and fixed layer fields' {
        $digits = Get-Dataset Digits
        $m = New-Mlp 64, 128, 64, 10 -Seed 5 | Invoke-Training -Dataset $digits -Epochs 1 -Seed 2 | Invoke-Pruning -Ratio 0.9
        $p = Join-Path $TestDrive 'pruned-90.spmlp'
        $m | Export-Mlp $p
        $report = $m | Get-CompressionReport
        $back = Import-Mlp $p -Dataset $digits
        Get-ModelFingerprint $back | Should -BeExactly (Get-ModelFingerprint $m)
        ($back | Get-CompressionReport | ConvertTo-Json -Depth 4 -Compress) | Should -Be ($report | ConvertTo-Json -Depth 4 -Compress)
        @($back.Layers.Stored) -join ',' | Should -Be 'Sparse,Sparse,Sparse'

        # format 2: header 24, metadata (int32 length + JSON), offset and scale (int32 count + 64 floats
        # each), layer count, per layer shape and flags (9) and the present-weight list's count,
        # width and code count (9), checksum 32; everything else is the layers' weight bytes
        $bytes = [IO.File]::ReadAllBytes($p)
        $metadata = [BitConverter]::ToInt32($bytes, 24)
        $fixed = 24 + (4 + $metadata) + 2 * (4 + 4 * 64) + 4 + 3 * (9 + 9) + 32
        $bytes.Length - $fixed | Should -Be $report.StoredBytes
        $metadata | Should -BeLessThan 2048 -Because 'the metadata stays small next to the weights'
        $report.StoredBytes | Should -BeLessThan ($report.DenseBytes / 7) -Because '10 % of the weights, at 4 bytes and a few bits each'
    }

    It 'writes a LeNet-300-100 pruned by 95 % of its connections to at most 1/15 of its dense file' {
        $lenet = New-Mlp 784, 300, 100, 10 -Seed 8
        $densePath = Join-Path $TestDrive 'lenet-dense.spmlp'
        $lenet | Export-Mlp $densePath
        foreach ($scope in 'Layer', 'Global') {
            $prunedPath = Join-Path $TestDrive "lenet-95-$scope.spmlp"
            $pruned = Copy-Mlp $lenet | Invoke-Pruning -Structure Connection -Ratio 0.95 -Scope $scope -WarningAction SilentlyContinue
            $pruned | Export-Mlp $prunedPath
            $dense = (Get-Item $densePath).Length; $small = (Get-Item $prunedPath).Length
            $small * 15 | Should -BeLessOrEqual $dense -Because "$scope scope: $small bytes against $dense dense"
            Get-ModelFingerprint (Import-Mlp $prunedPath) | Should -BeExactly (Get-ModelFingerprint $pruned)
        }
    }

    It 'emits the model with -PassThru (the pipeline goes on) and imports from Get-ChildItem through the pipeline' {
        $p = Join-Path $TestDrive 'passthru.spmlp'
        $out = @($Model | Export-Mlp -Path $p -PassThru)
        $out.Count | Should -Be 1
        [object]::ReferenceEquals($out[0], $Model) | Should -BeTrue
        Test-Path $p | Should -BeTrue
        $many = @(Get-ChildItem $TestDrive -Filter '*.spmlp' | Import-Mlp)
        $many.Count | Should -Be @(Get-ChildItem $TestDrive -Filter '*.spmlp').Count
        $many | ForEach-Object { $_ | Should -BeOfType SparsePrune.Mlp }
    }

    It 'replaces an existing file with -Force' {
        $p = Join-Path $TestDrive 'replace.spmlp'
        New-Mlp 4, 3 -Seed 1 | Export-Mlp $p
        $first = (Get-FileHash $p).Hash
        $Model | Export-Mlp $p -Force
        (Get-FileHash $p).Hash | Should -Not -Be $first
        Get-ModelFingerprint (Import-Mlp $p) | Should -BeExactly (Get-ModelFingerprint $Model)
        @(Get-ChildItem $TestDrive -Force | Where-Object Name -Like '*.tmp').Count | Should -Be 0
    }

    It 'resolves a relative -Path against the current location' {
        Push-Location $TestDrive
        try {
            $Model | Export-Mlp -Path 'relative.spmlp'
            Test-Path (Join-Path $TestDrive 'relative.spmlp') | Should -BeTrue
            (Import-Mlp 'relative.spmlp').Name | Should -Be 'iris-net'
        }
        finally { Pop-Location }
    }
}

