#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The seed pipeline on the embedded Digits set: train, sparsify, prune with fine-tuning, report.
.DESCRIPTION
    Run through 'dotnet pwsh ./build.ps1 demo', which builds and stages the module first.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot 'out/SparsePrune/SparsePrune.psd1')
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force

$watch = [Diagnostics.Stopwatch]::StartNew()
$data = Get-Dataset Digits
Write-Host "Data set: $data"

$model = New-Mlp -Layers 64,128,64,10 -Seed 1 |
    Invoke-Training -Dataset $data -Epochs 20 -Seed 1 |
    Set-Sparsity -Sparsity 0.8 |
    Invoke-Pruning -Structure Neuron -Ratio 0.3 -FineTuneEpochs 3 -Seed 1

Write-Host ''
Write-Host 'Steps:'
$model.History | Format-Table -AutoSize | Out-Host

Write-Host 'Per layer:'
$model | Get-CompressionReport -ByLayer | Format-Table -AutoSize | Out-Host

Write-Host 'Compression report:'
$report = $model | Get-CompressionReport
$report | Format-List | Out-Host

'Baseline accuracy {0:P2} -> final accuracy {1:P2}; {2} of {3} weights left non-zero ({4:P1} overall sparsity); file {5:N0} bytes against {7:N0} dense: compression {6:N2}x (the weights alone {8:N2}x); {9:N2}x fewer FLOPs.' -f `
    $report.BaselineMetric, $report.Metric, $report.NonZeroWeights, $report.BaselineWeights,
    $report.OverallSparsity, $report.FileBytes, $report.CompressionRatio, $report.BaselineFileBytes, $report.WeightCompressionRatio, $report.Speedup | Write-Host
Write-Host ("Demo finished in {0:N1} s." -f $watch.Elapsed.TotalSeconds)
