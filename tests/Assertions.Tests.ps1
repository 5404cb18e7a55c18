# The Pester assertions (Module/SparsePrune.Assertions.psm1): Should-HaveSparsity,
# Should-HaveAccuracy (also -Within -Of another model), Should-BeSmallerThan and
# Should-HaveCompressionRatio under this run's Pester 6 directly; under Pester 5.7.1 and 6.2.0
# in fresh processes: AssertionsPesterVersions.Tests.ps1. Expected values are recomputed from the
# model (GetWeight, Measure-Mlp, the report's counts), not copied from a run.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Invariant = [Globalization.CultureInfo]::InvariantCulture

    $script:Digits = Get-Dataset Digits
    $script:Synthetic = Get-Dataset Synthetic -Seed 1
    # 90 % of the weights masked, nothing deleted.
    $script:Masked = New-Mlp 64, 32, 10 -Seed 1 -Name 'masked-64-32-10' | Set-Sparsity -Sparsity 0.9 -WarningAction Ignore
    # 90 % of the connections deleted, nothing masked.
    $script:Pruned = New-Mlp 64, 128, 10 -Seed 1 -Name 'pruned-64-128-10' | Invoke-Pruning -Ratio 0.9 -WarningAction Ignore
    $script:Classifier = New-Mlp 64, 32, 10 -Seed 2 -Name 'digits-64-32-10' | Invoke-Training -Dataset $Digits -Epochs 3
    $script:Regressor = New-Mlp 10, 16, 1 -Seed 1 -Name 'synthetic-10-16-1' | Invoke-Training -Dataset $Synthetic -Epochs 3
}

Describe 'Should-HaveSparsity' {
    BeforeAll {
        $script:MaskedSparsity = Get-HandSparsity $Masked @(64, 32, 10)
        $script:PrunedSparsity = Get-HandSparsity $Pruned @(64, 128, 10)
    }

    It 'passes on the model''s own sparsity, piped, as -Actual and as its report' {
        [Math]::Abs($MaskedSparsity - 0.9) | Should -BeLessThan 0.005 -Because 'Set-Sparsity 0.9 masks floor(0.9 N) weights'
        $Masked | Should-HaveSparsity $MaskedSparsity -Tolerance 0
        Should-HaveSparsity $MaskedSparsity -Actual $Masked -Tolerance 0
        $Masked | Get-CompressionReport | Should-HaveSparsity 0.9
    }

    It 'counts deleted connections as well as masked weights' {
        $Pruned | Should-HaveSparsity $PrunedSparsity -Tolerance 0
        $Pruned | Should-HaveSparsity 0.9
        ($Pruned | Get-CompressionReport).Sparsity | Should -BeLessThan 0.01 -Because 'Sparsity counts only the weights still present, which is why the assertion reads OverallSparsity'
    }

    It 'fails outside -Tolerance (0.005 unless given), saying what it found, expected, the difference and why' {
        $Masked | Should-HaveSparsity ($MaskedSparsity + 0.004)
        $e = Get-ThrownError { $Masked | Should-HaveSparsity ($MaskedSparsity + 0.004) -Tolerance 0.001 -Because 'the target is exact' }
        $e | Should -Not -BeNullOrEmpty
        "$e" | Should -Be "Expected model 'masked-64-32-10' to have overall sparsity $(Format-Value ($MaskedSparsity + 0.004)) ± 0.001 because the target is exact, but it has $(Format-Value $MaskedSparsity): 0.004 below."
        $e = Get-ThrownError { $Masked | Should-HaveSparsity 0.5 }
        "$e" | Should -Be "Expected model 'masked-64-32-10' to have overall sparsity 0.5 ± 0.005, but it has $(Format-Value $MaskedSparsity): $(Format-Value ($MaskedSparsity - 0.5)) above."
    }

    It '-AtLeast passes at or above the value and fails below it, by less than 0.005 too' {
        $Masked | Should-HaveSparsity 0.5 -AtLeast
        $Masked | Should-HaveSparsity $MaskedSparsity -AtLeast
        Get-ThrownError { $Masked | Should-HaveSparsity ($MaskedSparsity + 0.004) -AtLeast } | Should -Not -BeNullOrEmpty -Because 'a one-sided check has no default tolerance'
        $e = Get-ThrownError { $Masked | Should-HaveSparsity 0.95 -AtLeast -Because 'it must fit the device' }
        "$e" | Should -Be "Expected model 'masked-64-32-10' to have overall sparsity at least 0.95 because it must fit the device, but it has $(Format-Value $MaskedSparsity): $(Format-Value (0.95 - $MaskedSparsity)) below."
    }

    It '-AtLeast at the value Set-Sparsity was given explains the floor rounding when that is all that is missing' {
        $MaskedSparsity | Should -BeLessThan 0.9 -Because 'Set-Sparsity 0.9 masks floor(0.9 N) weights per layer'
        $e = Get-ThrownError { $Masked | Should-HaveSparsity 0.9 -AtLeast }
        "$e" | Should -BeLike "*: $(Format-Value (0.9 - $MaskedSparsity)) below. That is less than one weight per layer: * floor(fraction x weights) *Check it two-sided*"
        "$(Get-ThrownError { $Masked | Should-HaveSparsity 0.95 -AtLeast })" | Should -Not -BeLike '*floor*' -Because 'a shortfall of many weights is not rounding'
        $Masked | Should-HaveSparsity 0.9
    }

    It '-AtMost passes at or below the value and fails above it, by less than 0.005 too' {
        $Masked | Should-HaveSparsity 0.95 -AtMost
        $Masked | Should-HaveSparsity $MaskedSparsity -AtMost
        Get-ThrownError { $Masked | Should-HaveSparsity ($MaskedSparsity - 0.004) -AtMost } | Should -Not -BeNullOrEmpty -Because 'a one-sided check has no default tolerance'
        $e = Get-ThrownError { $Masked | Should-HaveSparsity 0.5 -AtMost -Because 'half the weights must stay' }
        "$e" | Should -Be "Expected model 'masked-64-32-10' to have overall sparsity at most 0.5 because half the weights must stay, but it has $(Format-Value $MaskedSparsity): $(Format-Value ($MaskedSparsity - 0.5)) above."
    }

    It 'fails as Pester''s own assertions do: PesterAssertionFailed, at the assertion''s line' {
        $e = Get-ThrownError { $Masked | Should-HaveSparsity 0.5 }; $line = (Get-PSCallStack)[0].ScriptLineNumber
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        $e.CategoryInfo.Category | Should -Be 'InvalidResult'
        $e.TargetObject.Message | Should -Be "$e"
        $e.TargetObject.File | Should -Be $PSCommandPath
        $e.TargetObject.Line | Should -Be "$line"
        $e.TargetObject.LineText | Should -BeLike '*Should-HaveSparsity 0.5*'
    }

    It 'asserts every model piped in, and names the one that fails' {
        $e = Get-ThrownError { $Pruned, $Classifier | Should-HaveSparsity 0.9 }
        "$e" | Should -BeLike "Expected model 'digits-64-32-10' *, but it has 0: 0.9 below."
    }
}

Describe 'Should-HaveSparsity -AtLeast and -AtMost compare exactly' {
    BeforeAll {
        # One layer of 10 x 100: 1000 weights, so Set-Sparsity s zeroes exactly s x 1000 of them.
        function script:New-ExactModel([double] $Sparsity) {
            New-Mlp 10, 100 -Seed 1 -Name "exact-$($Sparsity.ToString($Invariant))" | Set-Sparsity -Sparsity $Sparsity -WarningAction Ignore
        }
        $script:At896 = New-ExactModel 0.896
        $script:At904 = New-ExactModel 0.904
    }

    It '-AtLeast 0.9 fails at 0.896 (896 of 1000 weights zero), by 0.004, where the two-sided form passes' {
        ($At896 | Get-CompressionReport).NonZeroWeights | Should -Be 104
        $e = Get-ThrownError { $At896 | Should-HaveSparsity 0.9 -AtLeast -Because 'the target is 90 %' }
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        "$e" | Should -Be "Expected model 'exact-0.896' to have overall sparsity at least 0.9 because the target is 90 %, but it has 0.896: 0.004 below."
        $At896 | Should-HaveSparsity 0.9
        $At896 | Should-HaveSparsity 0.896 -AtLeast
    }

    It '-AtMost 0.9 fails at 0.904, by 0.004, where the two-sided form passes' {
        ($At904 | Get-CompressionReport).NonZeroWeights | Should -Be 96
        $e = Get-ThrownError { $At904 | Should-HaveSparsity 0.9 -AtMost }
        "$e" | Should -Be "Expected model 'exact-0.904' to have overall sparsity at most 0.9, but it has 0.904: 0.004 above."
        $At904 | Should-HaveSparsity 0.9
        $At904 | Should-HaveSparsity 0.904 -AtMost
    }

    It 'an explicit -Tolerance widens a one-sided check by that much and no more' {
        $At896 | Should-HaveSparsity 0.9 -AtLeast -Tolerance 0.005
        $At896 | Should-HaveSparsity 0.9 -AtLeast -Tolerance 0.004
        $e = Get-ThrownError { $At896 | Should-HaveSparsity 0.9 -AtLeast -Tolerance 0.003 }
        "$e" | Should -Be "Expected model 'exact-0.896' to have overall sparsity at least 0.9 (tolerance 0.003), but it has 0.896: 0.004 below."
        $At904 | Should-HaveSparsity 0.9 -AtMost -Tolerance 0.004
        $e = Get-ThrownError { $At904 | Should-HaveSparsity 0.9 -AtMost -Tolerance 0.003 }
        "$e" | Should -Be "Expected model 'exact-0.904' to have overall sparsity at most 0.9 (tolerance 0.003), but it has 0.904: 0.004 above."
        # And the two-sided default is only a default.
        Get-ThrownError { $At896 | Should-HaveSparsity 0.9 -Tolerance 0.003 } | Should -Not -BeNullOrEmpty
    }

    It 'a sparsity of exactly <_> of 1000 weights passes -AtLeast <_> and -AtMost <_>, and one weight either way fails' -ForEach @(0.1, 0.3, 0.9) {
        $model = New-ExactModel $_
        $zeros = [int][Math]::Round($_ * 1000)
        ($model | Get-CompressionReport).NonZeroWeights | Should -Be (1000 - $zeros)
        $model | Should-HaveSparsity $_ -AtLeast
        $model | Should-HaveSparsity $_ -AtMost
        $model | Should-HaveSparsity $_ -Tolerance 0
        Get-ThrownError { $model | Should-HaveSparsity (($zeros + 1) / 1000) -AtLeast } | Should -Not -BeNullOrEmpty
        Get-ThrownError { $model | Should-HaveSparsity (($zeros - 1) / 1000) -AtMost } | Should -Not -BeNullOrEmpty
    }

    It 'those cases are where 1 - NonZero/Baseline in floating point misses the decimal value' {
        # Without exact counting, -AtLeast 0.1 would fail at 0.1 and -AtMost 0.3 at 0.3.
        (New-ExactModel 0.1 | Get-CompressionReport).OverallSparsity | Should -BeLessThan 0.1
        (New-ExactModel 0.3 | Get-CompressionReport).OverallSparsity | Should -BeGreaterThan 0.3
    }
}

Describe 'Should-HaveAccuracy' {
    BeforeAll {
        $script:Accuracy = (Measure-Mlp $Classifier -Dataset $Digits -Repeat 1).Accuracy
        $script:Loss = (Measure-Mlp $Regressor -Dataset $Synthetic -Repeat 1).Loss
    }

    It 'passes at the accuracy on -On''s test split and fails above it' {
        $Accuracy | Should -BeGreaterThan 0.5 -Because 'three epochs on Digits learn something'
        $Accuracy | Should -BeLessThan 0.99 -Because 'the failing case needs room above it'
        $Classifier | Should-HaveAccuracy $Accuracy -On $Digits
        Should-HaveAccuracy 0.5 -On $Digits -Actual $Classifier
        $e = Get-ThrownError { $Classifier | Should-HaveAccuracy ($Accuracy + 0.01) -On $Digits -Because 'pruning must not cost the model its use' }
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        "$e" | Should -Be "Expected model 'digits-64-32-10' to have accuracy at least $(Format-Value ($Accuracy + 0.01)) on 'Digits' because pruning must not cost the model its use, but it has $(Format-Value $Accuracy): 0.01 below."
    }

    It 'measures on the model''s own data set without -On, and takes a report' {
        $Classifier | Should-HaveAccuracy $Accuracy
        $Classifier | Get-CompressionReport | Should-HaveAccuracy $Accuracy
        Get-ThrownError { $Classifier | Get-CompressionReport | Should-HaveAccuracy ($Accuracy + 0.01) } | Should -Not -BeNullOrEmpty
    }

    It '-Loss passes at or below a regression''s loss and fails above it' {
        $Regressor | Should-HaveAccuracy -Loss $Loss -On $Synthetic
        $Regressor | Should-HaveAccuracy -Loss ($Loss * 2)
        $e = Get-ThrownError { $Regressor | Should-HaveAccuracy -Loss ($Loss / 2) -On $Synthetic -Because 'the forecast must be close' }
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        "$e" | Should -Be "Expected model 'synthetic-10-16-1' to have loss at most $(Format-Value ($Loss / 2)) on 'Synthetic' because the forecast must be close, but it has $(Format-Value $Loss): $(Format-Value ($Loss / 2)) above."
    }

    It 'says which metric fits when -Loss is given to a classifier or left out for a regression' {
        $e = Get-ThrownError { $Classifier | Should-HaveAccuracy -Loss 1 }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.WrongMetric'
        "$e" | Should -BeLike '*leave -Loss out*'
        $e = Get-ThrownError { $Regressor | Should-HaveAccuracy 0.5 }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.WrongMetric'
        "$e" | Should -BeLike '*add -Loss*'
    }

    It 'asks for -On when the model has no data set, and refuses a report with -On' {
        $e = Get-ThrownError { New-Mlp 4, 3 -Seed 1 -Name 'untrained' | Should-HaveAccuracy 0.5 }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.NoMetric'
        "$e" | Should -BeLike "*'untrained'*-On*"
        $e = Get-ThrownError { $Classifier | Get-CompressionReport | Should-HaveAccuracy 0.5 -On $Digits }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.ReportWithDataset'
        $e = Get-ThrownError { $Classifier | Should-HaveAccuracy 0.5 -On 'Digits' }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.NotADataset'
    }
}

Describe 'Should-HaveAccuracy -Within -Of another model' {
    BeforeAll {
        # A copy of the classifier with 70 % of its connections cut and no fine-tuning: it keeps
        # the classifier's data set and loses accuracy on it.
        $script:Cut = $Classifier | Copy-Mlp -Name 'digits-cut' | Invoke-Pruning -Ratio 0.7 -WarningAction Ignore
        $script:DenseAccuracy = (Measure-Mlp $Classifier -Dataset $Digits -Repeat 1).Accuracy
        $script:CutAccuracy = (Measure-Mlp $Cut -Dataset $Digits -Repeat 1).Accuracy
        $script:Drop = $DenseAccuracy - $CutAccuracy
        $script:RegressorCut = $Regressor | Copy-Mlp -Name 'synthetic-cut' | Invoke-Pruning -Ratio 0.9 -WarningAction Ignore
        $script:DenseLoss = (Measure-Mlp $Regressor -Dataset $Synthetic -Repeat 1).Loss
        $script:CutLoss = (Measure-Mlp $RegressorCut -Dataset $Synthetic -Repeat 1).Loss
        $script:Rise = ($CutLoss - $DenseLoss) / $DenseLoss
    }

    It 'the cut copies really do worse, on the data set they share with their dense models' {
        $Drop | Should -BeGreaterThan 0.05
        $Rise | Should -BeGreaterThan 0.02
        [object]::ReferenceEquals($Cut.Dataset, $Classifier.Dataset) | Should -BeTrue
        [object]::ReferenceEquals($RegressorCut.Dataset, $Regressor.Dataset) | Should -BeTrue
    }

    It 'passes while the accuracy lost is at most -Within, the measured drop itself included' {
        $Cut | Should-HaveAccuracy -Within $Drop -Of $Classifier
        $Cut | Should-HaveAccuracy -Within ($Drop + 0.01) -Of $Classifier -On $Digits
        Should-HaveAccuracy -Within $Drop -Of $Classifier -Actual $Cut
        Get-ThrownError { $Cut | Should-HaveAccuracy -Within ($Drop - 0.001) -Of $Classifier } | Should -Not -BeNullOrEmpty
    }

    It 'fails beyond -Within, giving both accuracies and the difference' {
        $e = Get-ThrownError { $Cut | Should-HaveAccuracy -Within 0.01 -Of $Classifier -Because 'pruning may cost one point' }
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        "$e" | Should -Be "Expected model 'digits-cut' to have accuracy within 0.01 of model 'digits-64-32-10' ($(Format-Value $DenseAccuracy)) on 'Digits' because pruning may cost one point, but it has $(Format-Value $CutAccuracy): $(Format-Value $Drop) below."
    }

    It 'passes a model that does better than the reference, and one equal to it with -Within 0' {
        $Classifier | Should-HaveAccuracy -Within 0 -Of $Cut
        $Cut | Should-HaveAccuracy -Within 0 -Of $Cut
        $e = Get-ThrownError { $Cut | Should-HaveAccuracy -Within 0 -Of $Classifier }
        "$e" | Should -BeLike "*, but it has $(Format-Value $CutAccuracy): $(Format-Value $Drop) below."
    }

    It 'measures both models on -On when given' {
        $other = Get-Dataset Digits -Seed 7
        $denseOnOther = (Measure-Mlp $Classifier -Dataset $other -Repeat 1).Accuracy
        $cutOnOther = (Measure-Mlp $Cut -Dataset $other -Repeat 1).Accuracy
        $denseOnOther | Should -BeGreaterThan $cutOnOther
        $Cut | Should-HaveAccuracy -Within ($denseOnOther - $cutOnOther) -Of $Classifier -On $other
        $e = Get-ThrownError { $Cut | Should-HaveAccuracy -Within 0 -Of $Classifier -On $other }
        "$e" | Should -Be "Expected model 'digits-cut' to have accuracy within 0 of model 'digits-64-32-10' ($(Format-Value $denseOnOther)) on 'Digits', but it has $(Format-Value $cutOnOther): $(Format-Value ($denseOnOther - $cutOnOther)) below."
    }

    It 'needs -On when the reference has no data set or another one, and then measures both on it' {
        $untrained = New-Mlp 64, 32, 10 -Seed 3 -Name 'untrained-64-32-10'
        $e = Get-ThrownError { $Cut | Should-HaveAccuracy -Within 0.01 -Of $untrained }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.NoReferenceDataset'
        "$e" | Should -BeLike "*'untrained-64-32-10'*no data set*Give -On*"
        $chance = (Measure-Mlp $untrained -Dataset $Digits -Repeat 1).Accuracy
        $CutAccuracy | Should -BeGreaterThan $chance
        $Cut | Should-HaveAccuracy -Within 0 -Of $untrained -On $Digits

        # Another load of Digits: the same name, but nothing proves the same rows.
        $retrained = $Classifier | Copy-Mlp -Name 'retrained' | Invoke-Training -Dataset (Get-Dataset Digits) -Epochs 1
        $e = Get-ThrownError { $Cut | Should-HaveAccuracy -Within 1 -Of $retrained }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.DifferentDatasets'
        "$e" | Should -BeLike "*'digits-cut'*'retrained'*different data sets*Give -On*"
        $Cut | Should-HaveAccuracy -Within 1 -Of $retrained -On $Digits
    }

    It '-Loss: -Within is the share by which a regression''s loss may rise above the reference''s' {
        $RegressorCut | Should-HaveAccuracy -Loss -Within $Rise -Of $Regressor
        $RegressorCut | Should-HaveAccuracy -Loss -Within ($Rise * 2) -Of $Regressor -On $Synthetic
        $Regressor | Should-HaveAccuracy -Loss -Within 0 -Of $RegressorCut
        Get-ThrownError { $RegressorCut | Should-HaveAccuracy -Loss -Within ($Rise * 0.99) -Of $Regressor } | Should -Not -BeNullOrEmpty
        $e = Get-ThrownError { $RegressorCut | Should-HaveAccuracy -Loss -Within 0.01 -Of $Regressor -Because 'the forecast must hold' }
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        "$e" | Should -Be ("Expected model 'synthetic-cut' to have loss within 1 % of model 'synthetic-10-16-1' ($(Format-Value $DenseLoss), so at most $(Format-Value ($DenseLoss * (1 + 0.01)))) on 'Synthetic' " +
            "because the forecast must hold, but it has $(Format-Value $CutLoss): $(Format-Value ($CutLoss - $DenseLoss)) above ($((100 * $Rise).ToString('0.##', $Invariant)) %).")
    }

    It 'says which metric fits when -Loss is given to a classifier or left out for a regression' {
        (Get-ThrownError { $Cut | Should-HaveAccuracy -Loss -Within 0.1 -Of $Classifier }).FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.WrongMetric'
        (Get-ThrownError { $RegressorCut | Should-HaveAccuracy -Within 0.1 -Of $Regressor }).FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.WrongMetric'
    }
}

Describe 'Bad input to Should-HaveAccuracy -Within -Of' {
    BeforeAll { $script:Copy = $Classifier | Copy-Mlp -Name 'digits-copy' }

    It 'refuses a negative, an out-of-range or a non-numeric -Within' {
        foreach ($bad in @(-0.01, 1.5, 'much', $null)) {
            $e = Get-ThrownError { param($w) $Copy | Should-HaveAccuracy -Within $w -Of $Classifier } -ArgumentList @(, $bad)
            $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.BadBound' -Because "'$bad' is no -Within"
            "$e" | Should -BeLike 'Should-HaveAccuracy needs *-Within (the accuracy the model may lose*'
        }
        # A loss may rise by more than 100 %, but not fall by a negative share.
        $Regressor | Should-HaveAccuracy -Loss -Within 1.5 -Of $Regressor
        (Get-ThrownError { $Regressor | Should-HaveAccuracy -Loss -Within -0.1 -Of $Regressor }).FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.BadBound'
    }

    It 'refuses a <_> as -Of' -ForEach @('string', 'null', 'report', 'data set') {
        $value = switch ($_) { 'string' { 'digits-64-32-10' } 'null' { $null } 'report' { $Classifier | Get-CompressionReport } 'data set' { $Digits } }
        $e = Get-ThrownError { param($v) $Copy | Should-HaveAccuracy -Within 0.01 -Of $v } -ArgumentList @(, $value)
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.ReferenceNotAModel'
        "$e" | Should -BeLike 'Should-HaveAccuracy -Of takes the model to compare with (a SparsePrune.Mlp*), but got *'
    }

    It 'refuses an -Of of another task, input or output count' {
        $e = Get-ThrownError { $Copy | Should-HaveAccuracy -Within 0.01 -Of $Regressor }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.ReferenceMismatch'
        "$e" | Should -BeLike "*'digits-copy' is a Classification, 'synthetic-10-16-1' a Regression*'digits-copy' takes 64 inputs, 'synthetic-10-16-1' 10*Give -Of the model this one was made from*"
        $e = Get-ThrownError { $Copy | Should-HaveAccuracy -Within 0.01 -Of (New-Mlp 4, 8, 10 -Seed 1 -Name 'four-inputs') -On $Digits }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.ReferenceMismatch'
        "$e" | Should -BeLike "*'digits-copy' takes 64 inputs, 'four-inputs' 4.*"
        $e = Get-ThrownError { $Copy | Should-HaveAccuracy -Within 0.01 -Of (New-Mlp 64, 8, 3 -Seed 1 -Name 'three-classes') }
        "$e" | Should -BeLike "*'digits-copy' has 10 outputs, 'three-classes' 3.*"
    }

    It 'refuses a report, a value beside -Of, and an -On that is no data set' {
        $e = Get-ThrownError { $Copy | Get-CompressionReport | Should-HaveAccuracy -Within 0.01 -Of $Classifier }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.ReportWithReference'
        $e = Get-ThrownError { $Copy | Should-HaveAccuracy 0.5 -Within 0.01 -Of $Classifier }
        $e.FullyQualifiedErrorId | Should -BeLike 'PositionalParameterNotFound*'
        $e = Get-ThrownError { $Copy | Should-HaveAccuracy -Within 0.01 -Of $Classifier -On 'Digits' }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.NotADataset'
    }
}

Describe 'Should-BeSmallerThan' {
    BeforeAll {
        $script:Report = $Pruned | Get-CompressionReport
        $script:Stored = $Report.StoredBytes
        # The file's size from the file itself, not from the report the assertion reads.
        $path = Join-Path $TestDrive 'smaller.spmlp'
        $Pruned | Export-Mlp -Path $path
        $script:File = (Get-Item $path).Length
    }

    It 'passes below the size of the file Export-Mlp writes and fails at it' {
        $File | Should -Be $Report.FileBytes
        $File | Should -BeGreaterThan $Stored -Because 'the file holds a header and metadata beside the weights'
        $Pruned | Should-BeSmallerThan ($File + 1)
        $Pruned | Should-BeSmallerThan 1MB
        $Report | Should-BeSmallerThan ($File + 1)
        $e = Get-ThrownError { Should-BeSmallerThan $File -Actual $Pruned -Because 'it ships in the firmware' }
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        "$e" | Should -Be "Expected model 'pruned-64-128-10' to have a file of fewer than $File bytes because it ships in the firmware, but it has a file of $File bytes: exactly that."
        "$(Get-ThrownError { $Pruned | Should-BeSmallerThan ($Stored + 1) })" | Should -Be "Expected model 'pruned-64-128-10' to have a file of fewer than $($Stored + 1) bytes, but it has a file of $File bytes: $($File - $Stored - 1) bytes above."
    }

    It 'checks the bytes of the weights and biases alone with -WeightsOnly' {
        $Stored | Should -BeLessThan $Report.DenseBytes
        $Pruned | Should-BeSmallerThan ($Stored + 1) -WeightsOnly
        $Report | Should-BeSmallerThan ($Stored + 1) -WeightsOnly
        "$(Get-ThrownError { Should-BeSmallerThan $Stored -Actual $Pruned -WeightsOnly -Because 'it ships in the firmware' })" | Should -Be "Expected model 'pruned-64-128-10' to store its weights in fewer than $Stored bytes because it ships in the firmware, but it stores them in $Stored bytes: exactly that."
        "$(Get-ThrownError { $Pruned | Should-BeSmallerThan 1000 -WeightsOnly })" | Should -Be "Expected model 'pruned-64-128-10' to store its weights in fewer than 1000 bytes, but it stores them in $Stored bytes: $($Stored - 1000) bytes above."
    }

    It 'refuses a report whose file size is not known, pointing to -WeightsOnly' {
        # A sweep result file of an earlier release reads back with FileBytes 0.
        $old = [SparsePrune.CompressionReport]@{ Model = 'old-result'; StoredBytes = 100; BaselineDenseBytes = 1000 }
        $e = Get-ThrownError { $old | Should-BeSmallerThan 1MB }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.NoFileBytes'
        "$e" | Should -BeLike "*'old-result'*file size is not known*-WeightsOnly*"
        $old | Should-BeSmallerThan 101 -WeightsOnly
    }
}

Describe 'Should-HaveCompressionRatio' {
    BeforeAll {
        $report = $Pruned | Get-CompressionReport
        # The file's ratio from the files themselves: the dense file the model was (a fresh model
        # of the same seed, which is what it was before pruning) and the file it is now.
        $dir = Join-Path $TestDrive 'ratio'
        $null = New-Item -ItemType Directory -Path $dir
        New-Mlp 64, 128, 10 -Seed 1 -Name 'pruned-64-128-10' | Export-Mlp -Path (Join-Path $dir 'dense.spmlp')
        $Pruned | Export-Mlp -Path (Join-Path $dir 'pruned.spmlp')
        $script:DenseFile = (Get-Item (Join-Path $dir 'dense.spmlp')).Length
        $script:File = (Get-Item (Join-Path $dir 'pruned.spmlp')).Length
        $script:Ratio = $DenseFile / $File
        $script:WeightRatio = $report.BaselineDenseBytes / $report.StoredBytes
    }

    It 'passes at or below the dense file''s bytes at baseline over the file''s bytes now and fails above' {
        $Ratio | Should -BeGreaterThan 5 -Because '90 % of the connections are gone'
        $Ratio | Should -BeLessThan $WeightRatio -Because 'the file holds metadata, a header and fixed fields besides the weights'
        $Pruned | Should-HaveCompressionRatio $Ratio
        $Pruned | Get-CompressionReport | Should-HaveCompressionRatio 5
        Get-ThrownError { $Pruned | Should-HaveCompressionRatio ($Ratio * (1 + 1e-9)) } | Should -Not -BeNullOrEmpty -Because 'the bound is exact'
        $e = Get-ThrownError { $Pruned | Should-HaveCompressionRatio ($Ratio + 1) -Because 'the link is slow' }
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        "$e" | Should -Be "Expected model 'pruned-64-128-10' to have a compression ratio of at least $(Format-Value ($Ratio + 1)) because the link is slow, but it has $(Format-Value $Ratio) ($DenseFile / $File file bytes): 1 below."
        Get-ThrownError { $Masked | Should-HaveCompressionRatio 1 } | Should -Not -BeNullOrEmpty -Because 'a mask saves nothing and its section costs bytes'
    }

    It 'checks the weights-only ratio with -WeightsOnly' {
        $Pruned | Should-HaveCompressionRatio $WeightRatio -WeightsOnly
        $Masked | Should-HaveCompressionRatio 1 -WeightsOnly
        $report = $Pruned | Get-CompressionReport
        $e = Get-ThrownError { $Pruned | Should-HaveCompressionRatio ($WeightRatio + 1) -WeightsOnly }
        "$e" | Should -Be "Expected model 'pruned-64-128-10' to have a weight compression ratio of at least $(Format-Value ($WeightRatio + 1)), but it has $(Format-Value $WeightRatio) ($($report.BaselineDenseBytes) / $($report.StoredBytes) bytes of weights and biases): 1 below."
    }

    It 'refuses a report whose file size is not known, pointing to -WeightsOnly' {
        # A sweep result file of an earlier release reads back with FileBytes 0.
        $old = [SparsePrune.CompressionReport]@{ Model = 'old-result'; StoredBytes = 100; BaselineDenseBytes = 1000 }
        $e = Get-ThrownError { $old | Should-HaveCompressionRatio 2 }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.NoFileBytes'
        "$e" | Should -BeLike "*'old-result'*file size is not known*-WeightsOnly*"
        $old | Should-HaveCompressionRatio 10 -WeightsOnly
    }
}

Describe 'Bad input to <Name>' -ForEach @(
    @{ Name = 'Should-HaveSparsity'; Bound = 0.5; TooHigh = 1.5 }
    @{ Name = 'Should-HaveAccuracy'; Bound = 0.5; TooHigh = 1.5 }
    @{ Name = 'Should-BeSmallerThan'; Bound = 1MB; TooHigh = $null }
    @{ Name = 'Should-HaveCompressionRatio'; Bound = 2; TooHigh = $null }
) {
    It 'refuses a <_> instead of a model' -ForEach @('string', 'data set', 'null') {
        $value = switch ($_) { 'string' { 'mlp-64-32-10' } 'data set' { $Digits } 'null' { $null } }
        $e = Get-ThrownError { param($v) , $v | & $Name $Bound } -ArgumentList @(, $value)
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.NotAModel'
        "$e" | Should -BeLike "$Name takes a model (SparsePrune.Mlp)*"
        $e = Get-ThrownError { param($v) & $Name $Bound -Actual $v } -ArgumentList @(, $value)
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.NotAModel'
    }

    It 'refuses a negative, an out-of-range or a non-numeric bound' {
        foreach ($bad in @(-1, 'much') + @(if ($null -ne $TooHigh) { $TooHigh })) {
            $e = Get-ThrownError { $Classifier | & $Name $bad }
            $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.BadBound' -Because "$bad is no bound"
            "$e" | Should -BeLike "$Name needs *"
        }
    }

    It 'refuses an empty pipeline' {
        $e = Get-ThrownError { @() | & $Name $Bound }
        $e.FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.NoInput'
    }
}

Describe 'Bad options of Should-HaveSparsity' {
    It 'refuses -AtLeast with -AtMost, and a negative -Tolerance' {
        (Get-ThrownError { $Masked | Should-HaveSparsity 0.9 -AtLeast -AtMost }).FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.AtLeastAndAtMost'
        (Get-ThrownError { $Masked | Should-HaveSparsity 0.9 -Tolerance -0.1 }).FullyQualifiedErrorId | Should -Be 'SparsePrune.Assertion.BadBound'
    }
}

Describe 'Registration of the Should operators' {
    It 'refuses without Pester 5, naming the Should-* functions to use' {
        $e = Get-ThrownError { Register-MlpShouldOperator }
        $e.FullyQualifiedErrorId | Should -BeLike 'SparsePrune.Assertion.NoPester5*'
        "$e" | Should -BeLike '*Should-HaveSparsity*'
    }
}
