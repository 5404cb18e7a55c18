#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Gradual global pruning of LeNet-300-100 on Fashion-MNIST under the default -MaxLayerSparsity
    and with none; prints one JSON object.
.DESCRIPTION
    The run a new user would try: LeNet-300-100 trained -TrainEpochs on Fashion-MNIST, then
    Invoke-Pruning -Schedule Gradual -Ratio <Ratio> -Scope Global -Epochs <PruneEpochs>, once with
    the default cap and once with -MaxLayerSparsity 1 (no cap), each on its own copy of the same
    trained model (same seeds). A cap that forces uniform allocation shows as a large gap.
        dotnet pwsh -NoProfile -File bench/probes/global-cap-probe.ps1 [-Ratio 0.98]
    Output: ratio, the test accuracy of the trained model and of both pruned models, their
    layer sparsities, and the cap the default resolved to (from the history).
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/SparsePrune/SparsePrune.psd1'),
    [string] $DataPath = '/usr/share/datasets/fashion-mnist',
    [double] $Ratio = 0.98,
    [int] $TrainEpochs = 8,
    [int] $PruneEpochs = 12,
    [int] $Seed = 1
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$data = Get-Dataset FashionMnist -Path $DataPath
$trained = New-Mlp 784, 300, 100, 10 -Seed $Seed | Invoke-Training -Dataset $data -Epochs $TrainEpochs -Seed $Seed
$dense = (Measure-Mlp $trained -Repeat 1).Accuracy

function Invoke-Run([hashtable] $Extra) {
    $m = $trained | Copy-Mlp
    $null = $m | Invoke-Pruning -Schedule Gradual -Ratio $Ratio -Scope Global -Epochs $PruneEpochs -Seed $Seed -WarningAction SilentlyContinue @Extra
    [ordered]@{
        accuracy = (Measure-Mlp $m -Repeat 1).Accuracy
        layerSparsity = @($m.Layers | ForEach-Object { [Math]::Round(1 - $_.NonZeroWeights / ($m.Baseline.LayerWeights[$_.Index]), 4) })
        settings = $m.History[-1].Settings.ToString()
        note = $m.History[-1].Note
    }
}
$default = Invoke-Run @{}
$uncapped = Invoke-Run @{ MaxLayerSparsity = 1 }
[ordered]@{
    ratio = $Ratio; trainEpochs = $TrainEpochs; pruneEpochs = $PruneEpochs; seed = $Seed
    trainedAccuracy = $dense; defaultCap = $default; uncapped = $uncapped
    gapPoints = [Math]::Round(100 * ($uncapped.accuracy - $default.accuracy), 2)
} | ConvertTo-Json -Depth 4
