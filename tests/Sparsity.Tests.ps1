# Set-Sparsity: exact counts, magnitude order, threshold, global scope, random masks, -Layer,
# reversibility, and masks that hold through training.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Synthetic = Get-Dataset Synthetic

    # Checks one layer against its weights before the step: exactly $Zeros zeros, every zero
    # was among the smallest magnitudes (unless -AnyOrder), every other weight kept its bits.
    function script:Assert-MaskedLayer {
        param([float[]] $Before, [float[]] $After, [long] $Zeros, [switch] $AnyOrder)
        $After.Length | Should -Be $Before.Length
        $zeroed = [Collections.Generic.List[double]]::new(); $kept = [Collections.Generic.List[double]]::new()
        for ($i = 0; $i -lt $After.Length; $i++) {
            if ($After[$i] -eq 0) { $zeroed.Add([Math]::Abs($Before[$i])) }
            else {
                $kept.Add([Math]::Abs($Before[$i]))
                if ($After[$i] -ne $Before[$i]) { throw "weight $i changed from $($Before[$i]) to $($After[$i])" }
            }
        }
        $zeroed.Count | Should -Be $Zeros
        if (-not $AnyOrder -and $zeroed.Count -and $kept.Count) {
            ($zeroed | Measure-Object -Maximum).Maximum | Should -BeLessOrEqual ($kept | Measure-Object -Minimum).Minimum
        }
    }
}

Describe 'Set-Sparsity -Sparsity' {
    It 'zeroes exactly floor(<Sparsity> x N) weights of each layer, the smallest ones, and keeps the rest' -ForEach @(
        @{ Sparsity = 0.29; Widths = @(10, 10, 10, 2) }
        @{ Sparsity = 0.5; Widths = @(10, 5, 3, 1) }
        @{ Sparsity = 0.8; Widths = @(64, 32, 10) }
        @{ Sparsity = 0.95; Widths = @(64, 32, 10) }
    ) {
        $m = New-Mlp $Widths -Seed 7
        $before = Get-ModelSnapshot $m
        $out = @($m | Set-Sparsity -Sparsity $Sparsity)
        $out.Count | Should -Be 1
        [object]::ReferenceEquals($out[0], $m) | Should -BeTrue
        $totalZeros = 0; $total = 0
        foreach ($l in $before.Layers) {
            $n = $l.W.Length
            $zeros = Get-FloorCount $Sparsity $n
            Assert-MaskedLayer -Before $l.W -After (Get-FlatWeight $m $l.Index) -Zeros $zeros
            (ConvertTo-FloatHex -Values $m.GetBias($l.Index)) | Should -Be (ConvertTo-FloatHex -Values $l.B) -Because 'biases are not masked'
            $row = $m.Layers[$l.Index]
            $row.Weights | Should -Be $n -Because 'masked weights are still present'
            $row.NonZeroWeights | Should -Be ($n - $zeros)
            $row.Sparsity | Should -Be (($zeros) / $n)
            "$($row.Stored)" | Should -Be 'Dense'
            $totalZeros += $zeros; $total += $n
        }
        $m.Weights | Should -Be $total
        $m.NonZeroWeights | Should -Be ($total - $totalZeros)
        $m.Sparsity | Should -Be ($totalZeros / $total)
        ($m.Widths -join ',') | Should -Be ($Widths -join ',')
    }

    It 'is a target, not an increment: 0.8 then 0.3 leaves floor(0.3 x N) zeros and brings the others back' {
        $m = New-Mlp 64, 32, 10 -Seed 4
        $before = Get-ModelSnapshot $m
        $null = $m | Set-Sparsity 0.8
        $null = $m | Set-Sparsity 0.3
        foreach ($l in $before.Layers) {
            Assert-MaskedLayer -Before $l.W -After (Get-FlatWeight $m $l.Index) -Zeros (Get-FloorCount 0.3 $l.W.Length)
        }
    }

    It 'is reversible: -Sparsity 0 restores every weight bit for bit' {
        $m = New-Mlp 10, 16, 8, 1 -Seed 8 | Invoke-Training -Dataset $Synthetic -Epochs 1 -Seed 1
        $print = Get-ModelFingerprint $m
        $null = $m | Set-Sparsity 0.9
        Get-ModelFingerprint $m | Should -Not -Be $print
        $null = $m | Set-Sparsity -Sparsity 0
        Get-ModelFingerprint $m | Should -BeExactly $print
        $m.NonZeroWeights | Should -Be $m.Weights
    }

    It 'records the baseline and a Sparsify history record with the counts before and after' {
        $m = New-Mlp 10, 16, 1 -Seed 8 | Invoke-Training -Dataset $Synthetic -Epochs 1 -Seed 1
        $trainMetric = $m.History[0].Metric
        $null = $m | Set-Sparsity 0.5
        $m.Baseline | Should -Not -BeNullOrEmpty
        $m.Baseline.Weights | Should -Be (10 * 16 + 16)
        ($m.Baseline.LayerNeurons -join ',') | Should -Be '16,1'
        $m.Baseline.Metric | Should -Be $trainMetric -Because 'the baseline is the model before the first sparsify step'
        $h = $m.History[-1]
        $h.Operation | Should -Be 'Sparsify'
        $h.WeightsBefore | Should -Be 176
        $h.WeightsAfter | Should -Be 176
        $h.NonZeroBefore | Should -Be 176
        $h.NonZeroAfter | Should -Be (176 - (Get-FloorCount 0.5 160) - (Get-FloorCount 0.5 16))
        $h.NonZeroAfter | Should -Be $m.NonZeroWeights
    }

    It 'touches only the layers named by -Layer' {
        $m = New-Mlp 10, 10, 10, 2 -Seed 2
        $before = Get-ModelSnapshot $m
        $null = $m | Set-Sparsity 0.6 -Layer 1
        (ConvertTo-FloatHex -Values (Get-FlatWeight $m 0)) | Should -Be (ConvertTo-FloatHex -Values $before.Layers[0].W)
        (ConvertTo-FloatHex -Values (Get-FlatWeight $m 2)) | Should -Be (ConvertTo-FloatHex -Values $before.Layers[2].W)
        Assert-MaskedLayer -Before $before.Layers[1].W -After (Get-FlatWeight $m 1) -Zeros 60
    }
}

Describe 'Set-Sparsity -Threshold' {
    It 'zeroes exactly the weights with |w| below the threshold' {
        $m = New-Mlp 10, 5, 3, 1 -Seed 1 | Invoke-Training -Dataset $Synthetic -Optimizer SGD -LearningRate 0.01 -Epochs 2 -Seed 1
        $before = Get-ModelSnapshot $m
        $t = 0.1
        $null = $m | Set-Sparsity -Threshold $t
        foreach ($l in $before.Layers) {
            $after = Get-FlatWeight $m $l.Index
            for ($i = 0; $i -lt $after.Length; $i++) {
                if ([Math]::Abs($l.W[$i]) -lt $t) { $after[$i] | Should -Be 0 }
                else { $after[$i] | Should -Be $l.W[$i] }
            }
        }
        $expectedZeros = @($before.Layers | ForEach-Object { $_.W } | Where-Object { [Math]::Abs($_) -lt $t }).Count
        $expectedZeros | Should -BeGreaterThan 0 -Because 'the test needs some weights below the threshold'
        ($m.Weights - $m.NonZeroWeights) | Should -Be $expectedZeros
    }
}

Describe 'Set-Sparsity -Scope Global' {
    It 'ranks all layers together: floor(s x total) zeros, all of them below every kept magnitude' {
        $m = New-Mlp 64, 32, 10 -Seed 3
        $before = Get-ModelSnapshot $m
        $null = $m | Set-Sparsity 0.5 -Scope Global
        $allBefore = [Collections.Generic.List[float]]::new(); $allAfter = [Collections.Generic.List[float]]::new()
        foreach ($l in $before.Layers) { $allBefore.AddRange($l.W); $allAfter.AddRange((Get-FlatWeight $m $l.Index)) }
        $allBefore = $allBefore.ToArray(); $allAfter = $allAfter.ToArray()
        Assert-MaskedLayer -Before $allBefore -After $allAfter -Zeros (Get-FloorCount 0.5 $allBefore.Length)
        # the layers' own shares differ from 0.5 (the smaller init bound of layer 0 puts more zeros there)
        $shares = $m.Layers | ForEach-Object Sparsity
        $shares[0] | Should -BeGreaterThan $shares[1]
    }
}

Describe 'Set-Sparsity -Scope Global -MaxLayerSparsity' {
    It 'holds a layer that global ranking would take past the cap at floor(cap x its weights), ranks the rest globally, and says so' {
        # Layer 0's init bound (1/8) is below layer 1's (1/sqrt(32)): global ranking at 0.88 takes about 92 % of layer 0.
        $free = New-Mlp 64, 32, 10 -Seed 3 | Set-Sparsity 0.88 -Scope Global
        $free.Layers[0].Sparsity | Should -BeGreaterThan 0.9 -Because 'the cap must bind for the test to prove anything'
        $m = New-Mlp 64, 32, 10 -Seed 3
        $before = Get-ModelSnapshot $m
        $null = $m | Set-Sparsity 0.88 -Scope Global -MaxLayerSparsity 0.9 -WarningVariable warnings -WarningAction SilentlyContinue
        $n0 = $before.Layers[0].W.Length; $n1 = $before.Layers[1].W.Length
        $total = Get-FloorCount 0.88 ($n0 + $n1)
        $held = Get-FloorCount 0.9 $n0
        # layer 0 at its cap, its smallest magnitudes; layer 1 the rest of the count, its own smallest
        Assert-MaskedLayer -Before $before.Layers[0].W -After (Get-FlatWeight $m 0) -Zeros $held
        Assert-MaskedLayer -Before $before.Layers[1].W -After (Get-FlatWeight $m 1) -Zeros ($total - $held)
        "$warnings" | Should -Match 'MaxLayerSparsity 0\.9 held layer\(s\) 0 at the cap'
        $m.History[-1].Settings.ToString() | Should -Match 'MaxLayerSparsity=0\.9'
        $m.History[-1].Note | Should -Match 'held layer\(s\) 0'
    }

    It 'applies to -Sparsity with -Scope Global only (ParameterNotApplicable otherwise)' {
        $m = New-Mlp 8, 4, 2 -Seed 1
        $err = Get-ThrownError -Action { param($x) $x | Set-Sparsity 0.5 -MaxLayerSparsity 0.9 } -ArgumentList $m
        ($err.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly 'ParameterNotApplicable'
        $m.NonZeroWeights | Should -Be $m.Weights -Because 'a refused step changes nothing'
    }
}

Describe 'Set-Sparsity -Method Random' {
    It 'zeroes exactly floor(s x N) weights per layer, not the magnitude choice, and repeats with -Seed' {
        $m = New-Mlp 64, 32, 10 -Seed 3
        $before = Get-ModelSnapshot $m
        $a = Copy-Mlp $m | Set-Sparsity 0.5 -Method Random -Seed 5
        $b = Copy-Mlp $m | Set-Sparsity 0.5 -Method Random -Seed 5
        $c = Copy-Mlp $m | Set-Sparsity 0.5 -Method Random -Seed 6
        $magnitude = Copy-Mlp $m | Set-Sparsity 0.5
        foreach ($l in $before.Layers) {
            Assert-MaskedLayer -Before $l.W -After (Get-FlatWeight $a $l.Index) -Zeros (Get-FloorCount 0.5 $l.W.Length) -AnyOrder
        }
        Get-ModelFingerprint $a | Should -BeExactly (Get-ModelFingerprint $b)
        Get-ModelFingerprint $a | Should -Not -Be (Get-ModelFingerprint $c)
        Get-ModelFingerprint $a | Should -Not -Be (Get-ModelFingerprint $magnitude)
    }
}

Describe 'A mask holds through training' {
    It 'keeps masked weights at zero through <Optimizer> training' -ForEach @(
        @{ Optimizer = 'SGD'; Extra = @{ Momentum = 0.9 } }
        @{ Optimizer = 'Adam'; Extra = @{} }
    ) {
        $m = New-Mlp 10, 16, 8, 1 -Seed 6 | Set-Sparsity 0.6
        $masked = Get-ModelSnapshot $m
        $null = $m | Invoke-Training -Dataset $Synthetic -Optimizer $Optimizer -Epochs 3 -Seed 2 @Extra
        $changed = 0
        foreach ($l in $masked.Layers) {
            $after = Get-FlatWeight $m $l.Index
            for ($i = 0; $i -lt $after.Length; $i++) {
                if ($l.W[$i] -eq 0) { $after[$i] | Should -Be 0 -Because "weight $i of layer $($l.Index) is masked" }
                elseif ($after[$i] -ne $l.W[$i]) { $changed++ }
            }
        }
        $changed | Should -BeGreaterThan 0 -Because 'training moved the unmasked weights'
        foreach ($l in $masked.Layers) { $m.Layers[$l.Index].Sparsity | Should -BeGreaterOrEqual (0.6 - 1 / $l.W.Length) }
        # and the mask still restores: -Sparsity 0 brings back the values hidden before training
        $null = $m | Set-Sparsity 0
        $m.NonZeroWeights | Should -Be $m.Weights
    }
}
