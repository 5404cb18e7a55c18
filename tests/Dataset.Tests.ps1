# Get-Dataset, Import-Dataset (CSV and IDX), ConvertTo-Dataset: counts, splits, classes, normalization.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:IrisCsv = Join-Path $PSScriptRoot 'data/iris.csv'
    $script:Iris = Get-IrisTable

    function script:ConvertTo-BigEndian([int] $v) { $b = [BitConverter]::GetBytes($v); [Array]::Reverse($b); , $b }

    # Writes an IDX image file (magic 0x803) and a label file (magic 0x801).
    function script:Write-Idx {
        param([string] $Folder, [string] $Prefix, [byte[][]] $Images, [int] $Rows, [int] $Cols, [byte[]] $Labels, [switch] $Gzip)
        $img = [Collections.Generic.List[byte]]::new()
        $img.AddRange([byte[]](0, 0, 8, 3)); $img.AddRange((ConvertTo-BigEndian $Images.Count))
        $img.AddRange((ConvertTo-BigEndian $Rows)); $img.AddRange((ConvertTo-BigEndian $Cols))
        foreach ($i in $Images) { $img.AddRange($i) }
        $lab = [Collections.Generic.List[byte]]::new()
        $lab.AddRange([byte[]](0, 0, 8, 1)); $lab.AddRange((ConvertTo-BigEndian $Labels.Count)); $lab.AddRange($Labels)
        foreach ($pair in @(@("$Prefix-images-idx3-ubyte", $img), @("$Prefix-labels-idx1-ubyte", $lab))) {
            $path = Join-Path $Folder $pair[0]
            if ($Gzip) {
                $fs = [IO.File]::Create("$path.gz")
                $gz = [IO.Compression.GZipStream]::new($fs, [IO.Compression.CompressionMode]::Compress)
                $gz.Write($pair[1].ToArray(), 0, $pair[1].Count); $gz.Dispose(); $fs.Dispose()
            }
            else { [IO.File]::WriteAllBytes($path, $pair[1].ToArray()) }
        }
    }
}

Describe 'Get-Dataset' {
    It 'loads Digits: 1797 rows of 64 pixels, 10 classes, a 20 % test split' {
        $d = Get-Dataset Digits
        $d | Should -BeOfType SparsePrune.Dataset
        $d.Name | Should -Be 'Digits'
        "$($d.Task)" | Should -Be 'Classification'
        $d.Features | Should -Be 64
        $d.Classes | Should -Be 10
        ($d.TrainCount + $d.TestCount) | Should -Be 1797
        $d.TestCount | Should -Be (Get-FloorCount 0.2 1797)
        $d.FeatureNames.Count | Should -Be 64
        ($d.ClassNames -join ',') | Should -Be ((0..9) -join ',')
    }

    It 'loads Iris with the same rows and classes as the CSV' {
        $d = Get-Dataset Iris
        $d.Features | Should -Be 4
        ($d.TrainCount + $d.TestCount) | Should -Be $Iris.Rows.Count
        $d.TestCount | Should -Be (Get-FloorCount 0.2 $Iris.Rows.Count)
        ($d.ClassNames -join ',') | Should -Be (($Iris.Species | Sort-Object -Unique) -join ',')
        ($d.FeatureNames -join ',') | Should -Be ($Iris.Features -join ',')
    }

    It 'generates Synthetic: a regression on 10 features' {
        $d = Get-Dataset Synthetic
        "$($d.Task)" | Should -Be 'Regression'
        $d.Features | Should -Be 10
        $d.Classes | Should -Be 0
        $d.TrainCount | Should -BeGreaterThan 0
        $d.TestCount | Should -Be (Get-FloorCount 0.2 ($d.TrainCount + $d.TestCount))
    }

    It 'honours -TestFraction <Fraction>' -ForEach @(@{ Fraction = 0.5 }, @{ Fraction = 0.1 }, @{ Fraction = 0.0 }) {
        $d = Get-Dataset Iris -TestFraction $Fraction
        $d.TestCount | Should -Be (Get-FloorCount $Fraction 150)
        $d.TrainCount | Should -Be (150 - (Get-FloorCount $Fraction 150))
    }

    It 'splits the same way for the same -Seed and differently for another' {
        $a = Get-DatasetArray (Get-Dataset Iris -Seed 1) 'TestY'
        $b = Get-DatasetArray (Get-Dataset Iris -Seed 1) 'TestY'
        $ax = Get-DatasetArray (Get-Dataset Iris -Seed 1) 'TestX'
        $cx = Get-DatasetArray (Get-Dataset Iris -Seed 2) 'TestX'
        ($a -join ',') | Should -Be ($b -join ',')
        (ConvertTo-FloatHex -Values $ax) | Should -Not -Be (ConvertTo-FloatHex -Values $cx)
    }

    It 'standardizes features with train statistics by default (-Normalize Standard)' {
        # TestFraction 0: the train split is every row, so its statistics are the CSV's.
        $d = Get-Dataset Iris -TestFraction 0
        "$($d.Normalization)" | Should -Be 'Standard'
        $x = Get-DatasetArray $d 'TrainX'
        $stats = Get-ColumnStatistics $Iris.Rows
        for ($j = 0; $j -lt 4; $j++) {
            $col = for ($i = $j; $i -lt $x.Length; $i += 4) { [double]$x[$i] }
            $expected = $Iris.Rows | ForEach-Object { ($_[$j] - $stats.Mean[$j]) / $stats.Std[$j] }
            $col = $col | Sort-Object; $expected = $expected | Sort-Object
            $worst = 0.0
            for ($i = 0; $i -lt $col.Count; $i++) { $worst = [Math]::Max($worst, [Math]::Abs($col[$i] - $expected[$i])) }
            $worst | Should -BeLessThan 1e-4 -Because "column $j is (x - mean) / std"
            $col.Count | Should -Be 150
        }
    }

    It 'scales to [0, 1] with -Normalize MinMax and keeps raw values with -Normalize None' {
        $mm = Get-DatasetArray (Get-Dataset Iris -TestFraction 0 -Normalize MinMax) 'TrainX'
        $none = Get-DatasetArray (Get-Dataset Iris -TestFraction 0 -Normalize None) 'TrainX'
        for ($j = 0; $j -lt 4; $j++) {
            $col = for ($i = $j; $i -lt $mm.Length; $i += 4) { $mm[$i] }
            $s = $col | Measure-Object -Minimum -Maximum
            $s.Minimum | Should -Be 0
            [Math]::Abs($s.Maximum - 1) | Should -BeLessThan 1e-6
            $raw = $(for ($i = $j; $i -lt $none.Length; $i += 4) { [float]$none[$i] }) | Sort-Object
            $csv = ($Iris.Rows | ForEach-Object { [float]$_[$j] }) | Sort-Object
            ($raw -join ',') | Should -Be ($csv -join ',')
        }
    }

    It 'loads Fashion-MNIST from /usr/share/datasets/fashion-mnist: 60000 train, 10000 test, 784 features (skipped when dataset-fashion-mnist is not installed)' -Skip:(-not (Test-Path '/usr/share/datasets/fashion-mnist')) {
        $d = Get-Dataset FashionMnist
        $d.TrainCount | Should -Be 60000
        $d.TestCount | Should -Be 10000
        $d.Features | Should -Be 784
        $d.Classes | Should -Be 10
    }
}

Describe 'Import-Dataset' {
    It 'reads a CSV with a header; the last column is the target' {
        $d = Import-Dataset -Path $IrisCsv
        $d.Name | Should -Be 'iris'
        "$($d.Task)" | Should -Be 'Classification'
        $d.Features | Should -Be 4
        ($d.FeatureNames -join ',') | Should -Be ($Iris.Features -join ',')
        $d.Classes | Should -Be 3
        ($d.TrainCount + $d.TestCount) | Should -Be 150
    }

    It 'takes the path from the pipeline (Get-ChildItem)' {
        $d = Get-Item $IrisCsv | Import-Dataset
        $d.Features | Should -Be 4
    }

    It 'uses -TargetColumn for a target that is not last, and -Task Regression for a numeric one' {
        $moved = Join-Path $TestDrive 'species-first.csv'
        Import-Csv $IrisCsv | Select-Object species, sepal_length, sepal_width, petal_length, petal_width | Export-Csv $moved -NoTypeInformation
        $d = Import-Dataset $moved -TargetColumn species
        ($d.FeatureNames -join ',') | Should -Be ($Iris.Features -join ',')
        $d.Classes | Should -Be 3

        $numeric = Join-Path $TestDrive 'numeric.csv'
        Import-Csv $IrisCsv | Select-Object sepal_length, sepal_width, petal_length, petal_width | Export-Csv $numeric -NoTypeInformation
        $r = Import-Dataset $numeric -TargetColumn sepal_length -Task Regression
        "$($r.Task)" | Should -Be 'Regression'
        $r.Features | Should -Be 3
        ($r.FeatureNames -join ',') | Should -Be 'sepal_width,petal_length,petal_width'
        $r.Classes | Should -Be 0
    }

    It 'reads a folder of IDX files (plain and .gz), keeping the official split' {
        $folder = Join-Path $TestDrive 'idx'
        New-Item -ItemType Directory $folder | Out-Null
        $train = @(for ($i = 0; $i -lt 6; $i++) { , [byte[]](0..8 | ForEach-Object { ($i * 9 + $_) % 256 }) })
        $test = @(for ($i = 0; $i -lt 4; $i++) { , [byte[]](0..8 | ForEach-Object { (200 + $i + $_) % 256 }) })
        Write-Idx -Folder $folder -Prefix train -Images $train -Rows 3 -Cols 3 -Labels ([byte[]](0, 1, 2, 0, 1, 2))
        Write-Idx -Folder $folder -Prefix t10k -Images $test -Rows 3 -Cols 3 -Labels ([byte[]](2, 1, 0, 1)) -Gzip
        $d = Import-Dataset -Path $folder -Normalize None
        $d.TrainCount | Should -Be 6
        $d.TestCount | Should -Be 4
        $d.Features | Should -Be 9
        $d.Classes | Should -Be 3
        "$($d.Task)" | Should -Be 'Classification'
        # -Normalize None: the pixels are taken as they are, in file order
        (Get-DatasetArray $d 'TrainX') -join ',' | Should -Be (($train | ForEach-Object { $_ }) -join ',')
        (Get-DatasetArray $d 'TestY') -join ',' | Should -Be '2,1,0,1'
        # the same folder through Get-Dataset -Path
        (Get-Dataset FashionMnist -Path $folder).TrainCount | Should -Be 6
    }

    It 'reads IDX files by prefix (folder/fashion-train-images-idx3-ubyte.gz, ...) and takes -Name' {
        $folder = Join-Path $TestDrive 'idx-prefix'
        New-Item -ItemType Directory $folder | Out-Null
        $train = @(for ($i = 0; $i -lt 5; $i++) { , [byte[]](0..3 | ForEach-Object { ($i * 4 + $_) % 256 }) })
        $test = @(for ($i = 0; $i -lt 3; $i++) { , [byte[]](0..3 | ForEach-Object { (100 + $i + $_) % 256 }) })
        Write-Idx -Folder $folder -Prefix fashion-train -Images $train -Rows 2 -Cols 2 -Labels ([byte[]](0, 1, 0, 1, 1)) -Gzip
        Write-Idx -Folder $folder -Prefix fashion-t10k -Images $test -Rows 2 -Cols 2 -Labels ([byte[]](1, 0, 1)) -Gzip
        $d = Import-Dataset -Path (Join-Path $folder 'fashion-') -Normalize None
        $d.Name | Should -Be 'fashion'
        $d.TrainCount | Should -Be 5
        $d.TestCount | Should -Be 3
        $d.Features | Should -Be 4
        (Get-DatasetArray $d 'TrainX') -join ',' | Should -Be (($train | ForEach-Object { $_ }) -join ',')
        (Import-Dataset -Path (Join-Path $folder 'fashion-') -Name 'mine').Name | Should -Be 'mine'
        (Import-Dataset -Path (Join-Path $PSScriptRoot 'data/iris.csv') -Name 'flowers').Name | Should -Be 'flowers'
    }
}

Describe 'ConvertTo-Dataset' {
    It 'turns Import-Csv rows into a data set (Import-Csv x.csv | ConvertTo-Dataset -TargetProperty species)' {
        $d = Import-Csv $IrisCsv | ConvertTo-Dataset -TargetProperty species
        $d | Should -BeOfType SparsePrune.Dataset
        $d.Features | Should -Be 4
        ($d.FeatureNames -join ',') | Should -Be ($Iris.Features -join ',')
        ($d.ClassNames -join ',') | Should -Be (($Iris.Species | Sort-Object -Unique) -join ',')
        ($d.TrainCount + $d.TestCount) | Should -Be 150
        # the same numbers as Import-Dataset of the same file
        $fromFile = Import-Dataset $IrisCsv
        (ConvertTo-FloatHex -Values (Get-DatasetArray $d 'TrainX')) | Should -Be (ConvertTo-FloatHex -Values (Get-DatasetArray $fromFile 'TrainX'))
    }

    It 'takes -FeatureProperty in the given order and numbers from objects' {
        $d = Import-Csv $IrisCsv | ConvertTo-Dataset -TargetProperty species -FeatureProperty petal_width, sepal_length -Name flowers
        $d.Name | Should -Be 'flowers'
        ($d.FeatureNames -join ',') | Should -Be 'petal_width,sepal_length'
        $rows = 1..40 | ForEach-Object { [pscustomobject]@{ a = $_; b = [Math]::Sqrt($_); y = 2.5 * $_ + 0.25 } }
        $r = $rows | ConvertTo-Dataset -TargetProperty y -TestFraction 0.25 -Normalize None
        "$($r.Task)" | Should -Be 'Regression'
        $r.Features | Should -Be 2
        $r.TestCount | Should -Be 10
        $y = (Get-DatasetArray $r 'TrainY') + (Get-DatasetArray $r 'TestY') | Sort-Object
        ($y -join ',') | Should -Be (($rows | ForEach-Object { [float]$_.y } | Sort-Object) -join ',')
    }

    It 'makes classes of a few integer targets, ordered by value' {
        $rows = 1..30 | ForEach-Object { [pscustomobject]@{ x = $_; label = @(10, 2, 1)[$_ % 3] } }
        $d = $rows | ConvertTo-Dataset -TargetProperty label
        "$($d.Task)" | Should -Be 'Classification'
        ($d.ClassNames -join ',') | Should -Be '1,2,10'
    }

    It 'feeds a model that Invoke-Training, Measure-Mlp and Get-CompressionReport accept' {
        $d = Import-Csv $IrisCsv | ConvertTo-Dataset -TargetProperty species
        $m = New-Mlp 4, 8, 3 -Seed 1 | Invoke-Training -Dataset $d -Epochs 20 -LearningRate 0.01 -Seed 1
        (Measure-Mlp $m).Accuracy | Should -BeGreaterThan 0.6
        ($m | Get-CompressionReport).Dataset | Should -Be $d.Name
    }
}

Describe 'Targets and normalization edge cases' {
    It 'takes -0 and 0 as one class' {
        $rows = foreach ($i in 0..11) { [pscustomobject]@{ x = $i; y = @('-0', '0', '1')[$i % 3] } }
        $d = $rows | ConvertTo-Dataset -TargetProperty y -TestFraction 0.25
        $d.Classes | Should -Be 2
        $d.ClassNames -join ',' | Should -Be '0,1'
    }

    It 'evaluates a model the same on data sets normalized differently (the model keeps its own normalization)' {
        $standard = Get-Dataset Iris
        $m = New-Mlp 4, 8, 3 -Seed 5 | Invoke-Training -Dataset $standard -Epochs 40 -LearningRate 0.01 -Seed 1
        $a = (Measure-Mlp $m -Repeat 1).Accuracy
        $none = (Measure-Mlp $m -Dataset (Get-Dataset Iris -Normalize None) -Repeat 1).Accuracy
        $minmax = (Measure-Mlp $m -Dataset (Get-Dataset Iris -Normalize MinMax) -Repeat 1).Accuracy
        $none | Should -Be $a
        $minmax | Should -Be $a
        $a | Should -BeGreaterThan 0.6 -Because 'the comparison is between a trained model''s results'

    }
}
