#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Scoring a CSV file from the pipeline: what Invoke-Mlp -IncludeInput adds to Import-Csv | Export-Csv.
.DESCRIPTION
    Writes a synthetic CSV of -Rows rows x 20 numeric features and a class label (10 classes, the
    argmax of a fixed random linear map) to a temp folder, trains a 20-64-10 classifier briefly
    on its first 5,000 rows, then times in turn, -Repeats times, in one process:
      copy     Import-Csv in.csv | Export-Csv copy.csv                          (the floor)
      scored   Import-Csv in.csv | Invoke-Mlp $m -IncludeInput | Export-Csv scored.csv
      bare     Import-Csv in.csv | Invoke-Mlp $m | Export-Csv bare.csv          (without the switch)
    The sides alternate (their order rotates each round) after a warm-up round, and each timing
    starts after a full garbage collection. The figure is the median scored time over the
    median copy time (target: at most 1.25); the median of the per-round ratios is given beside
    it, and the ratio of the process's CPU time, which a machine busy with other jobs stretches
    less than the wall time (the run's load average is recorded). The scored file is checked: every row, the input's 21 columns then PredictedLabel,
    PredictedProbability and one Probability_<class> column per class, probabilities summing
    to 1. Results: bench/results/scoring.json and scoring.md.
.PARAMETER Quick
    5,000 rows and two rounds: what build.ps1 test runs to prove the bench works.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name scoring
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [int] $Rows = 100000,
    [int] $Repeats = 7,
    [switch] $Quick
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force
if ($Quick) { $Rows = 5000; $Repeats = 2 }
$features = 20
$classes = 10
$folder = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-scoring-$PID"
New-Item -ItemType Directory -Force -Path $folder | Out-Null
$in = Join-Path $folder 'in.csv'

try {
    # The data: values with four decimals in [-2, 2], as a measurement file would hold them.
    $rng = [Random]::new(7)
    $w = [double[, ]]::new($classes, $features)
    for ($c = 0; $c -lt $classes; $c++) { for ($j = 0; $j -lt $features; $j++) { $w[$c, $j] = $rng.NextDouble() * 2 - 1 } }
    $invariant = [Globalization.CultureInfo]::InvariantCulture
    $text = [Text.StringBuilder]::new()
    $null = $text.AppendLine(((0..($features - 1) | ForEach-Object { "f$_" }) + 'label') -join ',')
    $x = [double[]]::new($features)
    for ($i = 0; $i -lt $Rows; $i++) {
        for ($j = 0; $j -lt $features; $j++) {
            $x[$j] = [Math]::Round($rng.NextDouble() * 4 - 2, 4)
            $null = $text.Append($x[$j].ToString($invariant)).Append(',')
        }
        $best = 0; $bestScore = [double]::NegativeInfinity
        for ($c = 0; $c -lt $classes; $c++) {
            $s = 0.0
            for ($j = 0; $j -lt $features; $j++) { $s += $w[$c, $j] * $x[$j] }
            if ($s -gt $bestScore) { $bestScore = $s; $best = $c }
        }
        $null = $text.Append("c$best").Append("`n")
    }
    [IO.File]::WriteAllText($in, $text.ToString())
    $text = $null

    $train = Import-Csv $in | Select-Object -First ([Math]::Min(5000, $Rows)) | ConvertTo-Dataset -TargetProperty label -Seed 1
    $model = New-Mlp -Layers $features, 64, $classes -Seed 1 | Invoke-Training -Dataset $train -Epochs 3 -Seed 1

    $sides = [ordered]@{
        copy   = { Import-Csv $in | Export-Csv (Join-Path $folder 'copy.csv') }
        scored = { Import-Csv $in | Invoke-Mlp $model -IncludeInput | Export-Csv (Join-Path $folder 'scored.csv') }
        bare   = { Import-Csv $in | Invoke-Mlp $model | Export-Csv (Join-Path $folder 'bare.csv') }
    }
    # Wall time, and the process's CPU time beside it: on a machine shared with other jobs the
    # wall time of the side with more work stretches more, while its CPU time does not.
    $process = [Diagnostics.Process]::GetCurrentProcess()
    function Measure-Side([string] $Name) {
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $process.Refresh()
        $cpu = $process.TotalProcessorTime
        $watch = [Diagnostics.Stopwatch]::StartNew()
        & $sides[$Name]
        $wall = $watch.Elapsed.TotalSeconds
        $process.Refresh()
        [pscustomobject]@{ Wall = $wall; Cpu = ($process.TotalProcessorTime - $cpu).TotalSeconds }
    }
    function Get-Median([double[]] $Values) {
        $sorted = @($Values | Sort-Object)
        $n = $sorted.Count
        if ($n % 2) { $sorted[($n - 1) / 2] } else { ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2 }
    }

    foreach ($name in $sides.Keys) { $null = Measure-Side $name }   # warm-up: JIT, file cache
    $names = @($sides.Keys)
    $rounds = foreach ($r in 0..($Repeats - 1)) {
        $times = @{}
        # Rotate the order, so that no side always runs first (or right after a given other one).
        foreach ($k in 0..($names.Count - 1)) { $name = $names[($k + $r) % $names.Count]; $times[$name] = Measure-Side $name }
        [pscustomobject]@{
            Round = $r + 1; Copy = $times.copy.Wall; Scored = $times.scored.Wall; Bare = $times.bare.Wall
            Ratio = $times.scored.Wall / $times.copy.Wall; BareRatio = $times.bare.Wall / $times.copy.Wall
            CopyCpu = $times.copy.Cpu; ScoredCpu = $times.scored.Cpu; BareCpu = $times.bare.Cpu
        }
    }

    # The scored file must be usable: every row, every column, numbers that read back.
    $scored = @(Import-Csv (Join-Path $folder 'scored.csv'))
    $header = @($scored[0].PSObject.Properties.Name)
    $expected = @((0..($features - 1) | ForEach-Object { "f$_" }) + 'label' + 'PredictedLabel' + 'PredictedProbability' + @($model.ClassNames | ForEach-Object { "Probability_$_" }))
    $worstSum = 0.0
    foreach ($row in $scored | Select-Object -First 1000) {
        $sum = 0.0
        foreach ($name in $model.ClassNames) { $sum += [double]::Parse($row."Probability_$name", $invariant) }
        $worstSum = [Math]::Max($worstSum, [Math]::Abs($sum - 1))
    }
    $valid = $scored.Count -eq $Rows -and ($header -join ',') -eq ($expected -join ',') -and $worstSum -lt 1e-5
    if (-not $valid) { throw "The scored file is not what it should be: $($scored.Count) rows of $Rows, columns '$($header -join ',')', worst probability sum off by $worstSum." }
    $scored = $null

    $copy = Get-Median @($rounds.Copy)
    $withInput = Get-Median @($rounds.Scored)
    $bare = Get-Median @($rounds.Bare)
    $ratio = $withInput / $copy
    $cpuRatio = (Get-Median @($rounds.ScoredCpu)) / (Get-Median @($rounds.CopyCpu))
    $bareCpuRatio = (Get-Median @($rounds.BareCpu)) / (Get-Median @($rounds.CopyCpu))
    $result = [ordered]@{
        date = (Get-Date).ToUniversalTime().ToString('o')
        quick = [bool]$Quick
        rows = $Rows
        features = $features
        classes = $classes
        layers = "$features-64-$classes"
        repeats = $Repeats
        copy_seconds = $copy
        scored_seconds = $withInput
        bare_seconds = $bare
        ratio = $ratio
        median_round_ratio = Get-Median @($rounds.Ratio)
        bare_ratio = $bare / $copy
        cpu_ratio = $cpuRatio
        bare_cpu_ratio = $bareCpuRatio
        load_average = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg -Raw).Trim() } else { $null }
        rounds = @($rounds)
        scored_file_valid = $valid
        target = @{ text = 'Import-Csv | Invoke-Mlp -IncludeInput | Export-Csv at most 1.25x Import-Csv | Export-Csv'; met = $ratio -le 1.25 }
    }
    $md = @(
        "Scoring $Rows rows x $features features with a $features-64-$classes classifier$(if ($Quick) { ' (quick run: not the target size)' }); medians of $Repeats alternating rounds, one process.",
        '',
        '| pipeline | seconds | ratio to the copy | CPU-time ratio |',
        '|---|---:|---:|---:|',
        ('| Import-Csv \| Export-Csv | {0:0.000} | 1.00 | 1.00 |' -f $copy),
        ('| Import-Csv \| Invoke-Mlp -IncludeInput \| Export-Csv | {0:0.000} | **{1:0.00}** | {2:0.00} |' -f $withInput, $ratio, $cpuRatio),
        ('| Import-Csv \| Invoke-Mlp \| Export-Csv (no switch) | {0:0.000} | {1:0.00} | {2:0.00} |' -f $bare, ($bare / $copy), $bareCpuRatio),
        '',
        ('Median of the per-round ratios (scored / copy): {0:0.00}.' -f $result.median_round_ratio),
        "Target: at most 1.25x: $(if ($result.target.met) { 'met' } else { '**missed**' }). Load average during the run: $($result.load_average)."
    )
    New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
    $result | ConvertTo-Json -Depth 4 | Set-Content (Join-Path $ResultsDir 'scoring.json')
    $md | Set-Content (Join-Path $ResultsDir 'scoring.md')
    $md | Write-Host
}
finally {
    Remove-Item -Recurse -Force -LiteralPath $folder -ErrorAction Ignore
}
exit 0
