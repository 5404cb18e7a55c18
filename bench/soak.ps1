#!/usr/bin/env pwsh
<#
.SYNOPSIS
    A long session: does memory stay flat over a thousand build-to-file cycles?
.DESCRIPTION
    In one pwsh, -Iterations times: New-Mlp 64-64-10 -> Invoke-Training (1 epoch, Digits) ->
    Set-Sparsity 0.5 -> Invoke-Pruning 0.5 -> Get-CompressionReport -> Export-Mlp ->
    Import-Mlp. Every 100 iterations (after a full garbage collection, which runs the tensors'
    finalizers) it records the resident memory and TorchSharp's live tensor count. Targets:
    resident memory grows by less than 50 MB from iteration 100 to the last, and no tensor is
    left alive by the cycles. TorchSharp's count has one known artifact: a tensor whose handle
    moves into a Parameter (training's trained copies, one per weight and bias and training
    call) is never counted as freed, though its memory is (200 such 4 MB tensors added 1 MB of
    resident memory here). So the target is: the count after N cycles equals the count after a
    warm-up cycle plus exactly those moved handles, 4 per cycle for this two-layer model; any
    tensor really kept alive shows above that. Results: bench/results/soak.json and soak.md.
.PARAMETER Quick
    30 iterations, sampled every 10: what build.ps1 test runs to prove the bench works.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name soak
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [int] $Iterations = 1000,
    [switch] $Quick
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force
$every = 100
if ($Quick) { $Iterations = 30; $every = 10 }
$data = Get-Dataset Digits
$file = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-soak-$PID.spmlp"

function Get-Sample([int] $Iteration) {
    # Tensors nobody holds are freed by their finalizers: collect until they have run.
    foreach ($k in 1..3) { [GC]::Collect(); [GC]::WaitForPendingFinalizers() }
    $process = [Diagnostics.Process]::GetCurrentProcess()
    [pscustomobject]@{
        Iteration = $Iteration
        ResidentMB = [Math]::Round($process.WorkingSet64 / 1MB, 1)
        ManagedMB = [Math]::Round([GC]::GetTotalMemory($true) / 1MB, 1)
        LiveTensors = [TorchSharp.torch+Tensor]::TotalCount
    }
}

function Invoke-Cycle([int] $Seed) {
    $model = New-Mlp -Layers 64, 64, 10 -Seed $Seed | Invoke-Training -Dataset $data -Epochs 1 -Seed $Seed |
        Set-Sparsity -Sparsity 0.5 | Invoke-Pruning -Ratio 0.5
    $null = $model | Get-CompressionReport
    $model | Export-Mlp -Path $file -Force
    $null = Import-Mlp $file -Dataset $data
}

$samples = [Collections.Generic.List[object]]::new()
# A warm-up cycle first: the data set's native copy and first-use caches are not the cycles' doing.
Invoke-Cycle 0
$before = Get-Sample 0
# Trained copies are Parameters: one moved handle per weight and bias per training call.
$movedPerCycle = 2 * 2
$samples.Add($before)
$watch = [Diagnostics.Stopwatch]::StartNew()
try {
    for ($i = 1; $i -le $Iterations; $i++) {
        Invoke-Cycle $i
        if ($i % $every -eq 0) {
            $samples.Add((Get-Sample $i))
            Write-Host ("iteration {0}: resident {1} MB, managed {2} MB, live tensors {3}" -f $i, $samples[-1].ResidentMB, $samples[-1].ManagedMB, $samples[-1].LiveTensors)
        }
    }
}
finally { Remove-Item -Force -ErrorAction Ignore $file }
$seconds = $watch.Elapsed.TotalSeconds
$from = $samples | Where-Object Iteration -EQ $every
$last = $samples[-1]
$growth = $last.ResidentMB - $from.ResidentMB
$expectedTensors = $before.LiveTensors + $movedPerCycle * $Iterations
$extraTensors = $last.LiveTensors - $expectedTensors
$result = [ordered]@{
    date = (Get-Date).ToUniversalTime().ToString('o')
    quick = [bool]$Quick
    iterations = $Iterations
    seconds = $seconds
    resident_growth_mb = $growth
    live_tensors_before = $before.LiveTensors
    live_tensors_after = $last.LiveTensors
    moved_handles = $movedPerCycle * $Iterations
    tensors_kept_alive = $extraTensors
    samples = @($samples)
    targets = [ordered]@{
        memory = @{ text = "resident memory grows < 50 MB from iteration $every to $Iterations"; met = $growth -lt 50 }
        tensors = @{ text = 'no tensor kept alive by the cycles (count = before + moved Parameter handles)'; met = $extraTensors -le 0 }
    }
}
$md = @(
    "$Iterations cycles of New-Mlp 64-64-10, 1 epoch of Digits, Set-Sparsity 0.5, Invoke-Pruning 0.5, report, export, import in one pwsh ($('{0:0}' -f $seconds) s)$(if ($Quick) { ' (quick run)' }); sampled after full garbage collections.",
    '',
    '| iteration | resident (MB) | managed (MB) | live tensors |',
    '|---:|---:|---:|---:|'
) + ($samples | ForEach-Object { '| {0} | {1} | {2} | {3} |' -f $_.Iteration, $_.ResidentMB, $_.ManagedMB, $_.LiveTensors }) + @(
    '',
    ('Resident memory from iteration {0} to {1}: {2:+0.0;-0.0} MB (target < 50 MB): {3}.' -f $every, $Iterations, $growth, $(if ($result.targets.memory.met) { 'met' } else { '**missed**' })),
    ('Live tensors: {0} after the warm-up cycle, {1} at the end, of which {2} are handles moved into training''s Parameters (TorchSharp never counts them freed; their memory is): {3} kept alive by the cycles: {4}.' -f $before.LiveTensors, $last.LiveTensors, ($movedPerCycle * $Iterations), $extraTensors, $(if ($result.targets.tensors.met) { 'met' } else { '**missed**' }))
)
New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$result | ConvertTo-Json -Depth 4 | Set-Content (Join-Path $ResultsDir 'soak.json')
$md | Set-Content (Join-Path $ResultsDir 'soak.md')
$md | Write-Host
# A tensor kept alive is a leak whatever the machine: it fails the run (and build.ps1 test's quick
# run). Resident memory is a figure to read: a short run on a shared machine is too noisy to fail on.
if ($extraTensors -gt 0) { Write-Host "FAIL: the cycles kept $extraTensors tensor(s) alive"; exit 1 }
exit 0
