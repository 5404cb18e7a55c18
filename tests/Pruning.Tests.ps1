# Invoke-Pruning: connections (stored sparse), neurons (layers shrink), N:M, targets counted
# against the baseline, fine-tuning, and a target already met.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Synthetic = Get-Dataset Synthetic
    $script:Digits = Get-Dataset Digits

    # Row norms (L1 or L2) of a flat out x in weight matrix.
    function script:Get-RowNorm([float[]] $W, [int] $Out, [int] $In, [string] $Criterion) {
        $norms = [double[]]::new($Out)
        for ($o = 0; $o -lt $Out; $o++) {
            $s = 0.0
            for ($k = 0; $k -lt $In; $k++) { $v = [double]$W[$o * $In + $k]; $s += if ($Criterion -eq 'L2') { $v * $v } else { [Math]::Abs($v) } }
            $norms[$o] = if ($Criterion -eq 'L2') { [Math]::Sqrt($s) } else { $s }
        }
        , $norms
    }

    # The rows $Rows and columns $Cols (sorted index lists) of a flat out x in matrix, flat.
    function script:Select-Submatrix([float[]] $W, [int] $In, [int[]] $Rows, [int[]] $Cols) {
        $r = [Collections.Generic.List[float]]::new()
        foreach ($o in $Rows) { foreach ($k in $Cols) { $r.Add($W[$o * $In + $k]) } }
        , $r.ToArray()
    }
}

Describe 'Invoke-Pruning -Structure Connection' {
    It 'deletes floor(<Ratio> x N) connections of each layer of <Widths>, the smallest, and stores the layer sparse' -ForEach @(
        @{ Ratio = 0.3; Widths = @(10, 5, 3, 1) }
        @{ Ratio = 0.5; Widths = @(64, 32, 10) }
    ) {
        $m = New-Mlp $Widths -Seed 12
        $before = Get-ModelSnapshot $m
        $weightsBefore = $m.Weights
        $out = @($m | Invoke-Pruning -Ratio $Ratio)
        [object]::ReferenceEquals($out[0], $m) | Should -BeTrue
        $deletedTotal = 0
        foreach ($l in $before.Layers) {
            $n = $l.W.Length
            $deleted = Get-FloorCount $Ratio $n
            $after = Get-FlatWeight $m $l.Index
            $order = Get-StableOrder ([double[]]@($l.W | ForEach-Object { [Math]::Abs($_) }))
            $gone = [Collections.Generic.HashSet[int]]::new([int[]]@($order | Select-Object -First $deleted))
            for ($i = 0; $i -lt $n; $i++) {
                if ($gone.Contains($i)) { if ($after[$i] -ne 0) { throw "layer $($l.Index) weight $i should be deleted" } }
                elseif ($after[$i] -ne $l.W[$i]) { throw "layer $($l.Index) weight $i changed" }
            }
            $row = $m.Layers[$l.Index]
            $row.Weights | Should -Be ($n - $deleted)
            $row.NonZeroWeights | Should -Be ($n - $deleted)
            "$($row.Stored)" | Should -Be $(if ($deleted -gt 0) { 'Sparse' } else { 'Dense' })
            $deletedTotal += $deleted
        }
        $m.Weights | Should -Be ($weightsBefore - $deletedTotal)
        $m.Weights | Should -BeLessThan $weightsBefore
        ($m.Widths -join ',') | Should -Be ($Widths -join ',') -Because 'connection pruning keeps the shapes'
        $m.History[-1].Operation | Should -Be 'Prune'
        $m.History[-1].WeightsBefore | Should -Be $weightsBefore
        $m.History[-1].WeightsAfter | Should -Be $m.Weights
    }

    It 'counts earlier deletions: -Ratio 0.3 then 0.5 leaves N - floor(0.5 x N) weights per layer' {
        $m = New-Mlp 64, 32, 10 -Seed 2 | Invoke-Pruning -Ratio 0.3 | Invoke-Pruning -Ratio 0.5
        foreach ($row in $m.Layers) {
            $n = $row.InFeatures * $row.OutFeatures
            $row.Weights | Should -Be ($n - (Get-FloorCount 0.5 $n))
        }
        $m.History[-1].WeightsBefore - $m.History[-1].WeightsAfter | Should -Be ((Get-FloorCount 0.5 2048) - (Get-FloorCount 0.3 2048) + (Get-FloorCount 0.5 320) - (Get-FloorCount 0.3 320))
    }

    It 'deletes masked weights first (zeros rank lowest, ties by index), and a deletion survives -Sparsity 0' {
        $m = New-Mlp 10, 10, 10, 2 -Seed 3
        $original = Get-ModelSnapshot $m
        $null = $m | Set-Sparsity 0.6
        $masked = Get-ModelSnapshot $m
        $nonZero = $m.NonZeroWeights
        $null = $m | Invoke-Pruning -Ratio 0.3
        $m.NonZeroWeights | Should -Be $nonZero -Because 'only masked (zero) weights were deleted'
        $null = $m | Set-Sparsity 0
        foreach ($l in $original.Layers) {
            $n = $l.W.Length
            $m.Layers[$l.Index].Weights | Should -Be ($n - (Get-FloorCount 0.3 $n))
            # the deleted ones: the first floor(0.3 N) masked positions in row-major order
            $zeroIdx = @(for ($i = 0; $i -lt $n; $i++) { if ($masked.Layers[$l.Index].W[$i] -eq 0) { $i } })
            $gone = [Collections.Generic.HashSet[int]]::new([int[]]@($zeroIdx | Select-Object -First (Get-FloorCount 0.3 $n)))
            $after = Get-FlatWeight $m $l.Index
            for ($i = 0; $i -lt $n; $i++) {
                $expected = if ($gone.Contains($i)) { 0 } else { $l.W[$i] }
                if ($after[$i] -ne $expected) { throw "layer $($l.Index) weight ${i}: expected $expected, got $($after[$i])" }
            }
        }
    }

    It 'with -Scope Global deletes floor(r x all baseline weights), the globally smallest' {
        $m = New-Mlp 64, 32, 10 -Seed 5
        $before = Get-ModelSnapshot $m
        $null = $m | Invoke-Pruning -Ratio 0.4 -Scope Global
        $all = [Collections.Generic.List[double]]::new(); $survivors = [Collections.Generic.List[double]]::new(); $deleted = [Collections.Generic.List[double]]::new()
        foreach ($l in $before.Layers) {
            $after = Get-FlatWeight $m $l.Index
            for ($i = 0; $i -lt $after.Length; $i++) {
                if ($after[$i] -eq 0) { $deleted.Add([Math]::Abs($l.W[$i])) } else { $survivors.Add([Math]::Abs($l.W[$i])) }
            }
        }
        $deleted.Count | Should -Be (Get-FloorCount 0.4 (2048 + 320))
        ($m.Weights) | Should -Be (2048 + 320 - (Get-FloorCount 0.4 (2048 + 320)))
        ($deleted | Measure-Object -Maximum).Maximum | Should -BeLessOrEqual ($survivors | Measure-Object -Minimum).Minimum
    }

    It 'keeps deleted connections at zero through -FineTuneEpochs' {
        $m = New-Mlp 10, 16, 1 -Seed 4 | Invoke-Training -Dataset $Synthetic -Epochs 1 -Seed 1
        $plain = Copy-Mlp $m | Invoke-Pruning -Ratio 0.5
        $tuned = Copy-Mlp $m | Invoke-Pruning -Ratio 0.5 -FineTuneEpochs 2 -Seed 3
        $tuned.Weights | Should -Be $plain.Weights
        Get-ModelFingerprint $tuned | Should -Not -Be (Get-ModelFingerprint $plain)
        for ($l = 0; $l -lt 2; $l++) {
            $p = Get-FlatWeight $plain $l; $t = Get-FlatWeight $tuned $l
            for ($i = 0; $i -lt $p.Length; $i++) { if ($p[$i] -eq 0 -and $t[$i] -ne 0) { throw "deleted weight $i of layer $l came back" } }
        }
        $tuned.History[-1].Operation | Should -Be 'FineTune'
        $tuned.History[-1].Settings.ToString() | Should -Match 'Epochs=2'
        $tuned.History[-2].Operation | Should -Be 'Prune'
    }
}

Describe 'Invoke-Pruning -Structure Neuron' {
    It 'deletes the floor(r x w) hidden neurons with the smallest <Criterion> row norm: rows, biases and next-layer columns' -ForEach @(
        @{ Criterion = 'L1' }
        @{ Criterion = 'L2' }
    ) {
        $m = New-Mlp 64, 32, 16, 10 -Seed 21
        $before = Get-ModelSnapshot $m
        $null = $m | Invoke-Pruning -Structure Neuron -Ratio 0.25 -Criterion $Criterion
        $kept = @{}
        $kept[-1] = [int[]](0..63)
        foreach ($l in $before.Layers) {
            if ($l.Index -eq $before.Layers.Count - 1) { $kept[$l.Index] = [int[]](0..($l.Out - 1)); continue }
            $order = Get-StableOrder (Get-RowNorm $l.W $l.Out $l.In $Criterion)
            $k = Get-FloorCount 0.25 $l.Out
            $kept[$l.Index] = [int[]]@($order | Select-Object -Skip $k | Sort-Object)
        }
        ($m.Widths -join ',') | Should -Be '64,24,12,10'
        foreach ($l in $before.Layers) {
            $expected = Select-Submatrix $l.W $l.In $kept[$l.Index] $kept[$l.Index - 1]
            (ConvertTo-FloatHex -Values (Get-FlatWeight $m $l.Index)) | Should -Be (ConvertTo-FloatHex -Values $expected) -Because "layer $($l.Index) keeps rows and columns of the surviving neurons"
            $bias = [float[]]@($kept[$l.Index] | ForEach-Object { $l.B[$_] })
            (ConvertTo-FloatHex -Values $m.GetBias($l.Index)) | Should -Be (ConvertTo-FloatHex -Values $bias)
            $row = $m.Layers[$l.Index]
            $row.InFeatures | Should -Be $kept[$l.Index - 1].Count
            $row.OutFeatures | Should -Be $kept[$l.Index].Count
            "$($row.Stored)" | Should -Be 'Dense'
        }
        $m.Weights | Should -Be (64 * 24 + 24 * 12 + 12 * 10)
        $m.Baseline.Weights | Should -Be (64 * 32 + 32 * 16 + 16 * 10)
    }

    It 'never prunes output neurons and keeps at least one neuron per layer' {
        $m = New-Mlp 6, 3, 2, 4 -Seed 1 | Invoke-Pruning -Structure Neuron -Ratio 0.99
        ($m.Widths -join ',') | Should -Be ('6,{0},{1},4' -f (3 - (Get-FloorCount 0.99 3)), [Math]::Max(1, 2 - (Get-FloorCount 0.99 2)))
        # -MaxLayerSparsity 1: no cap beyond the one-neuron floor (the default 0.98 cannot reach 0.99 of 3 and 2 neurons).
        $g = New-Mlp 6, 3, 2, 4 -Seed 1 | Invoke-Pruning -Structure Neuron -Ratio 0.99 -Scope Global -MaxLayerSparsity 1
        $g.Widths[-1] | Should -Be 4
        $g.Widths[1] | Should -BeGreaterOrEqual 1
        $g.Widths[2] | Should -BeGreaterOrEqual 1
    }

    It 'is a target against the baseline: -Ratio 0.25 then 0.5 leaves w - floor(0.5 x w) neurons' {
        $m = New-Mlp 10, 20, 12, 1 -Seed 2 | Invoke-Pruning -Structure Neuron -Ratio 0.25 | Invoke-Pruning -Structure Neuron -Ratio 0.5
        ($m.Widths -join ',') | Should -Be ('10,{0},{1},1' -f (20 - (Get-FloorCount 0.5 20)), (12 - (Get-FloorCount 0.5 12)))
    }

    It 'keeps the model''s function when the removed neurons have no incoming weights (constant outputs folded into the next bias)' {
        $m = New-Mlp 6, 8, 3 -Seed 13 | Set-Sparsity 0.9 -Layer 0
        $w0 = Get-FlatWeight $m 0
        $zeroRows = @(for ($o = 0; $o -lt 8; $o++) { if ((Get-NonZeroCount -Values $w0[($o * 6)..($o * 6 + 5)]) -eq 0) { $o } })
        $zeroRows.Count | Should -BeGreaterOrEqual 3 -Because '5 non-zero weights in 8 rows leave at least 3 empty rows'
        $rows = @(, [double[]](0.5, -1, 2, 0.25, -0.75, 1.5); , [double[]](-2, 0, 1, 1, -1, 0.1); , [double[]](3, 2, 1, 0, -1, -2))
        $before = @($rows | Invoke-Mlp -Model $m | ForEach-Object { $_.Probabilities })
        $null = $m | Invoke-Pruning -Structure Neuron -Ratio (3 / 8)
        $m.Widths[1] | Should -Be 5
        $after = @($rows | Invoke-Mlp -Model $m | ForEach-Object { $_.Probabilities })
        $after.Count | Should -Be $before.Count
        for ($i = 0; $i -lt $after.Count; $i++) { [Math]::Abs($after[$i] - $before[$i]) | Should -BeLessThan 1e-5 }
    }
}

Describe 'Pruning steps combined' {
    It 'Set-Sparsity after connection pruning counts only the weights still present' {
        $m = New-Mlp 10, 10, 10, 2 -Seed 8 | Invoke-Pruning -Ratio 0.3 | Set-Sparsity 0.5
        foreach ($row in $m.Layers) {
            $n = $row.InFeatures * $row.OutFeatures
            $present = $n - (Get-FloorCount 0.3 $n)
            $row.Weights | Should -Be $present
            $row.NonZeroWeights | Should -Be ($present - (Get-FloorCount 0.5 $present))
            (Get-NonZeroCount -Values $m.GetWeight($row.Index)) | Should -Be ($present - (Get-FloorCount 0.5 $present))
        }
    }

    It 'neuron pruning after connection pruning ranks rows by what is left and keeps the counts consistent' {
        $m = New-Mlp 12, 10, 8, 3 -Seed 14 | Invoke-Pruning -Ratio 0.4
        $afterConnections = Get-ModelSnapshot $m
        $null = $m | Invoke-Pruning -Structure Neuron -Ratio 0.3
        $keptPrev = [int[]](0..11)
        foreach ($l in $afterConnections.Layers) {
            if ($l.Index -lt 2) {
                $kept = Get-KeptNeurons -Layer $l -Ratio 0.3
            }
            else { $kept = [int[]](0..2) }
            $kept.Count | Should -Be $m.Widths[$l.Index + 1]
            $expected = Select-Submatrix $l.W $l.In $kept $keptPrev
            (ConvertTo-FloatHex -Values (Get-FlatWeight $m $l.Index)) | Should -Be (ConvertTo-FloatHex -Values $expected)
            # no masks: what is present is what is non-zero
            $m.Layers[$l.Index].Weights | Should -Be (Get-NonZeroCount -Values $expected)
            $keptPrev = $kept
        }
        $r = $m | Get-CompressionReport
        $r.BaselineWeights | Should -Be (12 * 10 + 10 * 8 + 8 * 3)
        $r.PrunedWeights | Should -Be ($r.BaselineWeights - $m.Weights)
        $r.Weights | Should -Be $m.NonZeroWeights
    }

    It 'Neuron -Scope Global removes floor(r x all hidden neurons), the smallest norms across layers, keeping one per layer' {
        $m = New-Mlp 16, 12, 6, 2 -Seed 15
        $before = Get-ModelSnapshot $m
        $null = $m | Invoke-Pruning -Structure Neuron -Ratio 0.5 -Scope Global
        $removed = (12 + 6) - ($m.Widths[1] + $m.Widths[2])
        $removed | Should -Be (Get-FloorCount 0.5 18)
        # the removed neurons are the lowest L1 rows of the two hidden layers taken together
        $all = foreach ($l in $before.Layers[0..1]) {
            for ($o = 0; $o -lt $l.Out; $o++) { $s = 0.0; for ($k = 0; $k -lt $l.In; $k++) { $s += [Math]::Abs($l.W[$o * $l.In + $k]) }; [pscustomobject]@{ Layer = $l.Index; Row = $o; Norm = $s } }
        }
        # taken in ascending order, skipping a layer that is down to its last neuron
        $left = @(12, 6); $take = Get-FloorCount 0.5 18
        foreach ($c in $all | Sort-Object Norm, Layer, Row) {
            if ($take -eq 0) { break }
            if ($left[$c.Layer] -le 1) { continue }
            $left[$c.Layer]--; $take--
        }
        ($m.Widths -join ',') | Should -Be ('16,{0},{1},2' -f $left[0], $left[1])
    }

    It '-Criterion Random deletes exact counts and repeats with -Seed' {
        $base = New-Mlp 10, 10, 2 -Seed 16
        $a = Copy-Mlp $base | Invoke-Pruning -Ratio 0.5 -Criterion Random -Seed 1
        $b = Copy-Mlp $base | Invoke-Pruning -Ratio 0.5 -Criterion Random -Seed 1
        $c = Copy-Mlp $base | Invoke-Pruning -Ratio 0.5 -Criterion Random -Seed 2
        $l1 = Copy-Mlp $base | Invoke-Pruning -Ratio 0.5
        $a.Layers[0].Weights | Should -Be 50
        $a.Layers[1].Weights | Should -Be 10
        Get-ModelFingerprint $a | Should -BeExactly (Get-ModelFingerprint $b)
        Get-ModelFingerprint $a | Should -Not -Be (Get-ModelFingerprint $c)
        Get-ModelFingerprint $a | Should -Not -Be (Get-ModelFingerprint $l1)
    }

    It 'records the seed of an unseeded random ranking in the history, and that seed replays it' {
        $base = New-Mlp 10, 10, 2 -Seed 16
        $a = Copy-Mlp $base | Invoke-Pruning -Ratio 0.5 -Criterion Random
        $a.History[-1].Settings.ToString() | Should -Match 'Seed=(\d+)'
        $seed = [int]($a.History[-1].Settings.ToString() -replace '.*Seed=(\d+).*', '$1')
        $b = Copy-Mlp $base | Invoke-Pruning -Ratio 0.5 -Criterion Random -Seed $seed
        Get-ModelFingerprint $b | Should -BeExactly (Get-ModelFingerprint $a)
    }

    It 'warns when the baseline is recorded without a data set (no metric to compare with)' {
        $fresh = New-Mlp 6, 5, 2 -Seed 4
        $null = $fresh | Invoke-Pruning -Ratio 0.5 -WarningVariable warnings -WarningAction SilentlyContinue
        ($warnings -join ' ') | Should -Match 'no data set'
        $fresh.Baseline | Should -Not -BeNullOrEmpty
        $fresh.Baseline.Metric | Should -BeNullOrEmpty
        $null = $fresh | Invoke-Pruning -Ratio 0.6 -WarningVariable again -WarningAction SilentlyContinue
        ($again -join ' ') | Should -Not -Match 'no data set'
    }
}

Describe 'Invoke-Pruning -Structure NM' {
    It 'keeps the <Keep> largest of every <Group> consecutive weights of each row of <Widths> (-Pattern <Keep>:<Group>)' -ForEach @(
        @{ Keep = 2; Group = 4; Widths = @(8, 12, 4) }
        @{ Keep = 1; Group = 4; Widths = @(8, 12, 4) }
        @{ Keep = 2; Group = 4; Widths = @(10, 6, 2) }
    ) {
        $m = New-Mlp $Widths -Seed 9
        $before = Get-ModelSnapshot $m
        if ($Keep -eq 2 -and $Group -eq 4) { $null = $m | Invoke-Pruning -Structure NM } # the default pattern
        else { $null = $m | Invoke-Pruning -Structure NM -Pattern "${Keep}:$Group" }
        foreach ($l in $before.Layers) {
            $after = Get-FlatWeight $m $l.Index
            $present = 0
            for ($o = 0; $o -lt $l.Out; $o++) {
                for ($g = 0; $g -lt $l.In; $g += $Group) {
                    $idx = @($g..([Math]::Min($g + $Group, $l.In) - 1) | ForEach-Object { $o * $l.In + $_ })
                    $keepHere = [Math]::Min($Keep, $idx.Count)
                    $ranked = @($idx | Sort-Object { - [Math]::Abs($l.W[$_]) }, { $_ })
                    $keepSet = @($ranked | Select-Object -First $keepHere)
                    foreach ($i in $idx) {
                        $expected = if ($keepSet -contains $i) { $l.W[$i] } else { 0 }
                        if ($after[$i] -ne $expected) { throw "layer $($l.Index) weight ${i}: expected $expected, got $($after[$i])" }
                    }
                    $present += $keepHere
                }
            }
            $m.Layers[$l.Index].Weights | Should -Be $present
            "$($m.Layers[$l.Index].Stored)" | Should -Be 'Sparse'
        }
    }
}

Describe 'Invoke-Pruning with a target already met' {
    It 'writes a warning and deletes nothing (<Structure>)' -ForEach @(
        @{ Structure = 'Connection' }
        @{ Structure = 'Neuron' }
    ) {
        $m = New-Mlp 10, 12, 1 -Seed 3 | Invoke-Pruning -Structure $Structure -Ratio 0.4
        $print = Get-ModelFingerprint $m
        $weights = $m.Weights
        $warnings = $null
        $out = @($m | Invoke-Pruning -Structure $Structure -Ratio 0.2 -WarningVariable warnings -WarningAction SilentlyContinue)
        $out.Count | Should -Be 1
        @($warnings).Count | Should -BeGreaterThan 0
        "$warnings" | Should -Match 'already met'
        Get-ModelFingerprint $m | Should -BeExactly $print
        $m.Weights | Should -Be $weights
        $m.History[-1].Note | Should -Match 'already met'
    }

    It 'warns for -Ratio 0 on an unpruned model' {
        $m = New-Mlp 4, 3 -Seed 1
        $print = Get-ModelFingerprint $m
        $warnings = $null
        $null = $m | Invoke-Pruning -Ratio 0 -WarningVariable warnings -WarningAction SilentlyContinue
        "$warnings" | Should -Match 'already met'
        Get-ModelFingerprint $m | Should -BeExactly $print
    }
}

Describe 'N:M after earlier deletions' {
    It 'a second N:M pass deletes nothing and says the target is met' {
        $m = New-Mlp 8, 4, 2 -Seed 1
        $null = $m | Invoke-Pruning -Structure NM
        $after = Get-ModelFingerprint $m
        $weights = $m.Weights
        $null = $m | Invoke-Pruning -Structure NM -WarningVariable w -WarningAction SilentlyContinue
        ($w -join ' ') | Should -Match 'already met'
        $m.Weights | Should -Be $weights
        Get-ModelFingerprint $m | Should -BeExactly $after
    }

    It 'after connection pruning, each group of 4 keeps the 2 largest live weights (deleted ones count as dropped)' {
        $m = New-Mlp 8, 6, 2 -Seed 4 | Invoke-Pruning -Ratio 0.25
        $before = $m.GetWeight(0)
        $null = $m | Invoke-Pruning -Structure NM
        $after = $m.GetWeight(0)
        for ($r = 0; $r -lt 6; $r++) {
            for ($g = 0; $g -lt 8; $g += 4) {
                $live = @(for ($c = $g; $c -lt $g + 4; $c++) { if ($before[$r, $c] -ne 0) { [pscustomobject]@{ C = $c; A = [math]::Abs($before[$r, $c]) } } })
                $keep = @($live | Sort-Object -Property @{ Expression = 'A'; Descending = $true }, C | Select-Object -First 2 | ForEach-Object C)
                for ($c = $g; $c -lt $g + 4; $c++) {
                    $expected = if ($keep -contains $c) { $before[$r, $c] } else { 0 }
                    $after[$r, $c] | Should -Be $expected -Because "row $r column $c"
                }
            }
        }
    }
}
