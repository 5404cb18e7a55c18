@{
    RootModule           = 'SparsePrune.Cmdlets.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Core')
    GUID                 = '4f6c1f0e-2a7b-4d8e-9a35-6b0c1d2e8f71'
    Author               = 'SparsePrune developers'
    CompanyName          = 'SparsePrune'
    Copyright            = '(c) SparsePrune developers. MIT licence.'
    Description          = 'Build, train, sparsify and prune multi-layer perceptrons on TorchSharp (LibTorch), and report what the compression bought and cost.'
    PowerShellVersion    = '7.4'
    FormatsToProcess     = @('SparsePrune.format.ps1xml')
    TypesToProcess       = @('SparsePrune.types.ps1xml')
    # Pester assertions for models: functions with approved verbs, exported as Should-* aliases.
    NestedModules        = @('SparsePrune.Assertions.psm1')
    CmdletsToExport      = @(
        'New-Mlp', 'Get-Dataset', 'Import-Dataset', 'ConvertTo-Dataset', 'Invoke-Training',
        'Set-Sparsity', 'Invoke-Pruning', 'Get-CompressionReport', 'Measure-Mlp', 'Optimize-Mlp', 'Invoke-Mlp',
        'Export-Mlp', 'Import-Mlp', 'Copy-Mlp', 'Measure-LayerSensitivity', 'Invoke-Quantization',
        'Export-CompressionReport', 'Invoke-PruningSweep', 'Import-SweepResult'
    )
    FunctionsToExport    = @(
        'Assert-MlpSparsity', 'Assert-MlpAccuracy', 'Assert-MlpStoredSize', 'Assert-MlpCompressionRatio', 'Register-MlpShouldOperator'
    )
    AliasesToExport      = @('Should-HaveSparsity', 'Should-HaveAccuracy', 'Should-BeSmallerThan', 'Should-HaveCompressionRatio')
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('MachineLearning', 'Pruning', 'Sparsity', 'TorchSharp', 'NeuralNetwork')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}
