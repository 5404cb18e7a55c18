#!/usr/bin/env pwsh
<#
.SYNOPSIS
    SparsePrune against PyTorch's pruning tools, side by side in one run (ratios, not absolute times).
.DESCRIPTION
    1. Global magnitude sparsity 90 % over four 2048x2048 layers: Set-Sparsity -Scope Global
       against torch.nn.utils.prune.global_unstructured (L1Unstructured).
    2. One training epoch of LeNet-300-100 on Fashion-MNIST (batch 128, Adam): Invoke-Training
       against a plain PyTorch loop.
    The PyTorch side needs Debian's python3-torch (/usr/bin/python3); without it only our numbers
    are written. Results: bench/results/compare.json and compare.md.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [int] $Repeats = 3
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
$peer = Join-Path $PSScriptRoot 'peer_pytorch.py'
$python = '/usr/bin/python3'
$hasPeer = (Test-Path $python) -and ((& $python -c 'import torch; print(1)' 2>$null) -eq '1')

function Measure-Median([scriptblock] $Work, [int] $Times) {
    $t = foreach ($i in 1..$Times) { $w = [Diagnostics.Stopwatch]::StartNew(); & $Work | Out-Null; $w.Elapsed.TotalSeconds }
    ($t | Sort-Object)[[int][math]::Floor($Times / 2)]
}

$rows = [System.Collections.Generic.List[object]]::new()

# 1. global magnitude sparsity
$widths = 2048, 2048, 2048, 2048, 2048
$ours = Measure-Median { New-Mlp -Layers $widths -Seed 1 | Set-Sparsity -Sparsity 0.9 -Scope Global } $Repeats
$theirs = if ($hasPeer) { (& $python $peer global-prune --widths ($widths -join ',') --sparsity 0.9 --repeats $Repeats | ConvertFrom-Json).seconds }
$rows.Add([pscustomobject]@{ Case = 'Global magnitude sparsity 90 %, 4 x 2048x2048 (16.8 M weights)'; SparsePruneSeconds = $ours; PyTorchSeconds = $theirs
    PyTorchOverSparsePrune = if ($theirs) { $theirs / $ours } })

# 2. one training epoch on Fashion-MNIST
$fashion = '/usr/share/datasets/fashion-mnist'
if (Test-Path (Join-Path $fashion 'train-images-idx3-ubyte.gz')) {
    $data = Get-Dataset FashionMnist
    $model = New-Mlp -Layers 784, 300, 100, 10 -Seed 1
    $w = [Diagnostics.Stopwatch]::StartNew()
    $model | Invoke-Training -Dataset $data -Epochs 1 -BatchSize 128 -Seed 1 | Out-Null
    $ours = $w.Elapsed.TotalSeconds
    $theirs = if ($hasPeer) { (& $python $peer train-epoch --widths '784,300,100,10' --batch 128 | ConvertFrom-Json).seconds }
    $rows.Add([pscustomobject]@{ Case = 'Training epoch, LeNet-300-100, Fashion-MNIST 60k, batch 128, Adam'; SparsePruneSeconds = $ours; PyTorchSeconds = $theirs
        PyTorchOverSparsePrune = if ($theirs) { $theirs / $ours } })
}

New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$result = [pscustomobject]@{ Date = (Get-Date).ToUniversalTime().ToString('o'); Machine = "$([Environment]::ProcessorCount) cores"; Rows = $rows }
$result | ConvertTo-Json -Depth 4 | Set-Content (Join-Path $ResultsDir 'compare.json')
$md = @('| case | SparsePrune s | PyTorch s | PyTorch / SparsePrune |', '|---|---:|---:|---:|') +
    ($rows | ForEach-Object { '| {0} | {1:N3} | {2} | {3} |' -f $_.Case, $_.SparsePruneSeconds,
        ($(if ($_.PyTorchSeconds) { '{0:N3}' -f $_.PyTorchSeconds } else { 'n/a' })),
        ($(if ($_.PyTorchOverSparsePrune) { '{0:N2}' -f $_.PyTorchOverSparsePrune } else { 'n/a' })) })
$md | Set-Content (Join-Path $ResultsDir 'compare.md')
$md | Write-Host
