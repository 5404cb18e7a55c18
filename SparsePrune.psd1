# The one place SparsePrune's version is set: ModuleVersion. The assemblies (Directory.Build.props),
# the runtime modules and every package (tools/New-ModulePackage.ps1) take it from here, and the
# build copies CHANGELOG.md's section for it into ReleaseNotes.
@{
    RootModule           = 'SparsePrune.Cmdlets.dll'
    ModuleVersion        = '0.2.0'
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
        'Export-CompressionReport', 'Invoke-PruningSweep', 'Import-SweepResult', 'Compress-Mlp'
    )
    FunctionsToExport    = @(
        'Assert-MlpSparsity', 'Assert-MlpAccuracy', 'Assert-MlpStoredSize', 'Assert-MlpCompressionRatio', 'Register-MlpShouldOperator'
    )
    AliasesToExport      = @('Should-HaveSparsity', 'Should-HaveAccuracy', 'Should-BeSmallerThan', 'Should-HaveCompressionRatio')
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('MachineLearning', 'NeuralNetwork', 'Pruning', 'Sparsity', 'Quantization', 'Compression',
                'TorchSharp', 'LibTorch', 'ONNX', 'SafeTensors', 'Pester', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            ProjectUri   = 'https://github.com/sparseprune/SparsePrune'
            LicenseUri   = 'https://github.com/sparseprune/SparsePrune/blob/main/LICENSE'
            # Filled in by the build from CHANGELOG.md's section for ModuleVersion.
            ReleaseNotes = ''
        }
    }
}
