#!/usr/bin/env pwsh
<#
.SYNOPSIS
    What fanning a sweep out over worker processes buys on this machine, and what it costs.
.DESCRIPTION
    LeNet-300-100 trained on Fashion-MNIST, then one grid (4 pruning ratios, each fine-tuned)
    run three ways in one process: in the session with its own LibTorch threads (all cores), in
    the session at 1 thread, and over -ThrottleLimit 2 worker processes (the cores split between
    them). Figures: the wall seconds of each; the speed-up of the workers over the session; the
    workers' overhead (wall time beyond the busiest worker's point seconds: starting pwsh,
    importing the module, receiving the model and data set as bytes); the size of those bytes;
    and whether the workers' results equal the 1-thread session's bit for bit (they must: same
    seeds, same threads per worker). Results: bench/results/sweep.json and sweep.md.
.PARAMETER Quick
    Digits, a small model: what build.ps1 test runs to prove the bench works (and that the
    results agree).
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name sweep
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [switch] $Quick
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force
$data = if ($Quick) { Get-Dataset Digits } else { Get-Dataset FashionMnist }
$layers = if ($Quick) { @(64, 100, 10) } else { @(784, 300, 100, 10) }
$model = New-Mlp -Layers $layers -Seed 1 | Invoke-Training -Dataset $data -Epochs $(if ($Quick) { 5 } else { 3 }) -Seed 1
$grid = [ordered]@{ Ratio = 0.8, 0.9, 0.95, 0.98; FineTuneEpochs = $(if ($Quick) { 2 } else { 2 }) }

function Measure-Sweep([string] $Name, [hashtable] $Engine) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $results = @($model | Invoke-PruningSweep -Dataset $data -Grid $grid @Engine)
    $wall = $watch.Elapsed.TotalSeconds
    $busiest = ($results | Group-Object Worker | ForEach-Object { ($_.Group | Measure-Object Seconds -Sum).Sum } | Measure-Object -Maximum).Maximum
    Write-Host ("{0,-22} {1,7:F2} s wall, busiest worker {2,6:F2} s of points" -f $Name, $wall, $busiest)
    [pscustomobject]@{ Name = $Name; Wall = $wall; Busiest = $busiest; Results = $results }
}

$session = Measure-Sweep 'session' @{}
$single = Measure-Sweep 'session, 1 thread' @{ ThreadsPerWorker = 1 }
$workers = Measure-Sweep 'ThrottleLimit 2' @{ ThrottleLimit = 2 }

function Get-Key($r) { @($r | Sort-Object Point | ForEach-Object { "$($_.Point)|$($_.Metric.ToString('R'))|$($_.StoredBytes)|$($_.NonZeroWeights)" }) -join ';' }
$identical = (Get-Key $workers.Results) -eq (Get-Key $single.Results)
$speedup = $session.Wall / $workers.Wall
$result = [ordered]@{
    date = (Get-Date).ToUniversalTime().ToString('o')
    quick = [bool]$Quick
    dataset = $data.Name
    layers = $layers -join '-'
    points = @($session.Results).Count
    cores = [Environment]::ProcessorCount
    model_bytes = [SparsePrune.SpmlpFormat]::ToBytes($model).Length
    dataset_bytes = [SparsePrune.DatasetBytes]::ToBytes($data).Length
    session_seconds = $session.Wall
    session_threads = @($session.Results)[0].Threads
    session_one_thread_seconds = $single.Wall
    workers_seconds = $workers.Wall
    workers_overhead_seconds = $workers.Wall - $workers.Busiest
    speedup_over_session = $speedup
    workers_equal_one_thread_session = $identical
    per_point = @($workers.Results | Sort-Object Point | ForEach-Object {
            [ordered]@{ point = $_.Point; settings = $_.Settings; worker = $_.Worker; seconds = $_.Seconds; metric = $_.Metric; file_bytes = $_.FileBytes; compression_ratio = $_.CompressionRatio; weight_compression_ratio = $_.WeightCompressionRatio }
        })
}
New-Item -ItemType Directory -Force $ResultsDir | Out-Null
$result | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $ResultsDir 'sweep.json')
@(
    "# Sweep fan-out ($($data.Name), $($result.layers), $($result.points) points, $($result.cores) cores)"
    ''
    '| engine | wall s |'
    '|---|---|'
    "| session ($($result.session_threads) threads) | $('{0:F2}' -f $session.Wall) |"
    "| session, 1 thread | $('{0:F2}' -f $single.Wall) |"
    "| -ThrottleLimit 2 | $('{0:F2}' -f $workers.Wall) (overhead $('{0:F2}' -f $result.workers_overhead_seconds)) |"
    ''
    "Speed-up of 2 workers over the session: $('{0:F2}' -f $speedup)x. Workers equal the 1-thread session bit for bit: $identical."
    "Model $($result.model_bytes) B and data set $($result.dataset_bytes) B sent to each worker."
) | Set-Content (Join-Path $ResultsDir 'sweep.md')
Write-Host "speed-up $('{0:F2}' -f $speedup)x; identical: $identical"
if (-not $identical) { Write-Error 'the workers'' results differ from the 1-thread session''s' }
