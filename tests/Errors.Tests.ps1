# Bad input: a terminating ErrorRecord with a stable ErrorId and a fitting category, the model
# as it was, files as they were, and a session that keeps working.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $irisCsv = Join-Path $PSScriptRoot 'data/iris.csv'
    $iris = Import-Csv $irisCsv | ConvertTo-Dataset -TargetProperty species
    $model = New-Mlp 4, 8, 3 -Seed 2 | Invoke-Training -Dataset $iris -Epochs 2 -Seed 1

    $valid = Join-Path $TestDrive 'valid.spmlp'
    $model | Export-Mlp $valid
    $bytes = [IO.File]::ReadAllBytes($valid)
    $truncated = Join-Path $TestDrive 'truncated.spmlp'
    [IO.File]::WriteAllBytes($truncated, $bytes[0..([int]($bytes.Length / 2))])
    $header = Join-Path $TestDrive 'header-only.spmlp'
    [IO.File]::WriteAllBytes($header, $bytes[0..11])
    $corrupt = Join-Path $TestDrive 'corrupt.spmlp'
    $damaged = [byte[]]$bytes.Clone(); $damaged[[int]($bytes.Length / 2)] = $damaged[[int]($bytes.Length / 2)] -bxor 0xFF
    [IO.File]::WriteAllBytes($corrupt, $damaged)
    $foreign = Join-Path $TestDrive 'foreign.spmlp'
    Copy-Item $irisCsv $foreign
    $existing = Join-Path $TestDrive 'existing.spmlp'
    New-Mlp 4, 3 -Seed 9 | Export-Mlp $existing

    $headerCsv = Join-Path $TestDrive 'header.csv'
    Set-Content $headerCsv 'a,b,y'
    $nanCsv = Join-Path $TestDrive 'nan.csv'
    Set-Content $nanCsv "a,b,y`n1,2,x`n3,NaN,y`n5,6,x"
    $textCsv = Join-Path $TestDrive 'text.csv'
    Set-Content $textCsv "a,b,y`n1,2,x`n3,four,y`n5,6,x"

    $badGzip = Join-Path $TestDrive 'damaged.csv.gz'
    [IO.File]::WriteAllBytes($badGzip, [byte[]](0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9))

    $script:Ctx = @{
        Model = $model; Iris = $iris; Digits = (Get-Dataset Digits); Valid = $valid; Truncated = $truncated; HeaderOnly = $header
        Corrupt = $corrupt; Foreign = $foreign; Existing = $existing; Missing = (Join-Path $TestDrive 'missing.spmlp')
        HeaderCsv = $headerCsv; NanCsv = $nanCsv; TextCsv = $textCsv; BadGzip = $badGzip
    }
}

Describe 'Bad input' {
    It '<Case>: <ErrorId> (<Category>)' -ForEach @(
        @{ Case = 'New-Mlp with one width'; ErrorId = 'TooFewLayers'; Category = 'InvalidArgument'; Hint = 'two widths'
            Act = { param($c) New-Mlp -Layers 10 } }
        @{ Case = 'New-Mlp with a zero width'; ErrorId = 'InvalidLayerWidth'; Category = 'InvalidArgument'; Hint = 'positive'
            Act = { param($c) New-Mlp -Layers 10, 0, 1 } }
        @{ Case = 'New-Mlp with a negative width'; ErrorId = 'InvalidLayerWidth'; Category = 'InvalidArgument'; Hint = 'positive'
            Act = { param($c) New-Mlp -Layers 10, -5, 1 } }
        @{ Case = 'Set-Sparsity -Sparsity 1'; ErrorId = 'InvalidSparsity'; Category = 'InvalidArgument'; Hint = 'below 1'
            Act = { param($c) $c.Model | Set-Sparsity -Sparsity 1 } }
        @{ Case = 'Set-Sparsity -Sparsity -0.1'; ErrorId = 'InvalidSparsity'; Category = 'InvalidArgument'; Hint = 'at least 0'
            Act = { param($c) $c.Model | Set-Sparsity -Sparsity -0.1 } }
        @{ Case = 'Set-Sparsity -Sparsity 1.5'; ErrorId = 'InvalidSparsity'; Category = 'InvalidArgument'; Hint = 'below 1'
            Act = { param($c) $c.Model | Set-Sparsity -Sparsity 1.5 } }
        @{ Case = 'Invoke-Pruning -Ratio 1'; ErrorId = 'InvalidRatio'; Category = 'InvalidArgument'; Hint = 'below 1'
            Act = { param($c) $c.Model | Invoke-Pruning -Ratio 1 } }
        @{ Case = 'Invoke-Training on a data set with other features'; ErrorId = 'FeatureMismatch'; Category = 'InvalidArgument'; Hint = '64'
            Act = { param($c) $c.Model | Invoke-Training -Dataset $c.Digits -Epochs 1 } }
        @{ Case = 'Invoke-Pruning -FineTuneEpochs on a data set with other features'; ErrorId = 'FeatureMismatch'; Category = 'InvalidArgument'; Hint = '64'
            Act = { param($c) $c.Model | Invoke-Pruning -Ratio 0.5 -FineTuneEpochs 1 -Dataset $c.Digits } }
        @{ Case = 'Measure-Mlp on a data set with other features'; ErrorId = 'FeatureMismatch'; Category = 'InvalidArgument'; Hint = '64'
            Act = { param($c) Measure-Mlp $c.Model -Dataset $c.Digits } }
        @{ Case = 'Invoke-Mlp with a row of 3 values for 4 inputs'; ErrorId = 'FeatureCountMismatch'; Category = 'InvalidArgument'; Hint = '4'
            Act = { param($c) Invoke-Mlp -Model $c.Model -InputObject ([double[]](1, 2, 3)) } }
        @{ Case = 'Invoke-Mlp with NaN in a row'; ErrorId = 'InvalidInputValue'; Category = 'InvalidArgument'; Hint = 'finite'
            Act = { param($c) Invoke-Mlp -Model $c.Model -InputObject ([double[]](1, 2, [double]::NaN, 4)) } }
        @{ Case = 'Import-Dataset of a CSV with NaN in a feature'; ErrorId = 'InvalidFeatureValue'; Category = 'InvalidData'; Hint = 'NaN'
            Act = { param($c) Import-Dataset $c.NanCsv } }
        @{ Case = 'Import-Dataset of a CSV with text in a feature'; ErrorId = 'InvalidFeatureValue'; Category = 'InvalidData'; Hint = 'four'
            Act = { param($c) Import-Dataset $c.TextCsv } }
        @{ Case = 'ConvertTo-Dataset of objects with text in a feature'; ErrorId = 'InvalidFeatureValue'; Category = 'InvalidData'; Hint = 'four'
            Act = { param($c) Import-Csv $c.TextCsv | ConvertTo-Dataset -TargetProperty y } }
        @{ Case = 'Import-Dataset of a CSV with only a header'; ErrorId = 'EmptyDataset'; Category = 'InvalidData'; Hint = 'row'
            Act = { param($c) Import-Dataset $c.HeaderCsv } }
        @{ Case = 'ConvertTo-Dataset with no input'; ErrorId = 'EmptyDataset'; Category = 'InvalidData'; Hint = 'no objects'
            Act = { param($c) @() | ConvertTo-Dataset -TargetProperty species } }
        @{ Case = 'Import-Mlp of a truncated file'; ErrorId = 'TruncatedModelFile'; Category = 'InvalidData'; Hint = 'truncated'
            Act = { param($c) Import-Mlp $c.Truncated } }
        @{ Case = 'Import-Mlp of a file cut inside the header'; ErrorId = 'TruncatedModelFile'; Category = 'InvalidData'; Hint = 'truncated'
            Act = { param($c) Import-Mlp $c.HeaderOnly } }
        @{ Case = 'Import-Mlp of a foreign file'; ErrorId = 'NotAModelFile'; Category = 'InvalidData'; Hint = 'not a SparsePrune model file'
            Act = { param($c) Import-Mlp $c.Foreign } }
        @{ Case = 'Import-Mlp of a damaged file'; ErrorId = 'CorruptModelFile'; Category = 'InvalidData'; Hint = 'damaged'
            Act = { param($c) Import-Mlp $c.Corrupt } }
        @{ Case = 'Export-Mlp onto an existing file without -Force'; ErrorId = 'ModelFileExists'; Category = 'ResourceExists'; Hint = '-Force'
            Act = { param($c) $c.Model | Export-Mlp $c.Existing } }
        @{ Case = 'Import-Mlp of a missing file'; ErrorId = 'ModelFileNotFound'; Category = 'ObjectNotFound'; Hint = 'missing.spmlp'
            Act = { param($c) Import-Mlp $c.Missing } }
        @{ Case = 'Invoke-Training that diverges'; ErrorId = 'TrainingDiverged'; Category = 'InvalidOperation'; Hint = 'LearningRate'
            Act = { param($c) $c.Model | Invoke-Training -Optimizer SGD -LearningRate 1e30 -Epochs 3 -Seed 1 } }
        @{ Case = 'New-Mlp classifier with one output'; ErrorId = 'ClassificationNeedsTwoOutputs'; Category = 'InvalidArgument'; Hint = '-Task Regression'
            Act = { param($c) New-Mlp -Layers 10, 1 -Task Classification } }
        @{ Case = 'Invoke-Training of a model never trained, without -Dataset'; ErrorId = 'NoDataset'; Category = 'InvalidArgument'; Hint = '-Dataset'
            Act = { param($c) New-Mlp 4, 3 -Seed 1 | Invoke-Training -Epochs 1 } }
        @{ Case = 'Invoke-Training -Epochs -1'; ErrorId = 'InvalidEpochs'; Category = 'InvalidArgument'; Hint = '0 or more'
            Act = { param($c) $c.Model | Invoke-Training -Epochs -1 } }
        @{ Case = 'Set-Sparsity with a data set with other features'; ErrorId = 'FeatureMismatch'; Category = 'InvalidArgument'; Hint = '64'
            Act = { param($c) $c.Model | Set-Sparsity 0.5 -Dataset $c.Digits } }
        @{ Case = 'Set-Sparsity -Layer of a layer that does not exist'; ErrorId = 'LayerOutOfRange'; Category = 'InvalidArgument'; Hint = '0..1'
            Act = { param($c) $c.Model | Set-Sparsity 0.5 -Layer 2 } }
        @{ Case = 'Set-Sparsity -Threshold with -Method Random'; ErrorId = 'ThresholdNeedsMagnitude'; Category = 'InvalidArgument'; Hint = 'Magnitude'
            Act = { param($c) $c.Model | Set-Sparsity -Threshold 0.1 -Method Random } }
        @{ Case = 'Invoke-Pruning without -Ratio'; ErrorId = 'RatioRequired'; Category = 'InvalidArgument'; Hint = '-Ratio'
            Act = { param($c) $c.Model | Invoke-Pruning } }
        @{ Case = 'Invoke-Pruning -Structure NM -Pattern 4:2'; ErrorId = 'InvalidNMPattern'; Category = 'InvalidArgument'; Hint = 'N < M'
            Act = { param($c) $c.Model | Invoke-Pruning -Structure NM -Pattern 4:2 } }
        @{ Case = 'Invoke-Pruning -FineTuneEpochs of a model never trained, without -Dataset'; ErrorId = 'NoDataset'; Category = 'InvalidArgument'; Hint = '-Dataset'
            Act = { param($c) New-Mlp 4, 3 -Seed 1 | Invoke-Pruning -Ratio 0.5 -FineTuneEpochs 1 } }
        @{ Case = 'Invoke-Mlp of objects without a feature property'; ErrorId = 'FeaturePropertyNotFound'; Category = 'InvalidArgument'; Hint = 'petal_width'
            Act = { param($c) [pscustomobject]@{ sepal_length = 5.1; sepal_width = 3.5; petal_length = 1.4 } | Invoke-Mlp -Model $c.Model } }
        @{ Case = 'Invoke-Mlp -IncludeInput of a row that has a PredictedLabel property'; ErrorId = 'InputPropertyCollides'; Category = 'InvalidArgument'; Hint = 'PredictedLabel'
            Act = { param($c) [pscustomobject]@{ sepal_length = 5.1; sepal_width = 3.5; petal_length = 1.4; petal_width = 0.2; PredictedLabel = 'x' } | Invoke-Mlp -Model $c.Model -IncludeInput } }
        @{ Case = 'Invoke-Mlp of objects for a model that knows no feature names'; ErrorId = 'FeatureNamesUnknown'; Category = 'InvalidArgument'; Hint = 'arrays'
            Act = { param($c) [pscustomobject]@{ a = 1; b = 2; c = 3; d = 4 } | Invoke-Mlp -Model (New-Mlp 4, 3 -Seed 1) } }
        @{ Case = 'ConvertTo-Dataset -TargetProperty that no object has'; ErrorId = 'TargetPropertyNotFound'; Category = 'InvalidArgument'; Hint = 'species'
            Act = { param($c) [pscustomobject]@{ a = 1; species = 'x' }, [pscustomobject]@{ a = 2; species = 'y' } | ConvertTo-Dataset -TargetProperty kind } }
        @{ Case = 'Import-Dataset -TargetColumn that the CSV lacks'; ErrorId = 'TargetColumnNotFound'; Category = 'InvalidArgument'; Hint = 'a, b, y'
            Act = { param($c) Import-Dataset $c.NanCsv -TargetColumn kind } }
        @{ Case = 'Import-Dataset of a missing file'; ErrorId = 'FileNotFound'; Category = 'ObjectNotFound'; Hint = 'missing.csv'
            Act = { param($c) Import-Dataset (Join-Path (Split-Path $c.Missing) 'missing.csv') } }
        @{ Case = 'Get-Dataset FashionMnist -Path of a missing folder'; ErrorId = 'DatasetFolderNotFound'; Category = 'ObjectNotFound'; Hint = 'no-such-folder'
            Act = { param($c) Get-Dataset FashionMnist -Path (Join-Path (Split-Path $c.Missing) 'no-such-folder') } }
        @{ Case = 'Export-Mlp onto a folder'; ErrorId = 'PathIsDirectory'; Category = 'InvalidArgument'; Hint = 'folder'
            Act = { param($c) $c.Model | Export-Mlp (Split-Path $c.Missing) } }
        @{ Case = 'Export-Mlp into a missing folder'; ErrorId = 'DirectoryNotFound'; Category = 'ObjectNotFound'; Hint = 'create it'
            Act = { param($c) $c.Model | Export-Mlp (Join-Path (Split-Path $c.Missing) 'no-such-folder/m.spmlp') } }
        @{ Case = 'Invoke-Pruning -Structure NM -Pattern with an N too large for an integer'; ErrorId = 'InvalidNMPattern'; Category = 'InvalidArgument'; Hint = 'N:M'
            Act = { param($c) $c.Model | Invoke-Pruning -Structure NM -Pattern 99999999999:4 } }
        @{ Case = 'Invoke-Pruning -Structure NM with -Ratio'; ErrorId = 'ParameterNotApplicable'; Category = 'InvalidArgument'; Hint = '-Pattern'
            Act = { param($c) $c.Model | Invoke-Pruning -Structure NM -Ratio 0.5 } }
        @{ Case = 'Invoke-Pruning -Pattern without -Structure NM'; ErrorId = 'ParameterNotApplicable'; Category = 'InvalidArgument'; Hint = 'NM'
            Act = { param($c) $c.Model | Invoke-Pruning -Pattern 1:4 } }
        @{ Case = 'Set-Sparsity -Threshold with -Scope'; ErrorId = 'ParameterNotApplicable'; Category = 'InvalidArgument'; Hint = '-Scope'
            Act = { param($c) $c.Model | Set-Sparsity -Threshold 0.1 -Scope Global } }
        @{ Case = 'Get-Dataset Digits -Path'; ErrorId = 'ParameterNotApplicable'; Category = 'InvalidArgument'; Hint = 'Import-Dataset'
            Act = { param($c) Get-Dataset Digits -Path (Split-Path $c.Missing) } }
        @{ Case = 'Get-Dataset FashionMnist -TestFraction'; ErrorId = 'ParameterNotApplicable'; Category = 'InvalidArgument'; Hint = 'official'
            Act = { param($c) Get-Dataset FashionMnist -TestFraction 0.5 } }
        @{ Case = 'Import-Mlp -Dataset that does not fit the model'; ErrorId = 'FeatureMismatch'; Category = 'InvalidArgument'; Hint = '64'
            Act = { param($c) Import-Mlp $c.Valid -Dataset $c.Digits } }
        @{ Case = 'Invoke-Pruning -FineTuneLearningRate without -FineTuneEpochs'; ErrorId = 'ParameterNotApplicable'; Category = 'InvalidArgument'; Hint = '-FineTuneEpochs'
            Act = { param($c) $c.Model | Invoke-Pruning -Ratio 0.5 -FineTuneLearningRate 0.01 } }
        @{ Case = 'Import-Dataset of a damaged .csv.gz'; ErrorId = 'InvalidCsvFile'; Category = 'InvalidData'; Hint = 'gzip'
            Act = { param($c) Import-Dataset $c.BadGzip } }
    ) {
        $model = $Ctx.Model
        $print = Get-ModelFingerprint $model
        $history = $model.History.Count
        $files = @{}
        foreach ($f in Get-ChildItem $TestDrive -File) { $files[$f.Name] = (Get-FileHash $f.FullName).Hash }

        $err = Get-ThrownError -Action $Act -ArgumentList $Ctx

        $err | Should -Not -BeNullOrEmpty -Because "$Case must fail"
        $err | Should -BeOfType System.Management.Automation.ErrorRecord
        ($err.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly $ErrorId
        "$($err.CategoryInfo.Category)" | Should -Be $Category
        $err.Exception.Message | Should -BeLike "*$Hint*"
        $err.Exception | Should -BeOfType SparsePrune.SparsePruneException
        $err.Exception.ErrorId | Should -BeExactly $ErrorId

        # nothing changed: the model, and every file in the test folder
        Get-ModelFingerprint $model | Should -BeExactly $print
        $model.History.Count | Should -Be $history
        $model.Baseline | Should -BeNullOrEmpty
        foreach ($f in Get-ChildItem $TestDrive -File) { (Get-FileHash $f.FullName).Hash | Should -Be $files[$f.Name] -Because "$($f.Name) must not change" }
        @(Get-ChildItem $TestDrive -File).Count | Should -Be $files.Count
        Test-Path $Ctx.Missing | Should -BeFalse

        # the session goes on: new models, predictions and the old model all work
        $label = (Invoke-Mlp -Model (New-Mlp 4, 3 -Seed 1) -InputObject ([double[]](1, 2, 3, 4))).Label
        $label | Should -BeIn @('0', '1', '2')
        @(Invoke-Mlp -Model $model -InputObject ([double[]](5.1, 3.5, 1.4, 0.2))).Count | Should -Be 1
    }
}

Describe 'Bad input that must not stop at the first step' {
    It 'Export-Mlp of two models to one path writes the first and fails on the second (DuplicatePath)' {
        $path = Join-Path $TestDrive 'both.spmlp'
        $first = New-Mlp 4, 3 -Seed 1 -Name first
        $second = New-Mlp 4, 3 -Seed 2 -Name second
        $err = Get-ThrownError -Action { param($c) $c[0], $c[1] | Export-Mlp $c[2] -Force } -ArgumentList @(, @($first, $second, $path))
        ($err.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'DuplicatePath'
        (Import-Mlp $path).Name | Should -Be 'first'
    }
}


Describe 'Optional parameters passed through as $null or by $PSDefaultParameterValues' {
    It 'treats -Seed $null and -FineTuneLearningRate $null as not given' {
        $s = $null
        $m = New-Mlp 4, 8, 3 -Seed 1
        { $m | Set-Sparsity -Sparsity 0.3 -Seed $s } | Should -Not -Throw
        { $m | Invoke-Pruning -Ratio 0.3 -Seed $s -FineTuneLearningRate $s -WarningAction SilentlyContinue } | Should -Not -Throw
        $m.Weights | Should -Be (32 + 24 - 9 - 7)
    }

    It 'does not reject a session-wide default -Seed where a seed is not needed' {
        $PSDefaultParameterValues['Set-Sparsity:Seed'] = 7
        try { { New-Mlp 4, 8, 3 -Seed 1 | Set-Sparsity -Sparsity 0.3 } | Should -Not -Throw }
        finally { $PSDefaultParameterValues.Remove('Set-Sparsity:Seed') }
    }

    It 'Export-Mlp -WhatIf of two models to one path writes nothing and does not fail' {
        $path = Join-Path $TestDrive 'whatif-both.spmlp'
        { New-Mlp 4, 3 -Seed 1 | ForEach-Object { $_, (New-Mlp 4, 3 -Seed 2) } | Export-Mlp $path -WhatIf } | Should -Not -Throw
        Test-Path $path | Should -BeFalse
    }

    It 'rejects a feature whose range overflows single precision (InvalidFeatureValue)' {
        $rows = 1..12 | ForEach-Object { [pscustomobject]@{ f1 = $(if ($_ % 3) { 3e38 } else { -3e38 }); f2 = $_; y = $_ % 2 } }
        $err = Get-ThrownError -Action { param($r) $r | ConvertTo-Dataset -TargetProperty y -Normalize MinMax } -ArgumentList @(, $rows)
        ($err.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'InvalidFeatureValue'
        $err.Exception.Message | Should -Match 'f1'
    }
}
