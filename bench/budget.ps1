#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Whether Invoke-Pruning -MaxAccuracyDrop holds on the test split: how often, and at what ratio.
.DESCRIPTION
    For each data set and seed a model is trained on the training split, then copies of it are
    pruned with Invoke-Pruning -MaxAccuracyDrop (-Scope Layer, one-shot, no fine-tuning: the
    case a user reported), once per variant of the search. The test split, which the search
    never sees, then says what the budget bought: a run holds when the test accuracy fell by no
    more than the budget. Per data set and variant the bench reports how many runs held, the mean
    ratio reached (pruned weights over the baseline's), the mean and worst test drop, the mean drop
    the search measured on its validation rows, and how many runs warned that the split is too
    small for the budget.

    Variants (-Variant, any of):
      before         -Confidence 0.5 -ValidationFraction 0.1: the measured validation drop alone on
                     10 % of the training rows, which is the search as it was before the bound
                     (at 0.5 the bound is the measured drop, and every other step is unchanged).
      after          the defaults as they are now: -Confidence 0.95, and without training
                     -ValidationFraction 0.5.
      bound          -Confidence 0.95 -ValidationFraction 0.1: the paired bound on the default split.
      split30        -Confidence 0.5 -ValidationFraction 0.3: the measured drop on a split three
                     times larger.
      bound-split30  -Confidence 0.95 -ValidationFraction 0.3.
      bound-split50  -Confidence 0.95 -ValidationFraction 0.5.

    Data sets:
      Iris           embedded, 150 rows (30 test): one test row is 3.3 points.
      BreastCancer   Debian's python3-sklearn breast_cancer.csv (569 rows, 30 features; BSD-3,
                     UCI origin); its first line is a counts line, converted to a header here.
      Digits         embedded, 1797 rows (360 test).
      FashionMnist   the first -FashionTrainRows rows of the official training set (4000 by default,
                     the size of the reported CSV; 400 validation rows at 10 %) and the official
                     10,000 test rows, so that a test row is 0.01 points.
    Sizes and epochs are kept small so that the full run fits in about 40 minutes on two busy cores.
    Writes budget.json and budget.md to -ResultsDir.

    -Quick runs before and after on Digits, two seeds, few epochs, in under a minute of work, and
    checks that the output has its shape; build.ps1 test runs it.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name budget
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [switch] $Quick,
    [int[]] $Seeds = @(0..9),
    [ValidateSet('before', 'after', 'bound', 'split30', 'bound-split30', 'bound-split50')]
    [string[]] $Variant = @('before', 'after'),
    [ValidateSet('Iris', 'BreastCancer', 'Digits', 'FashionMnist')]
    [string[]] $Dataset = @('Iris', 'BreastCancer', 'Digits', 'FashionMnist'),
    [double] $MaxAccuracyDrop = 0.01,
    [int] $FashionTrainRows = 4000,
    [string] $FashionMnistPath = '/usr/share/datasets/fashion-mnist',
    [string] $SklearnDataPath = '/usr/lib/python3/dist-packages/sklearn/datasets/data'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force
$Invariant = [Globalization.CultureInfo]::InvariantCulture

$Variants = @{
    'before'        = @{ Confidence = 0.5; ValidationFraction = 0.1 }
    'after'         = @{}
    'bound'         = @{ Confidence = 0.95; ValidationFraction = 0.1 }
    'split30'       = @{ Confidence = 0.5; ValidationFraction = 0.3 }
    'bound-split30' = @{ Confidence = 0.95; ValidationFraction = 0.3 }
    'bound-split50' = @{ Confidence = 0.95; ValidationFraction = 0.5 }
}

# Per data set: the widths after the input, training epochs and batch size. Chosen to train in
# seconds here and to reach a plateau where pruning can hurt.
$Recipes = @{
    Iris         = @{ Hidden = 16, 16; Epochs = 60; BatchSize = 16 }
    BreastCancer = @{ Hidden = 32, 16; Epochs = 30; BatchSize = 32 }
    Digits       = @{ Hidden = 32, 16; Epochs = 10; BatchSize = 64 }
    FashionMnist = @{ Hidden = 128, 64; Epochs = 6; BatchSize = 64 }
}
if ($Quick) {
    $Seeds = @($Seeds[0..1])
    $Dataset = @('Digits')
    $Variant = @('before', 'after')
    $Recipes.Digits.Epochs = 3
}

$work = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-budget-$PID"
New-Item -ItemType Directory -Force -Path $work | Out-Null

function Get-BreastCancerCsv {
    # The file's first line counts rows and features and names the classes; the rows follow,
    # 30 features and the class index. A header line instead lets Import-Dataset read it.
    $source = Join-Path $SklearnDataPath 'breast_cancer.csv'
    if (-not (Test-Path $source)) { throw "$source is missing: install python3-sklearn (build.ps1 bench does) or give -SklearnDataPath." }
    $lines = Get-Content $source
    $features = [int](($lines[0] -split ',')[1])
    $csv = Join-Path $work 'breast_cancer.csv'
    $header = (@(1..$features | ForEach-Object { "f$_" }) + 'diagnosis') -join ','
    Set-Content -Path $csv -Value (@($header) + @($lines | Select-Object -Skip 1))
    $csv
}

function Get-FashionSubsetFolder {
    # The first rows of the training set, as IDX files beside the untouched test files, so that
    # Get-Dataset -Path reads a smaller training split and the official test split.
    foreach ($f in 'train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz') {
        if (-not (Test-Path (Join-Path $FashionMnistPath $f))) { throw "Fashion-MNIST is not in ${FashionMnistPath}: install dataset-fashion-mnist (build.ps1 bench does) or give -FashionMnistPath." }
    }
    $folder = Join-Path $work 'fashion'
    New-Item -ItemType Directory -Force -Path $folder | Out-Null
    function Read-Gz([string] $Path) {
        $in = [IO.Compression.GZipStream]::new([IO.File]::OpenRead($Path), [IO.Compression.CompressionMode]::Decompress)
        $ms = [IO.MemoryStream]::new()
        try { $in.CopyTo($ms) } finally { $in.Dispose() }
        , $ms.ToArray()
    }
    foreach ($kind in @(@{ Name = 'train-images-idx3-ubyte'; Header = 16; Row = 784 }, @{ Name = 'train-labels-idx1-ubyte'; Header = 8; Row = 1 })) {
        $bytes = Read-Gz (Join-Path $FashionMnistPath "$($kind.Name).gz")
        $keep = [byte[]]::new($kind.Header + $FashionTrainRows * $kind.Row)
        [Array]::Copy($bytes, $keep, $keep.Length)
        # The count is the big-endian int at offset 4.
        $count = [BitConverter]::GetBytes([int]$FashionTrainRows); [Array]::Reverse($count)
        [Array]::Copy($count, 0, $keep, 4, 4)
        [IO.File]::WriteAllBytes((Join-Path $folder $kind.Name), $keep)
    }
    foreach ($f in 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz') { Copy-Item (Join-Path $FashionMnistPath $f) $folder }
    $folder
}

$sources = @{}
function Get-BenchData([string] $Name, [int] $Seed) {
    switch ($Name) {
        'Iris' { Get-Dataset Iris -Seed $Seed }
        'Digits' { Get-Dataset Digits -Seed $Seed }
        'BreastCancer' {
            if (-not $sources.ContainsKey($Name)) { $sources[$Name] = Get-BreastCancerCsv }
            Import-Dataset -Path $sources[$Name] -TargetColumn diagnosis -Task Classification -Seed $Seed -Name BreastCancer
        }
        'FashionMnist' {
            # One data set for every seed: the training subset and the test split are fixed.
            if (-not $sources.ContainsKey($Name)) { $sources[$Name] = Get-Dataset FashionMnist -Path (Get-FashionSubsetFolder) }
            $sources[$Name]
        }
    }
}

function Get-TestAccuracy($Model, $Data) { (Measure-Mlp -Model $Model -Dataset $Data -Repeat 1).Accuracy }

$runs = [System.Collections.Generic.List[object]]::new()
$timing = [ordered]@{}
try {
    foreach ($name in $Dataset) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $recipe = $Recipes[$name]
        foreach ($seed in $Seeds) {
            $data = Get-BenchData $name $seed
            $widths = @($data.Features) + $recipe.Hidden + @($data.Classes)
            $model = New-Mlp -Layers $widths -Seed $seed | Invoke-Training -Dataset $data -Epochs $recipe.Epochs -BatchSize $recipe.BatchSize -Seed $seed
            $testBefore = Get-TestAccuracy $model $data
            foreach ($v in $Variant) {
                $copy = $model | Copy-Mlp
                $options = $Variants[$v]
                $warned = $null
                $null = $copy | Invoke-Pruning -MaxAccuracyDrop $MaxAccuracyDrop -Scope Layer -Seed $seed @options -WarningVariable warned -WarningAction SilentlyContinue
                $record = $copy.History[-1]
                if ($record.Operation -ne 'PruneBudget') { throw "$name seed ${seed} ${v}: the last record is $($record.Operation), not PruneBudget" }
                if ($record.Note -notmatch 'validation Accuracy ([0-9.]+) on (\d+) rows') { throw "$name seed ${seed} ${v}: unreadable note '$($record.Note)'" }
                $validationBefore = [double]::Parse($Matches[1], $Invariant)
                $rows = [int]$Matches[2]
                $testAfter = Get-TestAccuracy $copy $data
                $report = $copy | Get-CompressionReport -Dataset $data
                $runs.Add([pscustomobject]@{
                        Dataset = $name; Seed = $seed; Variant = $v
                        ValidationRows = $rows; TestRows = $data.TestCount; Warned = @($warned).Count -gt 0
                        Ratio = $report.PruningRatio
                        ValidationDrop = $validationBefore - $record.Metric
                        TestBefore = $testBefore; TestAfter = $testAfter; TestDrop = $testBefore - $testAfter
                        # A hair of slack for accuracies that are sums of 1/n.
                        Holds = ($testBefore - $testAfter) -le $MaxAccuracyDrop + 1e-9
                    })
                Write-Host ("{0,-12} seed {1,2} {2,-13} rows {3,5}  ratio {4:0.000}  val drop {5,7:0.0000}  test drop {6,7:0.0000}  {7}{8}" -f $name, $seed, $v, $rows,
                    $report.PruningRatio, ($validationBefore - $record.Metric), ($testBefore - $testAfter), $(if (($testBefore - $testAfter) -le $MaxAccuracyDrop + 1e-9) { 'holds' } else { 'BROKEN' }), $(if (@($warned).Count) { '  (warned)' } else { '' }))
            }
        }
        $timing[$name] = [Math]::Round($clock.Elapsed.TotalSeconds, 1)
    }
}
finally {
    Remove-Item -Recurse -Force -ErrorAction Ignore $work
}

$summary = foreach ($name in $Dataset) {
    foreach ($v in $Variant) {
        $r = @($runs | Where-Object { $_.Dataset -eq $name -and $_.Variant -eq $v })
        [pscustomobject]@{
            Dataset = $name; Variant = $v; Runs = $r.Count
            Holds = @($r | Where-Object Holds).Count
            MeanRatio = ($r | Measure-Object Ratio -Average).Average
            MeanTestDrop = ($r | Measure-Object TestDrop -Average).Average
            WorstTestDrop = ($r | Measure-Object TestDrop -Maximum).Maximum
            MeanValidationDrop = ($r | Measure-Object ValidationDrop -Average).Average
            ValidationRows = ($r | Measure-Object ValidationRows -Average).Average
            TestRows = ($r | Measure-Object TestRows -Average).Average
            Warned = @($r | Where-Object Warned).Count
        }
    }
}

$command = if ($Quick) { 'bench/budget.ps1 -Quick' } else { 'dotnet pwsh ./build.ps1 bench -Name budget' }
$result = [ordered]@{
    bench = 'budget'; quick = [bool]$Quick; max_accuracy_drop = $MaxAccuracyDrop; seeds = $Seeds; variants = $Variant
    fashion_train_rows = $FashionTrainRows; seconds_per_dataset = $timing; summary = @($summary); runs = @($runs)
}
New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$result | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $ResultsDir 'budget.json')

$md = @(
    "Invoke-Pruning -MaxAccuracyDrop $($MaxAccuracyDrop.ToString($Invariant)) -Scope Layer (one-shot, no fine-tuning), $($Seeds.Count) seeds ($($Seeds -join ',')); made by ``$command``."
    ''
    '| data set | val rows | test rows | variant | holds on test | mean ratio | mean test drop | worst test drop | mean val drop | warned |'
    '|---|---:|---:|---|---:|---:|---:|---:|---:|---:|'
    foreach ($s in $summary) {
        '| {0} | {1:0} | {2:0} | {3} | {4}/{5} | {6:0.000} | {7:0.0000} | {8:0.0000} | {9:0.0000} | {10}/{5} |' -f $s.Dataset, $s.ValidationRows, $s.TestRows, $s.Variant, $s.Holds, $s.Runs,
            $s.MeanRatio, $s.MeanTestDrop, $s.WorstTestDrop, $s.MeanValidationDrop, $s.Warned
    }
    ''
    "Seconds per data set (training and every variant): $(($timing.GetEnumerator() | ForEach-Object { "$($_.Key) $($_.Value)" }) -join ', ')."
)
$md | Set-Content (Join-Path $ResultsDir 'budget.md')
$md | Write-Host

# The shape check that build.ps1 test relies on: every run measured, every figure a number.
$expected = $Dataset.Count * $Seeds.Count * $Variant.Count
if ($runs.Count -ne $expected) { throw "budget bench: $($runs.Count) runs, expected $expected" }
foreach ($r in $runs) {
    foreach ($p in 'Ratio', 'TestDrop', 'ValidationDrop') {
        if ($null -eq $r.$p -or [double]::IsNaN([double]$r.$p)) { throw "budget bench: $($r.Dataset) seed $($r.Seed) $($r.Variant) has no $p" }
    }
}
