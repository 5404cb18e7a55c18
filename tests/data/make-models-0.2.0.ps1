# Writes the files of every format SparsePrune 0.2.0 writes, each with the <name>.expected.json
# of what 0.2.0 read back from it: the fixtures that prove files of that release still load
# (FormatCompatibility.Tests.ps1). It was run once against the module built from commit e2d82f3
# (release 0.2.0); running it against a later build writes that build's files instead.
#   dotnet pwsh -NoProfile -File tests/data/make-models-0.2.0.ps1 -Module out/SparsePrune/SparsePrune.psd1
param([Parameter(Mandatory)] [string] $Module)
$ErrorActionPreference = 'Stop'
Import-Module (Resolve-Path $Module).Path
. (Join-Path $PSScriptRoot '../Common.ps1')
$iris = Get-Dataset Iris
$rows = Import-Csv (Join-Path $PSScriptRoot 'iris.csv')

function Write-Fixture {
    param([Parameter(Mandatory)] $Model, [Parameter(Mandatory)] [string] $File, [hashtable] $Export = @{})
    $path = Join-Path $PSScriptRoot $File
    $Model | Export-Mlp -Path $path -Force @Export 3>$null
    # what the release reads back, not the model in memory: ONNX and SafeTensors fold the normalization
    $description = Get-ModelFileDescription $path $rows
    if ($File -like '*.spmlp' -and $description.Fingerprint -ne (Get-ModelFingerprint $Model)) { throw "$File does not read back bit for bit." }
    $description | ConvertTo-Json -Depth 4 | Set-Content ([IO.Path]::ChangeExtension($path, '.expected.json')) -Encoding utf8NoBOM
    "{0,-34} {1,6} bytes" -f $File, (Get-Item $path).Length
}

# Version 2 (no quantized layer): trained, masked, connection- and neuron-pruned, masked again.
$v2 = New-Mlp 4, 12, 8, 3 -Activation ReLU -Seed 62 -Name 'iris-v2' |
    Invoke-Training -Dataset $iris -Epochs 20 -BatchSize 16 -LearningRate 0.02 -Seed 1 |
    Set-Sparsity 0.4 |
    Invoke-Pruning -Ratio 0.2 |
    Invoke-Pruning -Structure Neuron -Ratio 0.25 |
    Set-Sparsity 0.5
Write-Fixture $v2 'model-v2.spmlp'

# Version 3, k-means: pruned (coded position lists), masked, codebooks fine-tuned.
$kmeans = New-Mlp 4, 16, 8, 3 -Activation LeakyReLU -Seed 63 -Name 'iris-v3-kmeans' |
    Invoke-Training -Dataset $iris -Epochs 20 -BatchSize 16 -LearningRate 0.02 -Seed 1 |
    Invoke-Pruning -Ratio 0.5 |
    Set-Sparsity 0.6 |
    Invoke-Quantization -Method KMeans -Bits 4, 3, 5 -FineTuneEpochs 1 -Dataset $iris -Seed 1
Write-Fixture $kmeans 'model-v3-kmeans.spmlp'

# Version 3, linear grids: dense and pruned layers, 8 and 4 bits.
$linear = New-Mlp 4, 12, 3 -Activation Sigmoid -Seed 64 -Name 'iris-v3-linear' |
    Invoke-Training -Dataset $iris -Epochs 20 -BatchSize 16 -LearningRate 0.02 -Seed 1 |
    Invoke-Pruning -Ratio 0.3 |
    Invoke-Quantization -Method Linear -Bits 8, 4
Write-Fixture $linear 'model-v3-linear.spmlp'

# ONNX, float: a pruned GELU model at opset 13 (GELU as the Erf form), dense initializers.
$gelu = New-Mlp 4, 10, 6, 3 -Activation GELU -Seed 65 -Name 'iris-onnx' |
    Invoke-Training -Dataset $iris -Epochs 20 -BatchSize 16 -LearningRate 0.02 -Seed 1 |
    Invoke-Pruning -Ratio 0.4
Write-Fixture $gelu 'model-onnx-float.onnx' @{ OpsetVersion = 13 }

# ONNX, float with sparse initializers: a pruned LeakyReLU model at opset 21.
$leaky = New-Mlp 4, 10, 3 -Activation LeakyReLU -Seed 66 -Name 'iris-onnx-sparse' |
    Invoke-Training -Dataset $iris -Epochs 20 -BatchSize 16 -LearningRate 0.02 -Seed 1 |
    Invoke-Pruning -Ratio 0.5
Write-Fixture $leaky 'model-onnx-sparse.onnx' @{ OpsetVersion = 21; SparseInitializers = $true }

# ONNX, int8: linear-quantized layers as DequantizeLinear of int8 codes (first layer normalizing).
$int8 = New-Mlp 4, 10, 3 -Activation Tanh -Seed 67 -Name 'iris-onnx-int8' |
    Invoke-Training -Dataset $iris -Epochs 20 -BatchSize 16 -LearningRate 0.02 -Seed 1 |
    Invoke-Quantization -Method Linear -Bits 8, 6
Write-Fixture $int8 'model-onnx-int8.onnx'

# SafeTensors: a pruned LeakyReLU model (its negative slope in the metadata's kwargs).
$st = New-Mlp 4, 12, 3 -Activation LeakyReLU -Seed 68 -Name 'iris-safetensors' |
    Invoke-Training -Dataset $iris -Epochs 20 -BatchSize 16 -LearningRate 0.02 -Seed 1 |
    Invoke-Pruning -Ratio 0.3
Write-Fixture $st 'model-safetensors.safetensors'
