#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Time and peak added memory of one Set-Sparsity call on a large model; prints one JSON object.
.DESCRIPTION
    Run it in a process of its own (its memory reading is the whole process's):
        dotnet pwsh -NoProfile -File bench/shared/sparsify-probe.ps1 [-Widths 4096,4096,4096,4096,4096] [-Sparsity 0.9] [-Scope Global]
    It creates the model (New-Mlp -Seed 1), warms the code path up on a small model, collects
    garbage, reads the resident set (VmRSS), resets the kernel's peak counter (writes 5 to
    /proc/<pid>/clear_refs), runs Set-Sparsity once on the large model and reads the peak
    (VmHWM). peakAddedBytes = VmHWM - VmRSS before: everything the call kept (masks, hidden
    values) and everything it held for a while (scores, copies, undo records).
    Output, one line of JSON:
        seconds         wall time of the Set-Sparsity call
        cpuSeconds      processor time of the whole process during the call (all threads)
        peakAddedBytes  peak resident memory above the model's, during the call
        weightBytes     4 bytes per weight of the model (the budget's unit)
        addedOverWeights  peakAddedBytes / weightBytes
        keptAddedBytes  resident memory above the model's after the call (what the model now holds)
        rssBeforeBytes, peakBytes, weights, zeros, threads, peakMeasured (false where
        /proc/self/clear_refs cannot be written: then peak* are null)
    With -ResultsDir (as build.ps1 bench passes it) the object is also written to
    <ResultsDir>/sparsify-probe.json.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/SparsePrune/SparsePrune.psd1'),
    [int[]] $Widths = @(4096, 4096, 4096, 4096, 4096),
    [double] $Sparsity = 0.9,
    [ValidateSet('Global', 'Layer', 'ERK')] [string] $Scope = 'Global',
    [string] $ResultsDir
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

. (Join-Path $PSScriptRoot 'PeakMemory.ps1')

# Warm-up: the first call JIT-compiles the managed code; the measured call should not pay for it.
New-Mlp -Layers 64, 64, 64 -Seed 2 | Set-Sparsity -Sparsity $Sparsity -Scope $Scope -WarningAction SilentlyContinue | Out-Null

$model = New-Mlp -Layers $Widths -Seed 1
$weights = $model.Weights
$memory = Start-PeakMemory
$rssBefore = $memory.RssBefore
$peakMeasured = $memory.Measured

$process = [Diagnostics.Process]::GetCurrentProcess()
$cpuBefore = $process.TotalProcessorTime
$watch = [Diagnostics.Stopwatch]::StartNew()
$model | Set-Sparsity -Sparsity $Sparsity -Scope $Scope -WarningAction SilentlyContinue | Out-Null
$seconds = $watch.Elapsed.TotalSeconds
$process.Refresh()
$cpuSeconds = ($process.TotalProcessorTime - $cpuBefore).TotalSeconds

$after = Stop-PeakMemory $memory
$peak = $after.Peak
$rssAfter = $rssBefore + $after.KeptAdded
$weightBytes = 4L * $weights
$result = [ordered]@{
    seconds          = [math]::Round($seconds, 4)
    cpuSeconds       = [math]::Round($cpuSeconds, 4)
    peakAddedBytes   = if ($peakMeasured) { $peak - $rssBefore } else { $null }
    weightBytes      = $weightBytes
    addedOverWeights = if ($peakMeasured) { [math]::Round(($peak - $rssBefore) / $weightBytes, 3) } else { $null }
    keptAddedBytes   = $rssAfter - $rssBefore
    rssBeforeBytes   = $rssBefore
    peakBytes        = if ($peakMeasured) { $peak } else { $null }
    peakMeasured     = $peakMeasured
    weights          = $weights
    zeros            = $weights - $model.NonZeroWeights
    sparsity         = $Sparsity
    scope            = $Scope
    widths           = $Widths
    threads          = [TorchSharp.torch]::get_num_threads()
}
$json = $result | ConvertTo-Json -Compress
if ($ResultsDir) {
    New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
    $json | Set-Content (Join-Path $ResultsDir 'sparsify-probe.json')
}
$json
