# Invoke-Pruning -MaxAccuracyDrop judged by what its validation split can resolve: the warning
# when the split is too small for the budget, -Confidence, and what the PruneBudget record says.
# Row counts, the rows needed and the warnings follow from the data set's size alone (Digits: 1438
# training rows; Iris: 120); nothing here depends on how well a model trained, only on the
# search's own arithmetic, recomputed from what the record reports.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Digits = Get-Dataset Digits
    $script:Iris = Get-Dataset Iris
    $script:Invariant = [Globalization.CultureInfo]::InvariantCulture
    $script:Trained = New-Mlp -Layers 64, 24, 10 -Seed 1 | Invoke-Training -Dataset $Digits -Epochs 2 -Seed 1

    # The tries of a Global search's note: "<ratio> -> <metric> (drop d, lost l, gained g, bound b, within|over)".
    function script:Get-Tries([string] $Note) {
        if ($Note -notmatch '; tried (.+); chose ') { throw "no tries in '$Note'" }
        @($Matches[1] -split ', (?=[0-9.]+ -> )' | ForEach-Object {
                if ($_ -notmatch '^([0-9.]+) -> ([0-9.]+) \(drop (-?[0-9.]+), lost (\d+), gained (\d+), bound (-?[0-9.]+), (within|over)\)$') { throw "unreadable try '$_'" }
                [pscustomobject]@{
                    Ratio = [double]::Parse($Matches[1], $Invariant); Drop = [double]::Parse($Matches[3], $Invariant)
                    Lost = [int]$Matches[4]; Gained = [int]$Matches[5]; Bound = [double]::Parse($Matches[6], $Invariant); Within = $Matches[7] -eq 'within'
                }
            })
    }
}

Describe 'The warning when the validation split is too small for the budget' {
    It 'warns for 143 rows and a one-point budget, and says what to do' {
        $m = $Trained | Copy-Mlp
        $null = $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -ValidationFraction 0.1 -Scope Global -Seed 2 -WarningVariable w -WarningAction SilentlyContinue
        $w.Count | Should -Be 1
        $text = "$($w[0])"
        # floor(0.1 x 1438) = 143 rows; 540 are needed at 95 % (1 + 1.645^2 x 0.995 / 0.005, rounded up)
        $text | Should -Match 'The validation split has 143 rows'
        $text | Should -Match 'one row is 0\.007 of accuracy'
        $text | Should -Match 'needs at least 540 rows'
        $text | Should -Match '-ValidationFraction 0\.38 or more \(540 of the 1438 training rows\)'
        $text | Should -Match 'a budget of at least 0\.0374'
        $m.History[-1].Note | Should -Match 'too few rows for the budget: it needs 540'
    }

    It 'asks for more data when no fraction of the training split would do (Iris: 60 of 120 rows)' {
        $m = New-Mlp -Layers 4, 8, 3 -Seed 1 | Invoke-Training -Dataset $Iris -Epochs 2 -Seed 1
        $null = $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Seed 2 -WarningVariable w -WarningAction SilentlyContinue
        $w.Count | Should -Be 1
        "$($w[0])" | Should -Match 'has 60 rows' -Because 'without training the search holds out half the training rows'
        "$($w[0])" | Should -Match 'more data \(about 540 validation rows; the training split has 120\)'
    }

    It 'at -Confidence 0.5 still warns when one row is worth more than half the budget (200 rows for one point)' {
        $m = $Trained | Copy-Mlp
        $null = $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Confidence 0.5 -ValidationFraction 0.1 -Scope Global -Seed 2 -WarningVariable w -WarningAction SilentlyContinue
        $w.Count | Should -Be 1
        "$($w[0])" | Should -Match 'needs at least 200 rows'
        "$($w[0])" | Should -Match 'may be off by more than the budget'
    }

    It 'does not warn when the split is ample: 719 rows for a five-point budget (107 needed)' {
        $m = $Trained | Copy-Mlp
        $null = $m | Invoke-Pruning -MaxAccuracyDrop 0.05 -ValidationFraction 0.5 -Scope Global -Seed 2 -WarningVariable w -WarningAction SilentlyContinue
        $w.Count | Should -Be 0
        $m.History[-1].Note | Should -Not -Match 'too few rows'
    }

    It 'holds out half the training rows by default when nothing trains (719 rows: enough for two points)' {
        $m = $Trained | Copy-Mlp
        $null = $m | Invoke-Pruning -MaxAccuracyDrop 0.02 -Scope Global -Seed 2 -WarningVariable w -WarningAction SilentlyContinue
        $w.Count | Should -Be 0
        $m.History[-1].Settings.ValidationFraction | Should -Be 0.5
        $m.History[-1].Settings.ValidationRows | Should -Be 719
    }

    It 'holds out a tenth by default when the schedule trains (the rest fine-tunes), and warns for one point' {
        $m = $Trained | Copy-Mlp
        $null = $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Scope Global -FineTuneEpochs 1 -Seed 2 -WarningVariable w -WarningAction SilentlyContinue
        $m.History[-1].Settings.ValidationFraction | Should -Be 0.1
        $m.History[-1].Settings.ValidationRows | Should -Be 143
        $w.Count | Should -Be 1
        # a schedule that trains gives up at most half its rows: 540 of 1438 is a fraction of 0.38
        "$($w[0])" | Should -Match '-ValidationFraction 0\.38 or more'
    }

    It 'does not warn with the rows needed: 575 rows for a one-point budget (540 needed)' {
        $m = $Trained | Copy-Mlp
        $null = $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -ValidationFraction 0.4 -Scope Global -Seed 2 -WarningVariable w -WarningAction SilentlyContinue
        $w.Count | Should -Be 0
    }
}

Describe 'What the PruneBudget record says the split could resolve' {
    BeforeAll {
        $script:Model = $Trained | Copy-Mlp
        $null = $Model | Invoke-Pruning -MaxAccuracyDrop 0.03 -ValidationFraction 0.3 -Scope Global -Seed 4 -WarningAction SilentlyContinue
        $script:Last = $Model.History[-1]
        $script:Tries = Get-Tries $Last.Note
    }

    It 'names the rows and the confidence among its parameters' {
        $Last.Operation | Should -Be 'PruneBudget'
        $Last.Settings.ValidationFraction | Should -Be 0.3
        $Last.Settings.ValidationRows | Should -Be 431 -Because 'floor(0.3 x 1438)'
        $Last.Settings.Confidence | Should -Be 0.95 -Because 'the default'
    }

    It 'gives the smallest drop the split can certify: one row lost, none gained' {
        # 1/431 + 1.6448536 x sqrt((1 - 1/431) / 430 / 431)
        $n = 431
        $expected = 1 / $n + 1.6448536269514715 * [Math]::Sqrt((1 - 1 / $n) / ($n - 1) / $n)
        $Last.Note | Should -Match ('on 431 rows; judged by a 0\.95 one-sided paired bound on the drop, smallest drop it can certify ' + [regex]::Escape($expected.ToString('0.####', $Invariant)) + ';')
    }

    It 'judges every try by its bound: the drop is (lost - gained) / rows, the bound lies above it, within means the bound is' {
        $Tries.Count | Should -BeGreaterThan 0
        foreach ($t in $Tries) {
            $t.Drop | Should -Be ([Math]::Round(($t.Lost - $t.Gained) / 431, 4, [MidpointRounding]::AwayFromZero))
            # the bound recomputed from the counts (sample variance, at least one changed row)
            $mean = ($t.Lost - $t.Gained) / 431
            $variance = ([Math]::Max($t.Lost + $t.Gained, 1) - 431 * $mean * $mean) / 430
            $bound = $mean + 1.6448536269514715 * [Math]::Sqrt([Math]::Max($variance, 0) / 431)
            $t.Bound | Should -Be ([Math]::Round($bound, 4, [MidpointRounding]::AwayFromZero)) -Because "try at $($t.Ratio)"
            $t.Within | Should -Be ($bound -le 0.03)
        }
    }

    It '-Confidence 0.5 judges the measured drop alone: every bound is its drop' {
        $m = $Trained | Copy-Mlp
        $null = $m | Invoke-Pruning -MaxAccuracyDrop 0.03 -ValidationFraction 0.3 -Confidence 0.5 -Scope Global -Seed 4 -WarningAction SilentlyContinue
        $m.History[-1].Settings.Confidence | Should -Be 0.5
        $m.History[-1].Note | Should -Match 'judged by the measured drop alone \(Confidence=0\.5\)'
        $tries = Get-Tries $m.History[-1].Note
        foreach ($t in $tries) {
            $t.Bound | Should -Be $t.Drop
            $t.Within | Should -Be ($t.Drop -le 0.03 + 1e-9)
        }
        # The same first try either way (the top of the range): only the judgement differs.
        $tries[0].Ratio | Should -Be $Tries[0].Ratio
        $tries[0].Drop | Should -Be $Tries[0].Drop
    }
}

Describe '-Confidence errors: terminating, with the right ErrorId, the model unchanged' {
    It '<Case>: <ErrorId>' -ForEach @(
        @{ Case = '-Confidence 0.3'; ErrorId = 'InvalidConfidence'; Hint = '0.5'
            Act = { param($m) $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Confidence 0.3 -ErrorAction SilentlyContinue } }
        @{ Case = '-Confidence 1'; ErrorId = 'InvalidConfidence'; Hint = '0.9999'
            Act = { param($m) $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Confidence 1 -ErrorAction SilentlyContinue } }
        @{ Case = '-Confidence 1 -WhatIf'; ErrorId = 'InvalidConfidence'; Hint = '0.9999'
            Act = { param($m) $m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Confidence 1 -WhatIf -ErrorAction SilentlyContinue } }
        @{ Case = '-Confidence without a budget'; ErrorId = 'ParameterNotApplicable'; Hint = '-MaxAccuracyDrop'
            Act = { param($m) $m | Invoke-Pruning -Ratio 0.5 -Confidence 0.9 -ErrorAction SilentlyContinue } }
    ) {
        $m = $Trained | Copy-Mlp
        $print = Get-ModelFingerprint $m
        $count = $m.History.Count
        $ErrorActionPreference = 'Continue'
        $err = Get-ThrownError -Action $Act -ArgumentList $m
        $err | Should -Not -BeNullOrEmpty -Because "$Case must stop with a terminating error"
        $err.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        "$($err.CategoryInfo.Category)" | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike "*$Hint*"
        Get-ModelFingerprint $m | Should -BeExactly $print
        $m.History.Count | Should -Be $count
    }

    It 'the What-if text names the confidence' {
        $m = $Trained | Copy-Mlp
        $r = Invoke-InFreshPwsh @'
$d = Get-Dataset Digits
$m = New-Mlp -Layers 64,16,10 -Seed 1 | Invoke-Training -Dataset $d -Epochs 1 -Seed 1
$m | Invoke-Pruning -MaxAccuracyDrop 0.01 -Confidence 0.9 -WhatIf
'@
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        ($r.Output -join "`n") | Should -Match 'What if:.*accuracy drops at most 0\.01 with 0\.9 confidence'
    }
}
