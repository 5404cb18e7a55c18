# A quantization scheme added as one class (PowerOfTwoGrid) is selectable by name through the
# cmdlets, survives Export-Mlp / Import-Mlp, and gets the refusals a grid gets. Its arithmetic is
# checked in xUnit (Model/QuantizationSchemes/PowerOfTwoGridTests).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Digits = Get-Dataset Digits
    $script:Trained = New-Mlp 64, 16, 10 -Seed 7 | Invoke-Training -Dataset $Digits -Epochs 2 -Seed 1
}

Describe 'Invoke-Quantization -Method PowerOfTwo' {
    It 'puts every weight on 0 or a power of two, and the file keeps the grid' {
        $m = $Trained | Copy-Mlp | Invoke-Quantization -Method PowerOfTwo -Bits 3
        foreach ($l in 0, 1) {
            foreach ($v in @($m.GetWeight($l) | Where-Object { $_ -ne 0 } | Sort-Object -Unique)) {
                $exponent = [Math]::Log2([Math]::Abs($v))
                $exponent | Should -Be ([Math]::Round($exponent)) -Because "$v is a power of two"
            }
            $m.Layers[$l].Bits | Should -Be 3
            $m.Layers[$l].Quantization | Should -Match '^PowerOfTwo 3-bit \(±2\^-\d+\.\.2\^-?\d+\)$'
        }
        $m.History[-1].ToString() | Should -Match 'Quantize Method=PowerOfTwo Bits=3,3'
        $path = Join-Path $TestDrive 'p2.spmlp'
        $m | Export-Mlp $path
        $back = Import-Mlp $path
        $back.Layers[1].Quantization | Should -Be $m.Layers[1].Quantization
        Get-ModelFingerprint $back | Should -BeExactly (Get-ModelFingerprint $m)
    }

    It 'defaults to 4 bits and refuses 1 bit and fine-tuning, leaving the model as it was' {
        $m = $Trained | Copy-Mlp
        $print = Get-ModelFingerprint $m
        { $m | Invoke-Quantization -Method PowerOfTwo -Bits 1 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidBits*'
        { $m | Invoke-Quantization -Method PowerOfTwo -FineTuneEpochs 1 -Dataset $Digits -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterNotApplicable*'
        Get-ModelFingerprint $m | Should -BeExactly $print
        ($m | Invoke-Quantization -Method PowerOfTwo).Layers[0].Bits | Should -Be 4
        { $m | Invoke-Training -Dataset $Digits -Epochs 1 -ErrorAction Stop } | Should -Throw -ErrorId 'ModelQuantized*'
    }
}
