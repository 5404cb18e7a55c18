# Files that carry nothing they need not. Optimize-Mlp -FoldInputScaling: the input offsets (with
# -IncludeScale the scales too) fold into layer 0; the model predicts raw rows as before, -WhatIf
# changes nothing, and what cannot fold is refused with the model unchanged. Invoke-Quantization
# -BiasBits: biases on codebooks, kept by the file (format 4), refused when out of range.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Digits = Get-Dataset Digits -Seed 3
    $script:Iris = Get-Dataset Iris -Seed 3
    $script:Rows = @(1..20 | ForEach-Object { $r = $_; , [float[]]@(0..63 | ForEach-Object { ($r * 7 + $_ * 3) % 17 }) })
    function New-Trained { New-Mlp 64, 24, 10 -Seed 5 | Invoke-Training -Dataset $Digits -Epochs 2 -Seed 1 }
    # Every class probability of every row, as Invoke-Mlp gives raw rows to the model.
    function Get-Outputs($Model) { @($Model | Invoke-Mlp -InputObject $Rows | ForEach-Object { $_.Probabilities }) }
}

Describe 'Optimize-Mlp -FoldInputScaling' {
    It 'folds the normalization: raw rows predict as before, the metric is kept and the history says so' {
        $m = New-Trained
        $before = Get-Outputs $m
        $accuracy = ($m | Measure-Mlp).Accuracy
        $out = @($m | Optimize-Mlp -FoldInputScaling -IncludeScale)
        $out.Count | Should -Be 1
        $after = Get-Outputs $m
        for ($i = 0; $i -lt $before.Count; $i++) { [math]::Abs($before[$i] - $after[$i]) | Should -BeLessOrEqual 1e-4 }
        ($m | Measure-Mlp).Accuracy | Should -Be $accuracy
        $m.InputNormalization | Should -Be 'None'
        $m.History[-1].Operation | Should -Be 'FoldInputScaling'
        $m.History[-1].Settings.IncludeScale | Should -BeTrue
        $m | Export-Mlp -Path (Join-Path $TestDrive 'folded.spmlp')
        $read = Import-Mlp (Join-Path $TestDrive 'folded.spmlp')
        (Get-Outputs $read) | Should -Be $after
    }

    It 'folds the offsets alone by default: a quantized layer 0 keeps its weights, and refuses -IncludeScale' {
        $m = New-Trained | Invoke-Quantization -Method KMeans -Bits 3
        $w = ConvertTo-FloatHex -Values $m.GetWeight(0)
        $before = Get-Outputs $m
        $e = Get-ThrownError { $m | Optimize-Mlp -FoldInputScaling -IncludeScale }
        $e.FullyQualifiedErrorId | Should -BeLike 'CannotFoldQuantizedLayer*'
        $e.Exception.Message | Should -Match 'codebook'
        $null = $m | Optimize-Mlp -FoldInputScaling
        ConvertTo-FloatHex -Values $m.GetWeight(0) | Should -BeExactly $w
        $after = Get-Outputs $m
        for ($i = 0; $i -lt $before.Count; $i++) { [math]::Abs($before[$i] - $after[$i]) | Should -BeLessOrEqual 1e-4 }
        $m.History[-1].Settings.IncludeScale | Should -BeFalse
        $m.InputNormalization | Should -Be 'Standard'
    }

    It '-ScaleBits rounds the scales that stay, within the tolerance it is given' {
        $m = New-Trained
        $e = Get-ThrownError { $m | Optimize-Mlp -FoldInputScaling -ScaleBits 1 }
        $e.FullyQualifiedErrorId | Should -BeLike 'FoldChangesPredictions*'
        $e.Exception.Message | Should -Match 'ScaleBits'
        $m.History[-1].Operation | Should -Be 'Train'
        $null = $m | Optimize-Mlp -FoldInputScaling -ScaleBits 10 -Tolerance 0.01
        $m.History[-1].Settings.ScaleBits | Should -Be 10
        { $m | Optimize-Mlp -FoldInputScaling -IncludeScale -ScaleBits 10 } | Should -Throw -ErrorId 'ParameterNotApplicable*'
    }

    It '-WhatIf changes nothing and emits nothing' {
        $m = New-Trained
        $print = Get-ModelFingerprint $m
        $history = $m.History.Count
        @($m | Optimize-Mlp -FoldInputScaling -WhatIf).Count | Should -Be 0
        Get-ModelFingerprint $m | Should -BeExactly $print
        $m.History.Count | Should -Be $history
        $m.InputNormalization | Should -Be 'Standard'
    }

    It 'warns and changes nothing when there is nothing left to fold' {
        $m = New-Trained | Optimize-Mlp -FoldInputScaling -IncludeScale
        $history = $m.History.Count
        $null = $m | Optimize-Mlp -FoldInputScaling -WarningVariable warnings -WarningAction SilentlyContinue
        "$warnings" | Should -Match 'nothing to fold'
        $m.History.Count | Should -Be $history
    }

    It 'refuses <Case> with a clear error and the model unchanged' -ForEach @(
        @{ Case = 'an untrained model'; Id = 'NoInputScaling*'; Make = { New-Mlp 64, 24, 10 -Seed 5 }; Extra = @{} }
        @{ Case = 'a model without a data set'; Id = 'DatasetRequired*'; Make = { $p = Join-Path $TestDrive 'm.spmlp'; New-Trained | Export-Mlp -Path $p -Force; Import-Mlp $p }; Extra = @{} }
        @{ Case = 'a data set of other features'; Id = 'FeatureMismatch*'; Make = { New-Trained }; Extra = @{ Dataset = 'Iris' } }
    ) {
        $m = & $Make
        $print = Get-ModelFingerprint $m
        $history = $m.History.Count
        $a = @{} + $Extra
        if ($a.Dataset -eq 'Iris') { $a.Dataset = $Iris }
        $e = Get-ThrownError { $m | Optimize-Mlp -FoldInputScaling @a }
        $e | Should -Not -BeNullOrEmpty
        $e.FullyQualifiedErrorId | Should -BeLike $Id
        $e.Exception.Message | Should -Not -BeNullOrEmpty
        Get-ModelFingerprint $m | Should -BeExactly $print
        $m.History.Count | Should -Be $history
    }

    It 'refuses a tolerance out of range before doing anything' {
        $m = New-Trained
        { $m | Optimize-Mlp -FoldInputScaling -Tolerance 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        $m.History[-1].Operation | Should -Be 'Train'
    }
}

Describe 'Invoke-Quantization -BiasBits' {
    It 'puts every bias on a codebook of its layer, records it, and the file keeps it' {
        $m = New-Trained | Invoke-Quantization -Bits 3 -BiasBits 3, 2
        $m.History[-1].Operation | Should -Be 'QuantizeBiases'
        "$($m.History[-1].Settings.Bits)" | Should -Be '3 2'
        @($m.GetBias(0) | Sort-Object -Unique).Count | Should -BeLessOrEqual 8
        @($m.GetBias(1) | Sort-Object -Unique).Count | Should -BeLessOrEqual 4
        $path = Join-Path $TestDrive 'biases.spmlp'
        $m | Export-Mlp -Path $path
        [BitConverter]::ToUInt16([IO.File]::ReadAllBytes($path), 8) | Should -Be 4
        $read = Import-Mlp $path
        ConvertTo-FloatHex -Values $read.GetBias(0) | Should -BeExactly (ConvertTo-FloatHex -Values $m.GetBias(0))
        (Get-Outputs $read) | Should -Be (Get-Outputs $m)
    }

    It 'refuses -BiasBits <Bits> with a clear error and the model unchanged' -ForEach @(
        @{ Bits = @(9) }, @{ Bits = @(3, 3, 3) }, @{ Bits = @(-1) }
    ) {
        $m = New-Trained
        $print = Get-ModelFingerprint $m
        $e = Get-ThrownError { $m | Invoke-Quantization -Bits 3 -BiasBits $Bits }
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidBits*'
        $e.Exception.Message | Should -Match 'BiasBits'
        Get-ModelFingerprint $m | Should -BeExactly $print
        $m.History[-1].Operation | Should -Be 'Train'
    }
}
