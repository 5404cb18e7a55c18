# Invoke-Quantization through the cmdlets: what a user sees (layers, history, files) and the bad
# input that must leave the model as it was. The arithmetic is checked in xUnit (Quantization/QuantizerTests).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Digits = Get-Dataset Digits
    $script:Trained = New-Mlp 64, 32, 10 -Seed 4 | Invoke-Training -Dataset $Digits -Epochs 3 -Seed 1
}

Describe 'Invoke-Quantization' {
    It 'shares each layer''s weights among at most 2^Bits values, keeps the file''s quantization, and trains the shared values' {
        $m = $Trained | Copy-Mlp | Invoke-Pruning -Ratio 0.5 | Invoke-Quantization -Bits 3 -FineTuneEpochs 1 -Seed 2
        foreach ($l in 0, 1) {
            $values = @($m.GetWeight($l) | Where-Object { $_ -ne 0 } | Sort-Object -Unique)
            $values.Count | Should -BeLessOrEqual 8
            $values.Count | Should -BeGreaterThan 1
            $m.Layers[$l].Bits | Should -Be 3
        }
        $m.History[-2].Operation | Should -Be 'Quantize'
        $m.History[-1].Operation | Should -Be 'FineTune'
        $path = Join-Path $TestDrive 'q.spmlp'
        $m | Export-Mlp $path
        $back = Import-Mlp $path
        $back.Layers[0].Quantization | Should -Be $m.Layers[0].Quantization
        Get-ModelFingerprint $back | Should -BeExactly (Get-ModelFingerprint $m)
    }

    It 'gives a layer with fewer distinct weights than 2^Bits one value per weight (fewer values, no error)' {
        $m = New-Mlp 2, 2 -Task Regression -Seed 1 | Invoke-Quantization -Bits 3
        $m.Layers[0].Quantization | Should -Be 'KMeans 3-bit (4 values)'
    }

    It '-WhatIf changes nothing' {
        $m = $Trained | Copy-Mlp
        $print = Get-ModelFingerprint $m
        $m | Invoke-Quantization -WhatIf
        Get-ModelFingerprint $m | Should -BeExactly $print
        $m.Layers[0].Bits | Should -BeNullOrEmpty
    }

    It 'refuses <Case> (<ErrorId>) and leaves the model as it was' -ForEach @(
        @{ Case = '-Bits 0'; ErrorId = 'InvalidBits'; Act = { param($m) $m | Invoke-Quantization -Bits 0 } }
        @{ Case = '-Bits 9'; ErrorId = 'InvalidBits'; Act = { param($m) $m | Invoke-Quantization -Bits 9 } }
        @{ Case = 'one -Bits per layer, but the wrong count'; ErrorId = 'InvalidBits'; Act = { param($m) $m | Invoke-Quantization -Bits 4, 4, 4 } }
        @{ Case = '-Method Linear -FineTuneEpochs'; ErrorId = 'ParameterNotApplicable'; Act = { param($m) $m | Invoke-Quantization -Method Linear -FineTuneEpochs 1 } }
        @{ Case = 'Set-Sparsity on a quantized model'; ErrorId = 'ModelQuantized'; Quantized = $true; Act = { param($m) $m | Set-Sparsity 0.5 } }
        @{ Case = 'Invoke-Pruning on a quantized model'; ErrorId = 'ModelQuantized'; Quantized = $true; Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 } }
        @{ Case = 'Invoke-Training of a linear-quantized model without -Dequantize'; ErrorId = 'ModelQuantized'; Linear = $true; Act = { param($m) $m | Invoke-Training -Epochs 1 } }
    ) {
        $m = $Trained | Copy-Mlp
        if ($Quantized) { $null = $m | Invoke-Quantization -Bits 4 }
        if ($Linear) { $null = $m | Invoke-Quantization -Method Linear }
        $print = Get-ModelFingerprint $m
        $history = $m.History.Count
        $err = Get-ThrownError -Action $Act -ArgumentList $m
        $err | Should -Not -BeNullOrEmpty
        ($err.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly $ErrorId
        $err.Exception.Message | Should -Not -BeNullOrEmpty
        Get-ModelFingerprint $m | Should -BeExactly $print
        $m.History.Count | Should -Be $history
        # the session goes on
        @(Invoke-Mlp -Model $m -InputObject ([double[]]::new(64))).Count | Should -Be 1
    }

    It 'Invoke-Training -Dequantize trains free weights again' {
        $m = $Trained | Copy-Mlp | Invoke-Quantization -Method Linear
        $null = $m | Invoke-Training -Epochs 1 -Dequantize -Seed 3
        $m.Layers[0].Bits | Should -BeNullOrEmpty
        $m.History[-1].Settings.ToString() | Should -Match 'Dequantize=True'
        @($m.GetWeight(0) | Sort-Object -Unique).Count | Should -BeGreaterThan 256
    }
}
