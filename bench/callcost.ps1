#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The fixed cost of one Invoke-Training call: what a call costs beyond its epochs.
.DESCRIPTION
    LeNet-300-100 on Fashion-MNIST (batch 64, Adam). Warm: in one process, calls of 1 and of 3
    epochs alternate; each pair gives fixed = (3 x t1 - t3) / 2, the time a call spends outside
    its epochs (setup, the closing evaluation, history). The median over -Repeats pairs is the
    figure (target: under 0.1 s). Cold: in a fresh pwsh, the first 1-epoch call against the
    median 1-epoch call after it; the difference is what a new worker process pays once (the
    data set's native copy, JIT). Results: bench/results/callcost.json and callcost.md.
.PARAMETER Quick
    Digits and two pairs: what build.ps1 test runs to prove the bench works.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name callcost
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [int] $Repeats = 9,
    [switch] $Quick
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force
if ($Quick) { $Repeats = 2 }
$data = if ($Quick) { Get-Dataset Digits } else { Get-Dataset FashionMnist }
$layers = if ($Quick) { @(64, 300, 100, 10) } else { @(784, 300, 100, 10) }

function Measure-Call([object] $Model, [int] $Epochs) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $null = $Model | Invoke-Training -Dataset $data -Epochs $Epochs
    $watch.Elapsed.TotalSeconds
}
function Get-Median([double[]] $Values) { ($Values | Sort-Object)[[int][Math]::Floor(($Values.Count - 1) / 2)] }

# Cold: the first call of this process, then warm 1-epoch calls.
$model = New-Mlp -Layers $layers -Seed 1
$first = Measure-Call $model 1
$warmOne = Get-Median @(foreach ($k in 1..3) { Measure-Call $model 1 })

# Warm: alternating pairs; the fixed cost of each pair.
$pairs = foreach ($k in 1..$Repeats) {
    $one = Measure-Call $model 1
    $three = Measure-Call $model 3
    [pscustomobject]@{ One = $one; Three = $three; Fixed = (3 * $one - $three) / 2 }
}
$fixed = Get-Median @($pairs.Fixed)
$result = [ordered]@{
    date = (Get-Date).ToUniversalTime().ToString('o')
    quick = [bool]$Quick
    dataset = $data.Name
    layers = $layers -join '-'
    fixed_seconds = $fixed
    epoch_seconds = Get-Median @($pairs | ForEach-Object { ($_.Three - $_.One) / 2 })
    first_call_seconds = $first
    warm_call_seconds = $warmOne
    first_call_extra_seconds = $first - $warmOne
    pairs = @($pairs)
    target = @{ text = 'fixed cost of an Invoke-Training call under 0.1 s'; met = $fixed -lt 0.1 }
}
$md = @(
    "Invoke-Training on $($data.Name), $($layers -join '-'), batch 64$(if ($Quick) { ' (quick run: not the target size)' }); median of $Repeats pairs of 1- and 3-epoch calls.",
    '',
    '| figure | seconds |',
    '|---|---:|',
    ('| fixed cost per call, (3 t1 − t3) / 2 | {0:0.000} |' -f $fixed),
    ('| one epoch, (t3 − t1) / 2 | {0:0.000} |' -f $result.epoch_seconds),
    ('| first call of a process, 1 epoch | {0:0.000} |' -f $first),
    ('| later 1-epoch call | {0:0.000} |' -f $warmOne),
    '',
    "Target: fixed cost under 0.1 s: $(if ($result.target.met) { 'met' } else { '**missed**' })."
)
New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$result | ConvertTo-Json -Depth 4 | Set-Content (Join-Path $ResultsDir 'callcost.json')
$md | Set-Content (Join-Path $ResultsDir 'callcost.md')
$md | Write-Host
exit 0
