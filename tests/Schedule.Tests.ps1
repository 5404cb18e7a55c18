# Schedules: Invoke-Pruning -Schedule, -MaxLayerSparsity, -N/-M, -Criterion Taylor,
# -LearningRateSchedule, -WhatIf with a schedule or a budget, their errors and parameter sets.
# Budgets: BudgetSearch.Tests.ps1 and Budget.Tests.ps1; Measure-LayerSensitivity: Sensitivity.Tests.ps1.
# Every expectation is computed from the model's own weights, the data set and the documented
# formulas (floor(fraction x N), the round targets, the gradual ramp), never copied from a run.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Digits, $script:Synthetic, $script:Widths, $script:Trained, $script:Invariant = Get-PruningFixture
}

Describe '-WhatIf with a schedule or a budget changes nothing' {
    It '<Case> -WhatIf leaves the weights, history and baseline as they were' -ForEach @(
        @{ Case = '-Schedule Iterative'; Act = { param($m) $m | Invoke-Pruning -Ratio 0.8 -Schedule Iterative -Steps 2 -FineTuneEpochs 1 -WhatIf } }
        @{ Case = '-Schedule Gradual'; Act = { param($m) $m | Invoke-Pruning -Ratio 0.8 -Schedule Gradual -Epochs 2 -UpdateEvery 5 -WhatIf } }
        @{ Case = '-Schedule LotteryTicket'; Act = { param($m) $m | Invoke-Pruning -Ratio 0.8 -Schedule LotteryTicket -RewindEpoch 1 -FineTuneEpochs 1 -WhatIf } }
        @{ Case = '-MaxAccuracyDrop'; Act = { param($m) $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Scope Global -FineTuneEpochs 1 -WhatIf } }
        @{ Case = '-MaxAccuracyDrop -Schedule Gradual'; Act = { param($m) $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Schedule Gradual -Epochs 1 -WhatIf } }
    ) {
        $m = $Trained | Copy-Mlp
        $state = Get-ModelState $m
        $out = @(& $Act $m)
        $out.Count | Should -Be 0
        Assert-ModelUnchanged $m $state
        $m.Baseline | Should -BeNullOrEmpty
        ($m.Layers | ForEach-Object { "$($_.Stored)" }) -join ',' | Should -Be 'Dense,Dense,Dense'
    }

    It 'the What-if text names the schedule, its target and the budget' {
        $r = Invoke-InFreshPwsh @'
$d = Get-Dataset Digits
$m = New-Mlp -Layers 64,32,16,10 -Seed 1 | Invoke-Training -Dataset $d -Epochs 1 -Seed 1
'### Iterative'
$m | Invoke-Pruning -Ratio 0.9 -Schedule Iterative -Steps 4 -FineTuneEpochs 2 -WhatIf
'### Budget'
$m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Scope Global -WhatIf
'### State'
"history=$($m.History.Count) weights=$($m.Weights) baseline=$($null -ne $m.Baseline)"
'@
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $text = $r.Output -join "`n"
        $text | Should -Match '### Iterative\s+What if:.*Schedule=Iterative Steps=4 FineTuneEpochs=2.*to 0\.9 of its baseline'
        # Nothing trains in this budget's schedule: half the training rows judge it.
        $text | Should -Match "### Budget\s+What if:.*accuracy drops at most 0\.01 with 0\.95 confidence.*50 % of the training split of 'Digits'"
        $text | Should -Match ('history=1 weights={0} baseline=False' -f (((Get-LayerWeightCount $Widths) | Measure-Object -Sum).Sum))
    }
}

Describe 'New error ids: terminating, with the right ErrorId, the model unchanged' {
    It '<Case>: <ErrorId>' -ForEach @(
        @{ Case = '-MaxLayerSparsity with -Scope Layer'; ErrorId = 'ParameterNotApplicable'; Hint = '-Scope Global'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -MaxLayerSparsity 0.9 -ErrorAction SilentlyContinue } }
        @{ Case = '-Steps 3 (the default value) with -Schedule OneShot'; ErrorId = 'ParameterNotApplicable'; Hint = 'Iterative'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Schedule OneShot -Steps 3 -ErrorAction SilentlyContinue } }
        @{ Case = '-Steps with -Schedule Gradual'; ErrorId = 'ParameterNotApplicable'; Hint = 'Iterative'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Schedule Gradual -Steps 5 -ErrorAction SilentlyContinue } }
        @{ Case = '-RewindEpoch with -Schedule Iterative'; ErrorId = 'ParameterNotApplicable'; Hint = 'LotteryTicket'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Schedule Iterative -RewindEpoch 1 -ErrorAction SilentlyContinue } }
        @{ Case = '-Epochs with -Schedule Iterative'; ErrorId = 'ParameterNotApplicable'; Hint = 'Gradual'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Schedule Iterative -Epochs 5 -ErrorAction SilentlyContinue } }
        @{ Case = '-N with -Structure Connection'; ErrorId = 'ParameterNotApplicable'; Hint = 'NM'
            Act = { param($m) $m | Invoke-Pruning -Structure Neuron -N 2 -ErrorAction SilentlyContinue } }
        @{ Case = '-Pattern together with -N and -M'; ErrorId = 'ParameterNotApplicable'; Hint = 'once'
            Act = { param($m) $m | Invoke-Pruning -Structure NM -Pattern 1:4 -N 1 -M 4 -ErrorAction SilentlyContinue } }
        @{ Case = '-ValidationFraction without a budget'; ErrorId = 'ParameterNotApplicable'; Hint = '-MaxAccuracyDrop'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -ValidationFraction 0.2 -ErrorAction SilentlyContinue } }
        @{ Case = '-MaxAccuracyDrop with -MaxLossIncrease'; ErrorId = 'ParameterNotApplicable'; Hint = 'one budget'
            Act = { param($m) $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -MaxLossIncrease 0.1 -ErrorAction SilentlyContinue } }
        @{ Case = '-Regrow with -Schedule OneShot'; ErrorId = 'ParameterNotApplicable'; Hint = 'Gradual'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Regrow -ErrorAction SilentlyContinue } }
        @{ Case = '-Schedule Gradual -Regrow -Structure Neuron'; ErrorId = 'ScheduleNeedsConnections'; Hint = 'Connection'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Schedule Gradual -Regrow -Structure Neuron -Dataset $Digits -ErrorAction SilentlyContinue } }
        @{ Case = '-RegrowFraction with -Schedule Gradual alone'; ErrorId = 'ParameterNotApplicable'; Hint = '-Regrow'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Schedule Gradual -RegrowFraction 0.2 -Dataset $Digits -ErrorAction SilentlyContinue } }
        @{ Case = '-Structure NM -Schedule Iterative'; ErrorId = 'ScheduleNeedsRatio'; Hint = 'OneShot'
            Act = { param($m) $m | Invoke-Pruning -Structure NM -Schedule Iterative -ErrorAction SilentlyContinue } }
        @{ Case = '-Structure NM with a budget'; ErrorId = 'ScheduleNeedsRatio'; Hint = 'NM'
            Act = { param($m) $m | Invoke-Pruning -Structure NM -MaxAccuracyDrop 0.01 -ErrorAction SilentlyContinue } }
        @{ Case = '-Scope Global -Ratio 0.99 -MaxLayerSparsity 0.5'; ErrorId = 'MaxLayerSparsityTooLow'; Hint = '-MaxLayerSparsity'
            Act = { param($m) $m | Invoke-Pruning -Scope Global -Ratio 0.99 -MaxLayerSparsity 0.5 -ErrorAction SilentlyContinue } }
        @{ Case = '-Schedule Iterative -Scope Global -Ratio 0.99 -MaxLayerSparsity 0.5'; ErrorId = 'MaxLayerSparsityTooLow'; Hint = '-MaxLayerSparsity'
            Act = { param($m) $m | Invoke-Pruning -Schedule Iterative -Scope Global -Ratio 0.99 -MaxLayerSparsity 0.5 -ErrorAction SilentlyContinue } }
        @{ Case = '-RampFraction 0'; ErrorId = 'InvalidRampFraction'; Hint = 'above 0'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Schedule Gradual -RampFraction 0 -ErrorAction SilentlyContinue } }
        @{ Case = '-RampFraction 1.5'; ErrorId = 'InvalidRampFraction'; Hint = 'at most 1'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Schedule Gradual -RampFraction 1.5 -ErrorAction SilentlyContinue } }
        @{ Case = '-MaxLossIncrease on a classifier'; ErrorId = 'BudgetDoesNotFit'; Hint = '-MaxAccuracyDrop'
            Act = { param($m) $m | Invoke-Pruning -MaxLossIncrease 0.1 -ErrorAction SilentlyContinue } }
        @{ Case = '-MaxAccuracyDrop on a regressor'; ErrorId = 'BudgetDoesNotFit'; Hint = '-MaxLossIncrease'; Model = 'Regressor'
            Act = { param($m) $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -ErrorAction SilentlyContinue } }
        @{ Case = '-Criterion Taylor on an untrained model without -Dataset'; ErrorId = 'NoDataset'; Hint = '-Dataset'; Model = 'Untrained'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Criterion Taylor -ErrorAction SilentlyContinue } }
        @{ Case = '-Criterion Fisher on an untrained model without -Dataset'; ErrorId = 'NoDataset'; Hint = '-Dataset'; Model = 'Untrained'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Criterion Fisher -ErrorAction SilentlyContinue } }
        @{ Case = '-Schedule Gradual on an untrained model without -Dataset'; ErrorId = 'NoDataset'; Hint = '-Dataset'; Model = 'Untrained'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Schedule Gradual -ErrorAction SilentlyContinue } }
    ) {
        $m = switch ($Model) {
            'Regressor' { New-Mlp -Layers 10, 8, 1 -Seed 4 | Invoke-Training -Dataset $Synthetic -Epochs 1 -Seed 1 }
            'Untrained' { New-Mlp -Layers $Widths -Seed 1 }
            default { $Trained | Copy-Mlp }
        }
        $state = Get-ModelState $m
        $ErrorActionPreference = 'Continue'

        # -ErrorAction SilentlyContinue hides a non-terminating error; a terminating one is still caught
        $err = Get-ThrownError -Action $Act -ArgumentList $m

        $err | Should -Not -BeNullOrEmpty -Because "$Case must stop with a terminating error"
        $err | Should -BeOfType System.Management.Automation.ErrorRecord
        $err.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        "$($err.CategoryInfo.Category)" | Should -Be 'InvalidArgument'
        $err.Exception | Should -BeOfType SparsePrune.SparsePruneException
        $err.Exception.ErrorId | Should -BeExactly $ErrorId
        $err.Exception.Message | Should -BeLike "*$Hint*"
        Assert-ModelUnchanged $m $state
        $m.Baseline | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-Pruning parameter sets: what combines' {
    It 'Get-Help shows a ratio set, an N:M pattern set and a budget set' {
        $sets = @((Get-Command Invoke-Pruning).ParameterSets)
        ($sets.Name | Sort-Object) -join ',' | Should -Be 'Budget,Pattern,Ratio'
        (Get-Command Invoke-Pruning).DefaultParameterSet | Should -Be 'Ratio'
        $names = @{}; foreach ($set in $sets) { $names[$set.Name] = @($set.Parameters.Name) }
        $names.Pattern | Should -Contain 'N'
        $names.Pattern | Should -Not -Contain 'Ratio'
        $names.Pattern | Should -Not -Contain 'Schedule'
        $names.Ratio | Should -Not -Contain 'Pattern'
        $names.Ratio | Should -Not -Contain 'MaxAccuracyDrop'
        $names.Budget | Should -Contain 'Ratio' -Because 'a ratio given with a budget is the top of the range searched'
        $syntax = (Get-Help Invoke-Pruning).Syntax.SyntaxItem
        @($syntax).Count | Should -Be 3
    }

    It 'refuses <Case> at binding, before anything changes' -ForEach @(
        @{ Case = '-Ratio with -Pattern'; Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Pattern 1:4 } }
        @{ Case = '-Ratio with -N'; Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -N 2 } }
        @{ Case = '-Pattern with -MaxAccuracyDrop'; Act = { param($m) $m | Invoke-Pruning -Structure NM -Pattern 2:4 -MaxAccuracyDrop 0.01 } }
    ) {
        $m = $Trained | Copy-Mlp
        $state = Get-ModelState $m
        $err = Get-ThrownError -Action $Act -ArgumentList $m
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'AmbiguousParameterSet,*'
        Assert-ModelUnchanged $m $state
    }
}

Describe '-WhatIf with a schedule or a budget checks what the run would check' {
    # Invoke-Pruning -Ratio 1.5 -WhatIf (OneShot) fails with InvalidRatio before it says "What if".
    # A schedule or a budget should too: otherwise -WhatIf (and -Confirm) promise a run that fails.
    It '<Case>: <ErrorId> with and without -WhatIf' -ForEach @(
        @{ Case = '-Schedule Iterative -Ratio 1.5'; ErrorId = 'InvalidRatio'
            Act = { param($m, $w) $m | Invoke-Pruning -Schedule Iterative -Ratio 1.5 -WhatIf:$w } }
        @{ Case = '-Schedule Gradual -Scope Global -Ratio 0.99 -MaxLayerSparsity 0.5'; ErrorId = 'MaxLayerSparsityTooLow'
            Act = { param($m, $w) $m | Invoke-Pruning -Schedule Gradual -Scope Global -Ratio 0.99 -MaxLayerSparsity 0.5 -Epochs 1 -WhatIf:$w } }
        @{ Case = '-Schedule Iterative -Layer 7'; ErrorId = 'LayerOutOfRange'
            Act = { param($m, $w) $m | Invoke-Pruning -Schedule Iterative -Ratio 0.5 -Layer 7 -WhatIf:$w } }
        @{ Case = '-MaxAccuracyDrop 2'; ErrorId = 'InvalidBudget'
            Act = { param($m, $w) $m | Invoke-Pruning -MaxAccuracyDrop 2 -WhatIf:$w } }
        @{ Case = '-MaxLossIncrease on a classifier'; ErrorId = 'BudgetDoesNotFit'
            Act = { param($m, $w) $m | Invoke-Pruning -MaxLossIncrease 0.1 -WhatIf:$w } }
    ) {
        $m = $Trained | Copy-Mlp
        $state = Get-ModelState $m
        $real = Get-ThrownError -Action $Act -ArgumentList $m, $false
        ($real.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly $ErrorId -Because 'the run itself fails'
        Assert-ModelUnchanged $m $state
        $whatIf = Get-ThrownError -Action $Act -ArgumentList $m, $true
        ($whatIf.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly $ErrorId -Because '-WhatIf should not promise a run that fails'
        Assert-ModelUnchanged $m $state
    }
}

Describe '-Structure NM -N -M' {
    It '-N 1 -M 4 keeps exactly one weight of every 4 consecutive weights of each row, the largest' {
        $m = $Trained | Copy-Mlp
        $before = Get-ModelSnapshot $m
        $null = $m | Invoke-Pruning -Structure NM -N 1 -M 4
        foreach ($l in $before.Layers) {
            $after = $m.GetWeight($l.Index)
            $l.In % 4 | Should -Be 0 -Because 'the test model has whole groups'
            for ($o = 0; $o -lt $l.Out; $o++) {
                for ($g = 0; $g -lt $l.In; $g += 4) {
                    $kept = @($g..($g + 3) | Where-Object { $after[$o, $_] -ne 0 })
                    if ($kept.Count -ne 1) { throw "layer $($l.Index) row $o group $g keeps $($kept.Count) weights" }
                    $largest = $g..($g + 3) | Sort-Object { [Math]::Abs($l.W[$o * $l.In + $_]) } -Descending | Select-Object -First 1
                    if ($kept[0] -ne $largest) { throw "layer $($l.Index) row $o group $g keeps $($kept[0]), not the largest $largest" }
                    if ($after[$o, $kept[0]] -ne $l.W[$o * $l.In + $kept[0]]) { throw 'a kept weight changed' }
                }
            }
            $m.Layers[$l.Index].Weights | Should -Be ($l.Out * $l.In / 4)
        }
        $m.History[-1].Settings.ToString() | Should -Match 'Pattern=1:4'
    }

    It '-N 1 -M 4 and -Pattern 1:4 give the same bits' {
        $a = $Trained | Copy-Mlp | Invoke-Pruning -Structure NM -N 1 -M 4
        $b = $Trained | Copy-Mlp | Invoke-Pruning -Structure NM -Pattern 1:4
        Get-ModelFingerprint $a | Should -BeExactly (Get-ModelFingerprint $b)
    }
}

Describe 'Schedules, scope and criteria' {
    It '-Schedule Iterative prunes to 1 - (1 - r)^(k/Steps) in round k and ends exactly at -Ratio' {
        $m = $Trained | Copy-Mlp
        $before = $m.History.Count
        $null = $m | Invoke-Pruning -Schedule Iterative -Ratio 0.8 -Steps 3
        $prunes = @($m.History | Select-Object -Skip $before)
        ($prunes | ForEach-Object Operation) -join ',' | Should -Be 'Prune,Prune,Prune'
        $n = Get-LayerWeightCount $Widths
        for ($k = 1; $k -le 3; $k++) {
            $ratio = Get-Ratio $prunes[$k - 1].Settings.ToString()
            $ratio | Should -BeGreaterThan (1 - [Math]::Pow(0.2, $k / 3) - 1e-6)
            $ratio | Should -BeLessThan (1 - [Math]::Pow(0.2, $k / 3) + 1e-6)
            $left = 0; foreach ($x in $n) { $left += $x - (Get-FloorCount $ratio $x) }
            $prunes[$k - 1].WeightsAfter | Should -Be $left
        }
        Get-Ratio $prunes[2].Settings.ToString() | Should -Be 0.8
        for ($l = 0; $l -lt $n.Count; $l++) { $m.Layers[$l].Weights | Should -Be ($n[$l] - (Get-FloorCount 0.8 $n[$l])) }
    }

    It '-Schedule LotteryTicket -RewindEpoch 0 leaves the survivors at their initial values' {
        $m = $Trained | Copy-Mlp
        $initial = Get-ModelSnapshot (New-Mlp -Layers $Widths -Seed 1)
        $before = $m.History.Count
        $null = $m | Invoke-Pruning -Schedule LotteryTicket -Ratio 0.8 -Steps 2
        (@($m.History | Select-Object -Skip $before) | ForEach-Object Operation) -join ',' | Should -Be 'Prune,Rewind,Prune,Rewind'
        $now = Get-ModelSnapshot $m
        foreach ($l in $now.Layers) {
            $init = $initial.Layers[$l.Index]
            $present = 0
            for ($i = 0; $i -lt $l.W.Length; $i++) {
                if ($l.W[$i] -ne 0) { $present++; if ($l.W[$i] -ne $init.W[$i]) { throw "layer $($l.Index) weight $i is not its initial value" } }
            }
            $present | Should -Be ($l.W.Length - (Get-FloorCount 0.8 $l.W.Length))
            ConvertTo-FloatHex $l.B | Should -BeExactly (ConvertTo-FloatHex $init.B) -Because 'biases are rewound too'
        }
    }

    It '-Scope Global -MaxLayerSparsity 0.92 deletes the globally smallest weights, no layer beyond its cap' {
        $m = $Trained | Copy-Mlp
        $snap = Get-ModelSnapshot $m
        $null = $m | Invoke-Pruning -Scope Global -Ratio 0.9 -MaxLayerSparsity 0.92
        $m.History[-1].Settings.ToString() | Should -Match 'MaxLayerSparsity=0\.92'
        # the greedy choice: walk all weights by |w|, take one unless its layer is at its cap
        $keys = [Collections.Generic.List[double]]::new(); $items = [Collections.Generic.List[int[]]]::new()
        foreach ($l in $snap.Layers) { for ($i = 0; $i -lt $l.W.Length; $i++) { $keys.Add([Math]::Abs($l.W[$i])); $items.Add([int[]]($l.Index, $i)) } }
        $k = $keys.ToArray(); $it = $items.ToArray()
        [Array]::Sort($k, $it)
        $total = Get-FloorCount 0.9 $k.Length
        $cap = @($snap.Layers | ForEach-Object { Get-FloorCount 0.92 $_.W.Length })
        $taken = [int[]]::new($snap.Layers.Count)
        $gone = @($snap.Layers | ForEach-Object { , [Collections.Generic.HashSet[int]]::new() })
        $count = 0
        foreach ($x in $it) {
            if ($count -ge $total) { break }
            if ($taken[$x[0]] -lt $cap[$x[0]]) { $taken[$x[0]]++; $null = $gone[$x[0]].Add($x[1]); $count++ }
        }
        foreach ($l in $snap.Layers) {
            $after = Get-FlatWeight $m $l.Index
            for ($i = 0; $i -lt $l.W.Length; $i++) {
                $shouldGo = $gone[$l.Index].Contains($i)
                if ($shouldGo -and $after[$i] -ne 0) { throw "layer $($l.Index) weight $i should be deleted" }
                if (-not $shouldGo -and $after[$i] -ne $l.W[$i]) { throw "layer $($l.Index) weight $i should be kept" }
            }
            $m.Layers[$l.Index].Weights | Should -Be ($l.W.Length - $taken[$l.Index])
            $taken[$l.Index] | Should -BeLessOrEqual $cap[$l.Index]
        }
    }

    It '-Criterion <Criterion> deletes first the weights of inputs that are 0 in every training row (L1 does not)' -ForEach @(
        @{ Criterion = 'Taylor' }, @{ Criterion = 'Fisher' }
    ) {
        $x = Get-DatasetArray $Digits TrainX
        $f = $Digits.Features; $rows = $Digits.TrainCount
        $zero = @(for ($k = 0; $k -lt $f; $k++) { $all = $true; for ($i = 0; $i -lt $rows; $i++) { if ($x[$i * $f + $k] -ne 0) { $all = $false; break } }; if ($all) { $k } })
        $zero.Count | Should -BeGreaterThan 0 -Because 'Digits has pixels that are blank in every image'
        $taylor = $Trained | Copy-Mlp | Invoke-Pruning -Ratio 0.5 -Criterion $Criterion -Layer 0
        $l1 = $Trained | Copy-Mlp | Invoke-Pruning -Ratio 0.5 -Layer 0
        $taylor.History[-1].Settings.ToString() | Should -Match "Criterion=$Criterion"
        $wt = $taylor.GetWeight(0); $wl = $l1.GetWeight(0)
        $leftTaylor = 0; $leftL1 = 0
        foreach ($k in $zero) { for ($o = 0; $o -lt $Widths[1]; $o++) { if ($wt[$o, $k] -ne 0) { $leftTaylor++ }; if ($wl[$o, $k] -ne 0) { $leftL1++ } } }
        $leftTaylor | Should -Be 0 -Because "their gradient is 0, so their $Criterion score is 0"
        $leftL1 | Should -BeGreaterThan 0 -Because 'their |w| is as random as any'
        $taylor.Layers[0].Weights | Should -Be ($Widths[0] * $Widths[1] - (Get-FloorCount 0.5 ($Widths[0] * $Widths[1])))
    }
}

Describe 'Progress of a schedule' {
    BeforeAll {
        function script:Invoke-WithProgress([scriptblock] $Script, $Model) {
            $shell = [powershell]::Create()
            try {
                $null = $shell.AddScript($Script).AddArgument($script:ModulePath).AddArgument($Model).AddArgument($Digits)
                $out = @($shell.Invoke())
                [pscustomobject]@{ Output = $out; Errors = @($shell.Streams.Error); Progress = @($shell.Streams.Progress) }
            }
            finally { $shell.Dispose() }
        }
        $script:Gradual = $Trained | Copy-Mlp
        $script:GradualRun = Invoke-WithProgress { param($Path, $Model, $Data)
            Import-Module $Path
            $Model | Invoke-Pruning -Schedule Gradual -Ratio 0.95 -Scope Global -Epochs 2 -UpdateEvery 5 -Seed 2 } $Gradual
        $script:Iterative = $Trained | Copy-Mlp
        $script:IterativeRun = Invoke-WithProgress { param($Path, $Model, $Data)
            Import-Module $Path
            $Model | Invoke-Pruning -Schedule Iterative -Ratio 0.7 -Steps 3 } $Iterative
    }

    It 'Gradual writes parent records and child training records under them, and completes both' {
        $GradualRun.Errors.Count | Should -Be 0 -Because ($GradualRun.Errors -join '; ')
        $GradualRun.Output.Count | Should -Be 1
        $parents = @($GradualRun.Progress | Where-Object { $_.ParentActivityId -lt 0 -and $_.Activity -match 'Gradual' })
        $parents.Count | Should -BeGreaterThan 0
        $parentId = $parents[0].ActivityId
        $children = @($GradualRun.Progress | Where-Object ParentActivityId -EQ $parentId)
        $children.Count | Should -BeGreaterThan 0
        $children[0].ActivityId | Should -Not -Be $parentId
        @($children | Where-Object { "$($_.RecordType)" -eq 'Processing' -and $_.StatusDescription -match 'Epoch [12]/2' }).Count | Should -BeGreaterThan 0
        @($children | Where-Object { "$($_.RecordType)" -eq 'Completed' }).Count | Should -Be 1
        @($parents | Where-Object { "$($_.RecordType)" -eq 'Completed' }).Count | Should -Be 1
        # the parent's status gives the ramp: floor(0.75 x steps) of Epochs x ceil(rows / 64) steps
        $steps = 2 * [Math]::Ceiling($Digits.TrainCount / 64)
        $ramp = [Math]::Floor(0.75 * $steps)
        ($parents | Where-Object { "$($_.RecordType)" -eq 'Processing' } | Select-Object -First 1).StatusDescription | Should -Match "over $ramp of $steps steps"
    }

    It 'Gradual -Scope Global ends at floor(0.95 x N) deleted, no layer beyond the default cap max(0.98, 1 - 0.05 / 4)' {
        $n = Get-LayerWeightCount $Widths
        $total = ($n | Measure-Object -Sum).Sum
        $cap = [Math]::Max(0.98, 1 - (1 - 0.95) / 4)
        $Gradual.History[-1].Operation | Should -Be 'GradualPrune'
        $Gradual.History[-1].Note | Should -Match ('MaxLayerSparsity=' + [regex]::Escape($cap.ToString([cultureinfo]::InvariantCulture)))
        $present = 0
        for ($l = 0; $l -lt $n.Count; $l++) {
            $w = $Gradual.Layers[$l].Weights
            $n[$l] - $w | Should -BeLessOrEqual (Get-FloorCount $cap $n[$l])
            $present += $w
        }
        $total - $present | Should -Be (Get-FloorCount 0.95 $total)
    }

    It 'Gradual -Regrow -Scope ERK ends with each layer''s masked weights deleted at its ERK target, and notes the weights it moved' {
        $m = $Trained | Copy-Mlp
        $m | Invoke-Pruning -Ratio 0.9 -Schedule Gradual -Regrow -Scope ERK -Epochs 2 -UpdateEvery 5 -BatchSize 32 -Dataset $Digits -Seed 4 | Out-Null
        $record = $m.History | Where-Object Operation -eq 'GradualPrune' | Select-Object -Last 1
        $record.Note | Should -Match 'masked at each update'
        [long]([regex]::Match($record.Note, '(\d+) weights moved').Groups[1].Value) | Should -BeGreaterThan 0
        # ERK by hand: density of a layer proportional to (in + out) / (in x out), scaled to the total kept.
        $n = Get-LayerWeightCount $Widths
        $total = ($n | Measure-Object -Sum).Sum
        $raw = for ($l = 0; $l -lt $n.Count; $l++) { ($Widths[$l] + $Widths[$l + 1]) / $n[$l] }
        $weighted = 0.0
        for ($l = 0; $l -lt $n.Count; $l++) { $weighted += $raw[$l] * $n[$l] }
        $scale = (1 - 0.9) * $total / $weighted
        for ($l = 0; $l -lt $n.Count; $l++) {
            $density = [Math]::Min(1.0, $scale * $raw[$l])
            $n[$l] - $m.Layers[$l].Weights | Should -Be (Get-FloorCount (1 - $density) $n[$l]) -Because "layer $l ends at its ERK target"
        }
    }

    It 'Iterative writes one parent status per round' {
        $IterativeRun.Errors.Count | Should -Be 0
        $status = @($IterativeRun.Progress | Where-Object { $_.ParentActivityId -lt 0 -and "$($_.RecordType)" -eq 'Processing' } | ForEach-Object StatusDescription)
        $status.Count | Should -Be 3
        for ($k = 1; $k -le 3; $k++) { $status[$k - 1] | Should -Match "^Round $k/3" }
        $status[2] | Should -Match 'pruning to 0\.7$'
    }
}

Describe '-LearningRateSchedule Cosine' {
    It 'starts at the full rate: a run of one optimizer step equals Constant bit for bit, longer runs differ' {
        $one = @{ Dataset = $Digits; Epochs = 1; BatchSize = 4096; Seed = 3; Optimizer = 'SGD'; LearningRate = 0.1 }
        $a = New-Mlp -Layers $Widths -Seed 2 | Invoke-Training @one
        $b = New-Mlp -Layers $Widths -Seed 2 | Invoke-Training @one -LearningRateSchedule Cosine
        Get-ModelFingerprint $b | Should -BeExactly (Get-ModelFingerprint $a)
        $b.History[-1].Settings.ToString() | Should -Match 'LearningRateSchedule=Cosine'
        $a.History[-1].Settings.ToString() | Should -Not -Match 'LearningRateSchedule'

        $more = @{ Dataset = $Digits; Epochs = 2; BatchSize = 256; Seed = 3 }
        $c = New-Mlp -Layers $Widths -Seed 2 | Invoke-Training @more
        $d = New-Mlp -Layers $Widths -Seed 2 | Invoke-Training @more -LearningRateSchedule Cosine
        Get-ModelFingerprint $d | Should -Not -Be (Get-ModelFingerprint $c)
    }

    It 'halves the rate half-way: step 2 of 2 of full-batch SGD takes lr x (1 + cos(pi/2)) / 2' {
        $lr = 0.1
        $cos = New-Mlp -Layers $Widths -Seed 2 | Invoke-Training -Dataset $Digits -Epochs 2 -BatchSize 4096 -Optimizer SGD -LearningRate $lr -LearningRateSchedule Cosine -Seed 3
        # the same two steps by hand: one at lr, then one at lr / 2 (a full batch: the shuffle only reorders a sum)
        $manual = New-Mlp -Layers $Widths -Seed 2 | Invoke-Training -Dataset $Digits -Epochs 1 -BatchSize 4096 -Optimizer SGD -LearningRate $lr -Seed 3 |
            Invoke-Training -Epochs 1 -BatchSize 4096 -Optimizer SGD -LearningRate ($lr * (1 + [Math]::Cos([Math]::PI / 2)) / 2) -Seed 3
        $constant = New-Mlp -Layers $Widths -Seed 2 | Invoke-Training -Dataset $Digits -Epochs 2 -BatchSize 4096 -Optimizer SGD -LearningRate $lr -Seed 3
        $worst = 0.0; $apart = 0.0
        for ($l = 0; $l -lt $Widths.Count - 1; $l++) {
            $x = Get-FlatWeight $cos $l; $y = Get-FlatWeight $manual $l; $z = Get-FlatWeight $constant $l
            for ($i = 0; $i -lt $x.Length; $i++) { $worst = [Math]::Max($worst, [Math]::Abs($x[$i] - $y[$i])); $apart = [Math]::Max($apart, [Math]::Abs($x[$i] - $z[$i])) }
        }
        $worst | Should -BeLessThan 1e-5
        $apart | Should -BeGreaterThan (100 * $worst) -Because 'a constant rate would have taken a full second step'
    }

    It 'Invoke-Pruning -LearningRateSchedule Cosine -BatchSize 32 shapes its fine-tuning' {
        $m = $Trained | Copy-Mlp | Invoke-Pruning -Ratio 0.5 -FineTuneEpochs 1 -LearningRateSchedule Cosine -BatchSize 32 -Seed 1
        $m.History[-1].Operation | Should -Be 'FineTune'
        $m.History[-1].Settings.ToString() | Should -Match 'BatchSize=32'
        $m.History[-1].Settings.ToString() | Should -Match 'LearningRateSchedule=Cosine'
    }
}
