#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Training that follows density: epochs of a connection-pruned 784-4096-4096-10 MLP against
    its dense epoch, RigL from scratch against dense training of the same length, and the peak
    memory of a training epoch at 99 % against dense; sides alternate, medians, ratios.
.DESCRIPTION
    6,000 Fashion-MNIST training rows (and 1,000 test rows, evaluated at the end of each run),
    batch 128, Adam, 2 threads. Each timed figure is the wall time of one Invoke-Training (or
    Invoke-Pruning -Schedule RigL) call, the test evaluation and undo copy included, so it is
    what a user waits for. The pruned models are pruned by Invoke-Pruning (connections deleted);
    each training call times its masked layers dense and sparse and trains each through the
    faster (the history note says which). Without Fashion-MNIST the embedded Digits set is used
    (64 inputs). Results: bench/results/training.json and training.md.
    1. Epoch at 95 % / dense epoch (target <= 0.4); 2. at 99 % / dense (<= 0.12);
    3. RigL at 95 % from scratch, one epoch / dense training of one epoch (<= 0.5);
    4. peak memory of a training epoch at 99 % / dense (<= 0.25), each in a process of its own.
.PARAMETER Quick
    Every path on a 784-256-256-10 model (or 64-256-256-10) and 1,000 rows, one repeat: proves the bench runs.
.PARAMETER Repeats
    Timed runs per side (the median is kept); sides alternate so that a noisy moment hits both.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [int] $Repeats = 3,
    [switch] $Quick
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force
$threads = 2
$env:SPARSEPRUNE_THREADS = "$threads"
[SparsePrune.NativeLibraries]::ApplyThreadSetting()
if ($Quick) { $Repeats = 1 }
$hidden = if ($Quick) { 256 } else { 4096 }
$trainRows = if ($Quick) { 1000 } else { 6000 }
$testRows = 1000
$batch = 128

function Median([double[]] $Values) { $s = @($Values | Sort-Object); $s[[int][math]::Floor(($s.Count - 1) / 2)] }

# A folder of IDX files holding the first rows of Fashion-MNIST's two splits (Get-Dataset -Path reads it).
function New-IdxSubset([string] $Source, [string] $Target, [int] $Train, [int] $Test) {
    New-Item -ItemType Directory -Force -Path $Target | Out-Null
    foreach ($f in @(@('train', $Train), @('t10k', $Test))) {
        foreach ($kind in @(@('images-idx3-ubyte', 16, 784), @('labels-idx1-ubyte', 8, 1))) {
            $name = "$($f[0])-$($kind[0]).gz"
            $in = [IO.Compression.GZipStream]::new([IO.File]::OpenRead((Join-Path $Source $name)), [IO.Compression.CompressionMode]::Decompress)
            $buffer = [IO.MemoryStream]::new(); $in.CopyTo($buffer); $in.Dispose()
            $bytes = $buffer.ToArray()
            $count = [int]$f[1]
            $header = [byte[]]$bytes[0..($kind[1] - 1)]
            # The item count is the big-endian int at offset 4.
            $header[4] = ($count -shr 24) -band 255; $header[5] = ($count -shr 16) -band 255; $header[6] = ($count -shr 8) -band 255; $header[7] = $count -band 255
            $out = [IO.Compression.GZipStream]::new([IO.File]::Create((Join-Path $Target $name)), [IO.Compression.CompressionLevel]::Fastest)
            $out.Write($header, 0, $header.Length)
            $out.Write($bytes, $kind[1], $count * $kind[2])
            $out.Dispose()
        }
    }
}

$fashion = '/usr/share/datasets/fashion-mnist'
$subset = $null
if (Test-Path (Join-Path $fashion 'train-images-idx3-ubyte.gz')) {
    $subset = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-training-bench-$PID"
    New-IdxSubset $fashion $subset $trainRows $testRows
    $data = Get-Dataset FashionMnist -Path $subset
    $source = "Fashion-MNIST, first $trainRows train and $testRows test rows"
} else {
    Write-Warning "Fashion-MNIST is not in $fashion (apt-get install dataset-fashion-mnist): the embedded Digits set is used."
    $data = Get-Dataset Digits
    $source = 'Digits (embedded)'
}
$widths = @($data.Features, $hidden, $hidden, 10)
if ($data.ClassNames.Count -ne 10) { $widths[-1] = $data.ClassNames.Count }
$widthText = $widths -join '-'

$figures = [System.Collections.Generic.List[object]]::new()
function Add-Figure($Id, $Case, $Ours, $Reference, $Unit, $Ratio, $Target, $Note) {
    if ($Quick) { $Target = $null }
    $met = if ($null -eq $Target) { $null } else { $Ratio -le $Target }
    $figures.Add([pscustomobject]@{ Id = $Id; Case = $Case; Measured = $Ours; Reference = $Reference; Unit = $Unit; Ratio = $Ratio; Target = $Target; Met = $met; Note = $Note })
    Write-Host ('{0,-3} {1}: {2} / {3} {4} = {5} (target <= {6}) {7}' -f $Id, $Case, $Ours, $Reference, $Unit, $Ratio, $Target, $(if ($met) { 'met' } elseif ($null -eq $met) { '' } else { 'MISSED' }))
}

function Seconds([scriptblock] $Work) { $w = [Diagnostics.Stopwatch]::StartNew(); & $Work | Out-Null; $w.Elapsed.TotalSeconds }

try {
    # The models: dense, and pruned (connections deleted) to 95 % and 99 %, from one seed.
    $dense = New-Mlp -Layers $widths -Seed 1
    $pruned = @{}
    foreach ($r in 0.95, 0.99) { $pruned[$r] = $dense | Copy-Mlp | Invoke-Pruning -Ratio $r -Dataset $data -WarningAction Ignore }
    # Warm-up: JIT, the data set's native copy.
    $dense | Copy-Mlp | Invoke-Training -Dataset $data -Epochs 0 | Out-Null

    # ---- 1, 2. an epoch of the pruned models against the dense epoch -----------------------
    $times = @{ dense = @(); 0.95 = @(); 0.99 = @() }
    $notes = @{}
    foreach ($i in 1..$Repeats) {
        foreach ($side in 'dense', 0.95, 0.99) {
            $m = if ($side -eq 'dense') { $dense | Copy-Mlp } else { $pruned[$side] | Copy-Mlp }
            $times[$side] += Seconds { $m | Invoke-Training -Dataset $data -Epochs 1 -BatchSize $batch -Seed $i }
            $notes[$side] = $m.History[-1].Note
        }
    }
    $d = [math]::Round((Median $times.dense), 3)
    foreach ($p in @(@('1', 0.95, 0.4), @('2', 0.99, 0.12))) {
        $s = [math]::Round((Median $times[$p[1]]), 3)
        Add-Figure $p[0] "Epoch of $widthText pruned to $($p[1] * 100) % / its dense epoch" $s $d 's' ([math]::Round($s / $d, 3)) $p[2] "$source, batch $batch, Adam, $threads threads; medians of $Repeats (runs: $(($times[$p[1]] | ForEach-Object { [math]::Round($_, 2) }) -join ', ') against $(($times.dense | ForEach-Object { [math]::Round($_, 2) }) -join ', ')); $($notes[$p[1]])"
    }

    # ---- 3. RigL at 95 % from scratch against dense training of the same length ------------
    $rigl = @(); $plain = @(); $riglNote = ''
    foreach ($i in 1..$Repeats) {
        $m = New-Mlp -Layers $widths -Seed (10 + $i)
        $rigl += Seconds { $m | Invoke-Pruning -Ratio 0.95 -Schedule RigL -Epochs 1 -BatchSize $batch -Dataset $data -Seed $i -WarningAction Ignore }
        $riglNote = ($m.History | Where-Object Operation -eq 'RigLPrune' | Select-Object -Last 1).Note
        $m = New-Mlp -Layers $widths -Seed (10 + $i)
        $plain += Seconds { $m | Invoke-Training -Dataset $data -Epochs 1 -BatchSize $batch -Seed $i }
    }
    $r = [math]::Round((Median $rigl), 3); $p = [math]::Round((Median $plain), 3)
    Add-Figure '3' "RigL 95 % (ERK) from scratch, 1 epoch / dense training, 1 epoch, $widthText" $r $p 's' ([math]::Round($r / $p, 3)) 0.5 "update every 100 steps (default); medians of $Repeats; $riglNote"

    # ---- 4. peak memory of a training epoch at 99 % against dense --------------------------
    $probe = Join-Path $PSScriptRoot 'shared/training-memory-probe.ps1'
    if ($subset) {
        $mem = @{}
        foreach ($ratio in 0, 0.99) {
            $mem[$ratio] = & dotnet pwsh -NoProfile -Command "& '$probe' -ModulePath '$ModulePath' -DataPath '$subset' -Widths '$($widths -join ',')' -Ratio $ratio -BatchSize $batch" | Select-Object -Last 1 | ConvertFrom-Json
        }
        if ($null -ne $mem[0].peakAdded -and $mem[0].peakAdded -gt 0) {
            $a = [math]::Round($mem[0.99].peakAdded / 1MB, 1); $b = [math]::Round($mem[0].peakAdded / 1MB, 1)
            Add-Figure '4' "Peak memory a training epoch adds, $widthText at 99 % / dense" $a $b 'MiB' ([math]::Round($a / $b, 3)) 0.25 "whole-process peaks $([math]::Round($mem[0.99].peak / 1MB)) / $([math]::Round($mem[0].peak / 1MB)) MiB ($([math]::Round($mem[0.99].peak / $mem[0].peak, 3))); each in a fresh process; $($mem[0.99].note)"
        } else { Write-Warning 'Peak memory could not be read (/proc/<pid>/clear_refs): figure 4 is left out.' }
    } else { Write-Warning 'Figure 4 needs Fashion-MNIST: left out.' }
} finally {
    if ($subset) { Remove-Item -Recurse -Force $subset -ErrorAction SilentlyContinue }
}

New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$result = [pscustomobject]@{ Date = (Get-Date).ToUniversalTime().ToString('u'); Threads = $threads; Data = $source; Model = $widthText; Quick = [bool]$Quick; Figures = $figures }
$result | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $ResultsDir 'training.json')
$md = @('| # | Case | Measured | Reference | Ratio | Target | Note |', '|---|---|---:|---:|---:|---:|---|')
$md += $figures | ForEach-Object { "| $($_.Id) | $($_.Case) | $($_.Measured) $($_.Unit) | $($_.Reference) $($_.Unit) | $($_.Ratio) | $(if ($null -ne $_.Target) { '<= ' + $_.Target } else { '' }) | $($_.Note) |" }
$md | Set-Content (Join-Path $ResultsDir 'training.md')
