# A data set meets a model by column name wherever the two meet: a CSV with the model's columns in
# another order gives the same metric (and the same training) as the original order; a renamed,
# narrower or wider CSV is refused with FeatureMismatch naming the columns, and the model is left
# as it was. Each cmdlet that takes a data set beside a model is checked.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force

    $iris = Join-Path $PSScriptRoot 'data/iris.csv'
    $rows = Import-Csv $iris
    function Save-Csv([string] $Name, [object[]] $Columns) {
        $path = Join-Path $TestDrive "$Name.csv"
        $rows | Select-Object $Columns | Export-Csv -Path $path
        Import-Dataset $path -TargetColumn species -Seed 7
    }
    $script:Original = Save-Csv 'original' @('sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species')
    $script:Reordered = Save-Csv 'reordered' @('species', 'petal_width', 'sepal_length', 'petal_length', 'sepal_width')
    $script:Renamed = Save-Csv 'renamed' @(@{ n = 'length'; e = { $_.sepal_length } }, 'sepal_width', 'petal_length', 'petal_width', 'species')
    $script:Narrower = Save-Csv 'narrower' @('sepal_width', 'petal_length', 'petal_width', 'species')
    $script:Wider = Save-Csv 'wider' @(@{ n = 'id'; e = { $rows.IndexOf($_) } }, 'sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species')

    $script:Model = New-Mlp 4, 16, 3 -Seed 3 -Name 'flowers' | Invoke-Training -Dataset $Original -Epochs 40 -LearningRate 0.01 -Seed 3
    $script:OriginalMeasure = Measure-Mlp $Model -Dataset $Original

    # The error a script block ends with (or $null when it ends without one).
    function Get-ErrorRecord([scriptblock] $Work) {
        try { & $Work | Out-Null; $null } catch { $_ }
    }
}

Describe 'The data sets themselves' {
    It 'name the same features in another order (the reordered set is not the original by accident)' {
        ($Reordered.FeatureNames -join ',') | Should -Be 'petal_width,sepal_length,petal_length,sepal_width'
        ($Original.FeatureNames -join ',') | Should -Be 'sepal_length,sepal_width,petal_length,petal_width'
        $Reordered.HasFeatureNames | Should -BeTrue
    }

    It 'would score differently if the reordered columns were read by position' {
        # A model that knows no names (never trained) reads by position: it then sees other inputs.
        $nameless = New-Mlp 4, 16, 3 -Seed 3
        $nameless.FeatureNames | Should -BeNullOrEmpty
        (Measure-Mlp $nameless -Dataset $Reordered).Loss | Should -Not -Be (Measure-Mlp $nameless -Dataset $Original).Loss
    }
}

Describe 'Columns in another order give what the original order gives' {
    It 'Measure-Mlp: the same accuracy and loss' {
        $m = Measure-Mlp $Model -Dataset $Reordered
        $m.Accuracy | Should -Be $OriginalMeasure.Accuracy
        $m.Loss | Should -Be $OriginalMeasure.Loss
    }

    It 'Import-Mlp -Dataset: the imported model measures as the original on its attached data set' {
        $path = Join-Path $TestDrive 'flowers.spmlp'
        $Model | Export-Mlp -Path $path -Force
        $imported = Import-Mlp $path -Dataset $Reordered
        $m = Measure-Mlp $imported
        $m.Dataset | Should -Be 'reordered'
        $m.Accuracy | Should -Be $OriginalMeasure.Accuracy
        $m.Loss | Should -Be $OriginalMeasure.Loss
    }

    It 'Invoke-Training: the same weights, bit for bit, and the model keeps its own column order' {
        $a = $Model | Copy-Mlp | Invoke-Training -Dataset $Original -Epochs 3 -Seed 5
        $b = $Model | Copy-Mlp | Invoke-Training -Dataset $Reordered -Epochs 3 -Seed 5
        Get-ModelFingerprint $b | Should -Be (Get-ModelFingerprint $a)
        Get-ModelFingerprint $b | Should -Not -Be (Get-ModelFingerprint $Model) -Because 'training must have changed the weights'
        ($b.FeatureNames -join ',') | Should -Be ($Model.FeatureNames -join ',')
    }

    It 'Invoke-Pruning -Dataset (fine-tuned): the same weights and the same report' {
        $a = $Model | Copy-Mlp | Invoke-Pruning -Ratio 0.5 -FineTuneEpochs 2 -Dataset $Original -Seed 5
        $b = $Model | Copy-Mlp | Invoke-Pruning -Ratio 0.5 -FineTuneEpochs 2 -Dataset $Reordered -Seed 5
        Get-ModelFingerprint $b | Should -Be (Get-ModelFingerprint $a)
        $ra = $a | Get-CompressionReport -Dataset $Original
        $rb = $b | Get-CompressionReport -Dataset $Reordered
        $rb.Metric | Should -Be $ra.Metric
        $rb.BaselineMetric | Should -Be $ra.BaselineMetric
    }

    It 'Invoke-PruningSweep: every point gets the same metric' {
        $grid = @{ Ratio = 0.3, 0.6 }
        $a = @($Model | Invoke-PruningSweep -Dataset $Original -Grid $grid -Seed 2 | Sort-Object Point)
        # Over worker processes: the data set crosses as bytes, its names with it.
        $b = @($Model | Invoke-PruningSweep -Dataset $Reordered -Grid $grid -Seed 2 -ThrottleLimit 2 | Sort-Object Point)
        $b.Count | Should -Be 2
        ($b.Metric -join ',') | Should -Be ($a.Metric -join ',')
        ($b.BaselineMetric -join ',') | Should -Be ($a.BaselineMetric -join ',')
    }

    It 'Should-HaveAccuracy -On: passes at the accuracy measured on the original order, fails just above it' {
        $accuracy = $OriginalMeasure.Accuracy
        { $Model | Should-HaveAccuracy $accuracy -On $Reordered } | Should -Not -Throw
        if ($accuracy -lt 1) {
            { $Model | Should-HaveAccuracy ([Math]::Min(1, $accuracy + 0.01)) -On $Reordered } | Should -Throw
        }
    }
}

Describe 'Other columns are refused, naming them, and the model is left as it was' {
    BeforeDiscovery {
        $sets = @(
            @{ Set = 'Renamed'; Names = @('sepal_length', 'length') }
            @{ Set = 'Narrower'; Names = @('sepal_length') }
            @{ Set = 'Wider'; Names = @('id') }
        )
        $acts = @(
            @{ Cmdlet = 'Measure-Mlp'; Act = { param($m, $d) Measure-Mlp $m -Dataset $d } }
            @{ Cmdlet = 'Import-Mlp -Dataset'; Act = { param($m, $d, $path) Import-Mlp $path -Dataset $d } }
            @{ Cmdlet = 'Invoke-Training'; Act = { param($m, $d) $m | Invoke-Training -Dataset $d -Epochs 1 } }
            @{ Cmdlet = 'Invoke-Pruning -Dataset'; Act = { param($m, $d) $m | Invoke-Pruning -Ratio 0.5 -FineTuneEpochs 1 -Dataset $d } }
            @{ Cmdlet = 'Invoke-PruningSweep'; Act = { param($m, $d) $m | Invoke-PruningSweep -Dataset $d -Grid @{ Ratio = 0.5 } } }
            @{ Cmdlet = 'Should-HaveAccuracy'; Act = { param($m, $d) $m | Should-HaveAccuracy 0.5 -On $d } }
        )
        $script:Cases = foreach ($s in $sets) { foreach ($a in $acts) { $s + $a } }
    }

    It '<Cmdlet> on the <Set> CSV: FeatureMismatch naming <Names>' -ForEach $Cases {
        $model = $Model | Copy-Mlp
        $path = Join-Path $TestDrive "$Set.spmlp"
        $model | Export-Mlp -Path $path -Force
        $before = Get-ModelFingerprint $model
        $history = $model.History.Count
        $data = Get-Variable -Name $Set -ValueOnly

        $e = Get-ErrorRecord { & $Act $model $data $path }
        $e | Should -Not -BeNullOrEmpty -Because "$Cmdlet must refuse the $Set data set"
        $e.FullyQualifiedErrorId | Should -BeLike 'FeatureMismatch,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        foreach ($name in $Names) { $e.Exception.Message | Should -BeLike "*'$name'*" }
        Get-ModelFingerprint $model | Should -Be $before
        $model.History.Count | Should -Be $history
    }
}

Describe 'Import-Dataset -ExcludeColumn' {
    It 'leaves an ID column out, so the model trained on it scores a file without that column' {
        $withId = Join-Path $TestDrive 'with-id.csv'
        $rows | Select-Object @{ n = 'customer_id'; e = { 1000 + $rows.IndexOf($_) } }, * | Export-Csv -Path $withId
        $d = Import-Dataset $withId -ExcludeColumn customer_id -Seed 7
        ($d.FeatureNames -join ',') | Should -Be 'sepal_length,sepal_width,petal_length,petal_width'
        $m = New-Mlp 4, 8, 3 -Seed 1 | Invoke-Training -Dataset $d -Epochs 2 -Seed 1
        (Measure-Mlp $m -Dataset $Original).Accuracy | Should -Be (Measure-Mlp $m -Dataset $d).Accuracy
    }

    It 'warns of a column that counts rows, as an ID does, until it is left out' {
        $withId = Join-Path $TestDrive 'with-id.csv'
        $rows | Select-Object @{ n = 'customer_id'; e = { 1000 + $rows.IndexOf($_) } }, * | Export-Csv -Path $withId
        $null = Import-Dataset $withId -WarningVariable warned -WarningAction SilentlyContinue
        @($warned).Count | Should -Be 1
        "$($warned[0])" | Should -BeLike "*'customer_id'*identifier*-ExcludeColumn customer_id*"
        $null = Import-Dataset $withId -ExcludeColumn customer_id -WarningVariable quiet -WarningAction SilentlyContinue
        @($quiet).Count | Should -Be 0
        $null = $rows | Select-Object @{ n = 'n'; e = { $rows.IndexOf($_) } }, * | ConvertTo-Dataset -TargetProperty species -WarningVariable fromObjects -WarningAction SilentlyContinue
        "$($fromObjects[0])" | Should -BeLike "*'n'*identifier*-FeatureProperty*"
        # Whole numbers that repeat (a count, a category) are measurements, not identifiers.
        $null = Import-Dataset (Join-Path $TestDrive 'original.csv') -TargetColumn species -WarningVariable none -WarningAction SilentlyContinue
        @($none).Count | Should -Be 0
    }

    It 'refuses a column that is not there, the target, and IDX folders' {
        { Import-Dataset $iris -ExcludeColumn nope } | Should -Throw -ErrorId 'ExcludedColumnNotFound,*'
        { Import-Dataset $iris -ExcludeColumn species -TargetColumn species } | Should -Throw -ErrorId 'TargetColumnExcluded,*'
        { Import-Dataset $TestDrive -ExcludeColumn x } | Should -Throw -ErrorId 'ParameterNotApplicable,*'
    }
}

Describe 'Invoke-Mlp takes the model from the pipeline too' {
    It '$model | Invoke-Mlp -InputObject $rows predicts what Invoke-Mlp $model does' {
        $sample = @($rows | Select-Object -First 5)
        $piped = @($Model | Invoke-Mlp -InputObject $sample)
        $named = @($sample | Invoke-Mlp $Model)
        $piped.Count | Should -Be 5
        ($piped.Label -join ',') | Should -Be ($named.Label -join ',')
        ($piped.Probability -join ',') | Should -Be ($named.Probability -join ',')
    }

    It 'each piped model predicts every row, numbered from 0' {
        $other = $Model | Copy-Mlp | Set-Sparsity -Sparsity 0.9
        $out = @($Model, $other | Invoke-Mlp -InputObject @($rows | Select-Object -First 3))
        $out.Count | Should -Be 6
        ($out.Row -join ',') | Should -Be '0,1,2,0,1,2'
        ($out[3..5].Probability -join ',') | Should -Be ((@($rows | Select-Object -First 3) | Invoke-Mlp $other).Probability -join ',')
    }
}
