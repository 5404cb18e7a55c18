# Files written by earlier releases load unchanged: every format SparsePrune 0.2.0 writes (.spmlp
# versions 2 and 3 with both quantization methods, ONNX float, with sparse initializers and int8,
# SafeTensors) and the version-1 .spmlp, each read now must give what it gave when it was written
# (tests/data/*.expected.json, from make-models-0.2.0.ps1 and make-model-v1.ps1).
BeforeDiscovery {
    $script:Fixtures = @(
        @{ File = 'model-v2.spmlp'; Form = '.spmlp version 2' }
        @{ File = 'model-v3-kmeans.spmlp'; Form = '.spmlp version 3, k-means codebooks' }
        @{ File = 'model-v3-linear.spmlp'; Form = '.spmlp version 3, linear grids' }
        @{ File = 'model-onnx-float.onnx'; Form = 'ONNX float, opset 13' }
        @{ File = 'model-onnx-sparse.onnx'; Form = 'ONNX sparse initializers, opset 21' }
        @{ File = 'model-onnx-int8.onnx'; Form = 'ONNX int8 (DequantizeLinear)' }
        @{ File = 'model-safetensors.safetensors'; Form = 'SafeTensors' }
    )
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Data = Join-Path $PSScriptRoot 'data'
    $script:Rows = Import-Csv (Join-Path $Data 'iris.csv')

    # System.Text.Json rather than ConvertFrom-Json, which would turn the history's times into DateTime.
    function Read-Json([string] $Text) { Write-Output -NoEnumerate ([System.Text.Json.Nodes.JsonNode]::Parse($Text).AsObject()) }

    # A JSON null is a .NET null here.
    function Format-Json($Node) { if ($null -eq $Node) { 'null' } else { $Node.ToJsonString() } }

    function Assert-Probabilities($Expected, $Actual) {
        $Actual.Count | Should -Be $Expected.Count
        for ($i = 0; $i -lt $Expected.Count; $i++) {
            $e = [double[]]("$($Expected[$i])" -split ' ')
            $a = [double[]]("$($Actual[$i])" -split ' ')
            $a.Count | Should -Be $e.Count -Because "row $i"
            for ($k = 0; $k -lt $e.Count; $k++) { [Math]::Abs($a[$k] - $e[$k]) | Should -BeLessOrEqual 1e-6 -Because "row $i, class $k" }
        }
    }
}

Describe 'A file written by SparsePrune 0.2.0 (<Form>)' -ForEach $Fixtures {
    BeforeAll {
        $path = Join-Path $Data $File
        $script:Expected = Read-Json (Get-Content -Raw ([IO.Path]::ChangeExtension($path, '.expected.json')))
        $script:Actual = Read-Json (Get-ModelFileDescription $path $Rows | ConvertTo-Json -Depth 4)
    }

    It 'reads as the same model: name, activation, task, layers, baseline, history and every weight bit' {
        $names = @($Expected | ForEach-Object Key)
        @($Actual | ForEach-Object Key) | Should -Be $names
        foreach ($key in $names | Where-Object { $_ -ne 'Probabilities' }) {
            Format-Json $Actual[$key] | Should -Be (Format-Json $Expected[$key]) -Because $key
        }
    }

    It 'predicts the same labels and probabilities (within 1e-6) for iris.csv' {
        $Actual['Labels'].ToJsonString() | Should -Be $Expected['Labels'].ToJsonString()
        Assert-Probabilities $Expected['Probabilities'].AsArray() $Actual['Probabilities'].AsArray()
    }
}

Describe 'A version-1 .spmlp file' {
    BeforeAll {
        $script:Expected = Read-Json (Get-Content -Raw (Join-Path $Data 'model-v1.expected.json'))
        $script:Model = Import-Mlp (Join-Path $Data 'model-v1.spmlp')
    }

    It 'is version 1 and reads with every weight bit, masked or lifted' {
        [BitConverter]::ToUInt16([IO.File]::ReadAllBytes((Join-Path $Data 'model-v1.spmlp')), 8) | Should -Be 1
        $Model.Widths -join ',' | Should -Be (@($Expected['Widths'].AsArray() | ForEach-Object { "$_" }) -join ',')
        @($Model.History.Operation) -join ',' | Should -Be (@($Expected['History'].AsArray() | ForEach-Object { "$_" }) -join ',')
        Get-ModelFingerprint $Model | Should -Be "$($Expected['Fingerprint'])"
        Get-ModelFingerprint (Copy-Mlp $Model | Set-Sparsity 0) | Should -Be "$($Expected['RestoredFingerprint'])"
    }

    It 'predicts the same labels and probabilities (within 1e-6) for iris.csv' {
        $predictions = @($Rows | Invoke-Mlp -Model $Model)
        (@($predictions.Label) -join ',') | Should -Be (@($Expected['Labels'].AsArray() | ForEach-Object { "$_" }) -join ',')
        $actual = @($predictions | ForEach-Object { ($_.Probabilities | ForEach-Object { $_.ToString('R', [cultureinfo]::InvariantCulture) }) -join ' ' })
        Assert-Probabilities $Expected['Probabilities'].AsArray() $actual
    }
}
