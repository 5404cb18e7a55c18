#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Compress-Mlp against issue 23's targets: how small (or fast) one command makes LeNet-300-100
    within an accuracy budget, how long the search takes, and what it costs on the test split.
.DESCRIPTION
    LeNet-300-100 (784-300-100-10, ReLU, Adam, batch 128) on Fashion-MNIST, for each seed:
      - a dense model is pre-trained (the accuracy bench's 5 epochs) and saved: its .spmlp file is
        the reference size;
      - copies of it go through Compress-Mlp with each setting below (defaults otherwise), timed;
      - each result is saved with Export-Mlp (the file measured on disk), its test accuracy taken,
        and its batch-1 latency measured beside the dense model's (Measure-Mlp, side by side, so
        the ratio is of one moment of this shared machine);
      - the dense twin: the pre-trained model trained on through as many epochs as the chosen
        candidate's training took in total, with nothing pruned. The drop is twin − compressed,
        in points of test accuracy.
    Figures are means over the seeds with each seed's values in compress.json.

    Settings (issue 23's targets):
      - FileSize, -MaxAccuracyDrop 0.01:  file >= 150x smaller at a test drop <= 1.0 pt (mean)
      - FileSize, -MaxAccuracyDrop 0.003: file >= 60x smaller at <= 0.3 pt
      - Latency,  -MaxAccuracyDrop 0.01:  batch-1 latency <= 0.3x the dense model's at <= 1.0 pt
      - every search within 20 minutes on this 2-core machine.
    Two more settings (not run by default) judge the same budgets by the measured cost alone
    (-Confidence 0.5: the paired bound is the validation drop itself), to show what the 95 %
    bound's margin costs: FileSize1Point and FileSize03Point.

    -Quick runs every path once on Digits (one seed, few epochs) and checks the output's shape:
    build.ps1 test runs it.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name compress
.EXAMPLE
    dotnet pwsh -NoProfile -Command "& ./bench/compress.ps1 -Seeds 0 -Settings FileSize1"
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [switch] $Quick,
    [int[]] $Seeds = @(0, 1, 2),
    [string] $FashionMnistPath = '/usr/share/datasets/fashion-mnist',
    # Which of the settings to run (all by default).
    [ValidateSet('FileSize1', 'FileSize03', 'Latency1', 'FileSize1Point', 'FileSize03Point')] [string[]] $Settings = @('FileSize1', 'FileSize03', 'Latency1')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force

$recipes = Import-PowerShellDataFile (Join-Path $PSScriptRoot 'shared/pruning-recipe.psd1')
$recipe = if ($Quick) { $recipes.Quick } else { $recipes.Full }
$all = @{
    FileSize1  = @{ Objective = 'FileSize'; MaxAccuracyDrop = 0.01; Target = 'file >= 150x at <= 1.0 pt'; MinRatio = 150; MaxDrop = 1.0 }
    FileSize03 = @{ Objective = 'FileSize'; MaxAccuracyDrop = 0.003; Target = 'file >= 60x at <= 0.3 pt'; MinRatio = 60; MaxDrop = 0.3 }
    Latency1   = @{ Objective = 'Latency'; MaxAccuracyDrop = 0.01; Target = 'batch-1 latency <= 0.3x dense at <= 1.0 pt'; MaxLatency = 0.3; MaxDrop = 1.0 }
    FileSize1Point  = @{ Objective = 'FileSize'; MaxAccuracyDrop = 0.01; Confidence = 0.5; Target = 'file >= 150x at <= 1.0 pt'; MinRatio = 150; MaxDrop = 1.0 }
    FileSize03Point = @{ Objective = 'FileSize'; MaxAccuracyDrop = 0.003; Confidence = 0.5; Target = 'file >= 60x at <= 0.3 pt'; MinRatio = 60; MaxDrop = 0.3 }
}
# What -Quick changes: a few epochs, so that every path runs in seconds.
$extra = if ($Quick) { @{ Epochs = 10; FineTuneEpochs = 1 } } else { @{} }
if ($Quick) {
    # Digits' 1,438 training rows cannot certify a budget of a point or less (see bench/README.md): a wider one.
    foreach ($s in $all.Values) { $s.MaxAccuracyDrop = 0.03 }
    $data = Get-Dataset Digits -Seed 1
    $Seeds = @($Seeds[0])
}
else {
    if (-not (Test-Path (Join-Path $FashionMnistPath 'train-images-idx3-ubyte.gz'))) {
        throw "Fashion-MNIST is not in ${FashionMnistPath}: install it (apt-get install dataset-fashion-mnist; build.ps1 bench does) or give -FashionMnistPath."
    }
    $data = Get-Dataset FashionMnist -Path $FashionMnistPath
}

$work = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-compress-$PID"
New-Item -ItemType Directory -Force -Path $work | Out-Null
function Get-FileBytes($Model) {
    $path = Join-Path $work 'model.spmlp'
    $Model | Export-Mlp -Path $path -Force
    (Get-Item $path).Length
}
function Get-TestAccuracy($Model) { ($Model | Get-CompressionReport -Dataset $data).Metric }
function Get-Latency($Model) { ($Model | Measure-Mlp -Latency -BatchSize 1 -Repeat 200).MedianMs }
# Epochs of training the chosen candidate took after pre-training, from its history: what its twin trains.
function Get-TrainedEpochs($Model, [int] $From) {
    $epochs = 0
    foreach ($h in $Model.History | Select-Object -Skip $From) {
        if ($h.Operation -in 'GradualPrune', 'FineTune', 'Train' -and $h.Settings.Contains('Epochs')) { $epochs += [int]$h.Settings['Epochs'] }
    }
    $epochs
}

$rows = [Collections.Generic.List[object]]::new()
$watch = [Diagnostics.Stopwatch]::StartNew()
foreach ($seed in $Seeds) {
    Write-Host "seed ${seed}: dense pre-training ($($recipe.DenseEpochs) epochs)"
    $dense = New-Mlp -Layers $recipe.Widths -Seed $seed |
        Invoke-Training -Dataset $data -Epochs $recipe.DenseEpochs -BatchSize $recipe.BatchSize -LearningRate $recipe.LearningRate
    $denseBytes = Get-FileBytes $dense
    $pretrainSteps = $dense.History.Count
    $twins = @{}
    foreach ($name in $Settings) {
        $s = $all[$name]
        $m = $dense | Copy-Mlp -Name "$name-$seed"
        $w = [Diagnostics.Stopwatch]::StartNew()
        $judged = if ($s.ContainsKey('Confidence')) { @{ Confidence = $s.Confidence } } else { @{} }
        $candidates = @($m | Compress-Mlp -Dataset $data -MaxAccuracyDrop $s.MaxAccuracyDrop -Objective $s.Objective -Seed $seed -PassThru @extra @judged)
        $seconds = $w.Elapsed.TotalSeconds
        $chosen = $candidates | Where-Object Chosen
        $epochs = Get-TrainedEpochs $m $pretrainSteps
        if (-not $twins.ContainsKey($epochs)) {
            $twin = $dense | Copy-Mlp -Name "twin-$seed-$epochs"
            if ($epochs -gt 0) { $null = $twin | Invoke-Training -Dataset $data -Epochs $epochs -BatchSize $recipe.BatchSize -LearningRate $recipe.LearningRate }
            $twins[$epochs] = Get-TestAccuracy $twin
        }
        $bytes = Get-FileBytes $m
        # Side by side: the dense model, the compressed one, the dense one again; the mean of the two dense runs.
        $l0 = Get-Latency $dense; $l1 = Get-Latency $m; $l2 = Get-Latency $dense
        $row = [pscustomobject]@{
            Setting = $name; Seed = $seed; Objective = $s.Objective; MaxAccuracyDrop = $s.MaxAccuracyDrop
            Seconds = [math]::Round($seconds, 1); Candidates = $candidates.Count
            Chosen = if ($chosen) { $chosen.Settings } else { $null }
            ValidationCost = if ($chosen) { $chosen.Cost } else { $null }
            DenseBytes = $denseBytes; Bytes = $bytes; Ratio = $denseBytes / $bytes
            Accuracy = Get-TestAccuracy $m; Twin = $twins[$epochs]; TwinEpochs = $epochs
            DropPoints = 100 * ($twins[$epochs] - (Get-TestAccuracy $m))
            DenseLatencyMs = ($l0 + $l2) / 2; LatencyMs = $l1; LatencyRatio = $l1 / (($l0 + $l2) / 2)
            Weights = $m.Weights
            # The whole search, for bench/README.md's account of what was tried.
            Tried = @($candidates | Select-Object Candidate, Stage, PruningRatio, Bits, FileBytes, ValidationMetric, Cost, Bound, WithinBudget, Chosen, Seconds)
        }
        $rows.Add($row)
        Write-Host ("seed {0} {1}: {2:N0} B ({3:0.0}x), test {4:P2} (twin {5:P2}, drop {6:0.00} pt), latency {7:0.000}x, {8} candidates in {9:0} s; chose {10}" -f `
                $seed, $name, $bytes, $row.Ratio, $row.Accuracy, $row.Twin, $row.DropPoints, $row.LatencyRatio, $candidates.Count, $seconds, $row.Chosen)
    }
}

# ---- summary over seeds ------------------------------------------------------------------------
function Mean($values) { ($values | Measure-Object -Average).Average }
$summary = foreach ($name in $Settings) {
    $g = @($rows | Where-Object Setting -EQ $name)
    $s = $all[$name]
    $drop = Mean $g.DropPoints; $ratio = Mean $g.Ratio; $lat = Mean $g.LatencyRatio; $secs = ($g.Seconds | Measure-Object -Maximum).Maximum
    $met = $drop -le $s.MaxDrop -and $(if ($s.ContainsKey('MinRatio')) { $ratio -ge $s.MinRatio } else { $lat -le $s.MaxLatency }) -and $secs -le 1200
    [pscustomobject]@{
        Setting = $name; Target = $s.Target; Seeds = $g.Count
        MeanBytes = [math]::Round((Mean $g.Bytes)); MeanRatio = [math]::Round($ratio, 1); MeanDropPoints = [math]::Round($drop, 2)
        SpreadPoints = [math]::Round((($g.DropPoints | Measure-Object -Maximum).Maximum - ($g.DropPoints | Measure-Object -Minimum).Minimum), 2)
        MeanLatencyRatio = [math]::Round($lat, 3); LongestSearchSeconds = $secs; Verdict = if ($met) { 'met' } else { 'missed' }
    }
}
$summary | Format-Table -AutoSize | Out-Host

New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$json = [ordered]@{ bench = 'compress'; quick = [bool]$Quick; seconds = [math]::Round($watch.Elapsed.TotalSeconds); summary = $summary; per_seed = $rows }
$json | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $ResultsDir 'compress.json')
$md = @('| setting | target | seeds | mean file (B) | ratio | test drop (pt) | spread (pt) | latency ratio | longest search (s) | verdict |', '|---|---|---:|---:|---:|---:|---:|---:|---:|---|')
$md += foreach ($r in $summary) { "| $($r.Setting) | $($r.Target) | $($r.Seeds) | $($r.MeanBytes) | $($r.MeanRatio)x | $($r.MeanDropPoints) | $($r.SpreadPoints) | $($r.MeanLatencyRatio) | $($r.LongestSearchSeconds) | $($r.Verdict) |" }
$md | Set-Content (Join-Path $ResultsDir 'compress.md')
Remove-Item -Recurse -Force $work -ErrorAction Ignore

if ($Quick) {
    # The shape, not the figures: every setting ran, each chose a model and wrote a smaller file.
    $bad = @($rows | Where-Object { -not $_.Chosen -or $_.Bytes -ge $_.DenseBytes })
    if ($rows.Count -ne $Settings.Count -or $bad.Count -gt 0) { Write-Error "compress -Quick: $($bad.Count) setting(s) chose nothing or grew the file"; exit 1 }
}
