# Writes model-v1.spmlp and model-v1.expected.json, the fixture that proves version-1 model
# files still load. It was run once against the module built from commit f2049ca (the last
# writer of format version 1); running it against a later build writes the current version.
#   dotnet pwsh -NoProfile -File tests/data/make-model-v1.ps1 -Module out/SparsePrune/SparsePrune.psd1
param([Parameter(Mandatory)] [string] $Module)
$ErrorActionPreference = 'Stop'
Import-Module (Resolve-Path $Module).Path
. (Join-Path $PSScriptRoot '../Common.ps1')
$iris = Get-Dataset Iris
# trained, masked, connection-pruned, neuron-pruned and masked again: every section of the format
$model = New-Mlp 4, 12, 8, 3 -Activation Tanh -Seed 61 -Name 'iris-v1' |
    Invoke-Training -Dataset $iris -Epochs 3 -BatchSize 16 -Seed 1 |
    Set-Sparsity 0.4 |
    Invoke-Pruning -Ratio 0.2 |
    Invoke-Pruning -Structure Neuron -Ratio 0.25 |
    Set-Sparsity 0.5
$path = Join-Path $PSScriptRoot 'model-v1.spmlp'
$model | Export-Mlp -Path $path -Force
$rows = Import-Csv (Join-Path $PSScriptRoot 'iris.csv')
$predictions = @($rows | Invoke-Mlp -Model $model)
$restored = Copy-Mlp $model | Set-Sparsity 0
[ordered]@{
    Widths              = $model.Widths
    Stored              = @($model.Layers | ForEach-Object { "$($_.Stored)" })
    Weights             = $model.Weights
    NonZeroWeights      = $model.NonZeroWeights
    History             = @($model.History.Operation)
    Fingerprint         = Get-ModelFingerprint $model
    RestoredFingerprint = Get-ModelFingerprint $restored
    Labels              = @($predictions.Label)
    # doubles as round-trip text: equal text means equal bits
    Probabilities       = @($predictions | ForEach-Object { ($_.Probabilities | ForEach-Object { $_.ToString('R', [cultureinfo]::InvariantCulture) }) -join ' ' })
} | ConvertTo-Json -Depth 3 | Set-Content (Join-Path $PSScriptRoot 'model-v1.expected.json') -Encoding utf8NoBOM
