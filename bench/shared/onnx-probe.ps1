#!/usr/bin/env pwsh

<#
.SYNOPSIS
    Time and peak added memory of one ONNX export or import of a large model; prints one JSON object.
.DESCRIPTION
    Run it in a process of its own (its memory reading is the whole process's), as bench/onnx.ps1 does:
        dotnet pwsh -NoProfile -Command "& bench/shared/onnx-probe.ps1 -Operation Export -Path big.onnx"
        dotnet pwsh -NoProfile -Command "& bench/shared/onnx-probe.ps1 -Operation Import -Path big.onnx"
    Export creates the model (New-Mlp -Seed 1, optionally pruned to -Ratio), warms the code path
    up on a small model, then times Export-Mlp; peakAddedBytes is the memory above the model's
    during the call. Import warms up, then times Import-Mlp; peakAddedBytes includes the model
    it builds (the weights' bytes are in it once). Both report addedOverWeights, the peak over
    the weights' bytes.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/SparsePrune/SparsePrune.psd1'),
    [ValidateSet('Export', 'Import')] [string] $Operation = 'Export',
    [Parameter(Mandatory)] [string] $Path,
    [int[]] $Widths = @(4096, 4096, 4096, 10),
    [double] $Ratio = 0,
    [switch] $SparseInitializers
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
. (Join-Path $PSScriptRoot 'PeakMemory.ps1')

# Warm-up: the first call JIT-compiles the managed code; the measured call should not pay for it.
$warm = Join-Path ([IO.Path]::GetTempPath()) "onnx-probe-warm-$PID.onnx"
New-Mlp -Layers 16, 8, 2 -Seed 2 | Export-Mlp $warm -Force -SparseInitializers:$SparseInitializers
$null = Import-Mlp $warm
Remove-Item $warm

$model = $null
if ($Operation -eq 'Export') {
    $model = New-Mlp -Layers $Widths -Seed 1
    if ($Ratio -gt 0) { $null = $model | Invoke-Pruning -Ratio $Ratio }
}
$weights = 0L; for ($i = 0; $i + 1 -lt $Widths.Count; $i++) { $weights += [long]$Widths[$i] * $Widths[$i + 1] }
$memory = Start-PeakMemory
$watch = [Diagnostics.Stopwatch]::StartNew()
if ($Operation -eq 'Export') { $model | Export-Mlp $Path -Force -SparseInitializers:$SparseInitializers }
else { $model = Import-Mlp $Path }
$seconds = $watch.Elapsed.TotalSeconds
$after = Stop-PeakMemory $memory
$weightBytes = 4L * $weights
[ordered]@{
    operation        = $Operation
    seconds          = [math]::Round($seconds, 4)
    peakAddedBytes   = $after.PeakAdded
    weightBytes      = $weightBytes
    addedOverWeights = if ($null -ne $after.PeakAdded) { [math]::Round($after.PeakAdded / $weightBytes, 3) } else { $null }
    fileBytes        = (Get-Item $Path).Length
    widths           = $Widths
    ratio            = $Ratio
    sparseInitializers = [bool]$SparseInitializers
    threads          = [TorchSharp.torch]::get_num_threads()
} | ConvertTo-Json -Compress
