# The Pester assertions (Module/SparsePrune.Assertions.psm1): Should-HaveSparsity,
# Should-HaveAccuracy, Should-BeSmallerThan and Should-HaveCompressionRatio under this run's
# Pester 6 directly; as Should operators under Pester 5.7.1 and as functions under Pester 6.2.0,
# each in a fresh pwsh running a generated test file; and the README's workflow test as written.
# Expected values are recomputed from the model (GetWeight, Measure-Mlp), not copied from a run.
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

    # The share of the baseline's weights that are zero now (deleted ones are gone from GetWeight).
    function script:Get-HandSparsity($Model, [int[]] $BaselineWidths) {
        $nonZero = 0; $baseline = 0
        for ($i = 0; $i -lt $Model.LayerCount; $i++) {
            $nonZero += Get-NonZeroCount -Values $Model.GetWeight($i)
            $baseline += $BaselineWidths[$i] * $BaselineWidths[$i + 1]
        }
        1 - $nonZero / $baseline
    }
    function script:Format-Value([double] $Value) { $Value.ToString('0.####', $Invariant) }

    # The NuGet folder build.ps1 restores Pester 5.7.1 and 6.2.0 into (tools/tools.csproj).
    $script:Packages = & (Join-Path $PSScriptRoot '../tools/Restore-BuildTools.ps1')
    $script:Pester5 = Join-Path $Packages 'pester/5.7.1/tools/Pester.psd1'
    $script:Pester6 = Join-Path $Packages 'pester/6.2.0/tools/Pester.psd1'

    # A child script that runs a Pester test file and prints each test's result as one JSON line.
    function script:Get-RunTestsScript([string] $Path) {
        "`$r = Invoke-Pester -Path '$Path' -PassThru -Output None; " +
        "'RESULT ' + (ConvertTo-Json -Compress -Depth 3 -InputObject @(`$r.Tests | ForEach-Object { [pscustomobject]@{ Name = `$_.Name; Result = `"`$(`$_.Result)`"; ErrorId = `"`$(`$_.ErrorRecord | Select-Object -First 1 | ForEach-Object FullyQualifiedErrorId)`"; Message = `"`$(`$_.ErrorRecord | Select-Object -First 1 | ForEach-Object { `$_.Exception.Message })`"; Line = `"`$(`$_.ErrorRecord | Select-Object -First 1 | ForEach-Object { `$_.TargetObject.Line })`" } }))"
    }
    # Each test of a generated file did what its name says: 'passes', 'fails' (an assertion
    # failure naming the model, with the -Because text where the name says so) or 'errors'.
    function script:Assert-ChildTestResult([object[]] $Results, [string] $Reason) {
        foreach ($t in $Results) {
            switch -Wildcard ($t.Name) {
                'passes:*' { $t.Result | Should -Be 'Passed' -Because "$($t.Name): $($t.Message)" }
                'fails:*' {
                    $t.Result | Should -Be 'Failed' -Because $t.Name
                    $t.ErrorId | Should -Be 'PesterAssertionFailed' -Because $t.Name
                    $t.Message | Should -BeLike "Expected model 'child-*' *, but it *." -Because $t.Name
                    if ($t.Name -like '*-Because*') { $t.Message | Should -BeLike "* because $Reason, but *" }
                }
                'errors:*' { $t.Result | Should -Be 'Failed'; $t.ErrorId | Should -Be 'SparsePrune.Assertion.NotAModel' }
                default { throw "unexpected test '$($t.Name)'" }
            }
        }
    }
    function script:Get-TestResults($Child) {
        $line = @($Child.Output | Where-Object { $_ -like 'RESULT *' }) | Select-Object -Last 1
        if (-not $line) { return $null }
        @(($line.Substring(7) | ConvertFrom-Json))
    }
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

    It 'fails outside -Tolerance (0.005 unless given), saying what it found, expected and why' {
        $Masked | Should-HaveSparsity ($MaskedSparsity + 0.004)
        $e = Get-ThrownError { $Masked | Should-HaveSparsity ($MaskedSparsity + 0.004) -Tolerance 0.001 -Because 'the target is exact' }
        $e | Should -Not -BeNullOrEmpty
        "$e" | Should -Be "Expected model 'masked-64-32-10' to have overall sparsity $(Format-Value ($MaskedSparsity + 0.004)) ± 0.001 because the target is exact, but it has $(Format-Value $MaskedSparsity)."
        $e = Get-ThrownError { $Masked | Should-HaveSparsity 0.5 }
        "$e" | Should -Be "Expected model 'masked-64-32-10' to have overall sparsity 0.5 ± 0.005, but it has $(Format-Value $MaskedSparsity)."
    }

    It '-AtLeast passes at or above the value (less the tolerance) and fails below' {
        $Masked | Should-HaveSparsity 0.5 -AtLeast
        $Masked | Should-HaveSparsity ($MaskedSparsity + 0.004) -AtLeast
        $e = Get-ThrownError { $Masked | Should-HaveSparsity 0.95 -AtLeast -Because 'it must fit the device' }
        "$e" | Should -Be "Expected model 'masked-64-32-10' to have overall sparsity at least 0.95 (tolerance 0.005) because it must fit the device, but it has $(Format-Value $MaskedSparsity)."
        Get-ThrownError { $Masked | Should-HaveSparsity ($MaskedSparsity + 0.004) -AtLeast -Tolerance 0 } | Should -Not -BeNullOrEmpty
    }

    It '-AtMost passes at or below the value (plus the tolerance) and fails above' {
        $Masked | Should-HaveSparsity 0.95 -AtMost
        $Masked | Should-HaveSparsity ($MaskedSparsity - 0.004) -AtMost
        $e = Get-ThrownError { $Masked | Should-HaveSparsity 0.5 -AtMost -Because 'half the weights must stay' }
        "$e" | Should -Be "Expected model 'masked-64-32-10' to have overall sparsity at most 0.5 (tolerance 0.005) because half the weights must stay, but it has $(Format-Value $MaskedSparsity)."
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
        "$e" | Should -BeLike "Expected model 'digits-64-32-10' *, but it has 0."
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
        "$e" | Should -Be "Expected model 'digits-64-32-10' to have accuracy at least $(Format-Value ($Accuracy + 0.01)) on 'Digits' because pruning must not cost the model its use, but it has $(Format-Value $Accuracy)."
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
        "$e" | Should -Be "Expected model 'synthetic-10-16-1' to have loss at most $(Format-Value ($Loss / 2)) on 'Synthetic' because the forecast must be close, but it has $(Format-Value $Loss)."
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

Describe 'Should-BeSmallerThan' {
    BeforeAll { $script:Stored = ($Pruned | Get-CompressionReport).StoredBytes }

    It 'passes below the report''s StoredBytes and fails at it' {
        $Stored | Should -BeLessThan ($Pruned | Get-CompressionReport).DenseBytes
        $Pruned | Should-BeSmallerThan ($Stored + 1)
        $Pruned | Should-BeSmallerThan 1MB
        $Pruned | Get-CompressionReport | Should-BeSmallerThan ($Stored + 1)
        $e = Get-ThrownError { Should-BeSmallerThan $Stored -Actual $Pruned -Because 'it ships in the firmware' }
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        "$e" | Should -Be "Expected model 'pruned-64-128-10' to store its weights in fewer than $Stored bytes because it ships in the firmware, but it stores them in $Stored bytes."
    }
}

Describe 'Should-HaveCompressionRatio' {
    BeforeAll {
        $report = $Pruned | Get-CompressionReport
        $script:Ratio = $report.BaselineDenseBytes / $report.StoredBytes
    }

    It 'passes at or below the baseline''s dense bytes over the stored bytes and fails above' {
        $Ratio | Should -BeGreaterThan 5 -Because '90 % of the connections are gone'
        $Pruned | Should-HaveCompressionRatio $Ratio
        $Pruned | Get-CompressionReport | Should-HaveCompressionRatio 5
        $e = Get-ThrownError { $Pruned | Should-HaveCompressionRatio ($Ratio + 1) -Because 'the link is slow' }
        $e.FullyQualifiedErrorId | Should -Be 'PesterAssertionFailed'
        "$e" | Should -Be "Expected model 'pruned-64-128-10' to have a compression ratio of at least $(Format-Value ($Ratio + 1)) because the link is slow, but it has $(Format-Value $Ratio)."
        Get-ThrownError { $Masked | Should-HaveCompressionRatio 1.5 } | Should -Not -BeNullOrEmpty -Because 'masks save no bytes'
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

Describe 'In fresh pwsh processes' {
    BeforeAll {
        # One model per test file: 90 % masked; a classifier trained on Digits.
        $setup = @'
BeforeAll {
    $m = New-Mlp 64,32,10 -Seed 1 -Name 'child-model' | Set-Sparsity -Sparsity 0.9 -WarningAction Ignore
    $d = Get-Dataset Digits
    $t = New-Mlp 64,16,10 -Seed 1 -Name 'child-classifier' | Invoke-Training -Dataset $d -Epochs 2
}
'@
        # Test names say what must happen: 'passes', 'fails' (an assertion failure) or 'errors'.
        $pester5File = Join-Path $TestDrive 'Pester5.Tests.ps1'
        Set-Content -LiteralPath $pester5File -Value @"
$setup
Describe 'Should operators under Pester 5' {
    It 'passes: HaveSparsity' { `$m | Should -HaveSparsity 0.9 }
    It 'passes: HaveSparsity -AtLeast' { `$m | Should -HaveSparsity 0.5 -AtLeast }
    It 'passes: -Not -HaveSparsity' { `$m | Should -Not -HaveSparsity 0.5 }
    It 'fails: HaveSparsity -AtLeast -Because' { `$m | Should -HaveSparsity 0.95 -AtLeast -Because 'reason five' }
    It 'fails: -Not -HaveSparsity' { `$m | Should -Not -HaveSparsity 0.9 }
    It 'passes: HaveAccuracy -On' { `$t | Should -HaveAccuracy 0.3 -On `$d }
    It 'fails: HaveAccuracy -On -Because' { `$t | Should -HaveAccuracy 1 -On `$d -Because 'reason five' }
    It 'passes: BeSmallerThan' { `$m | Should -BeSmallerThan 1MB }
    It 'fails: BeSmallerThan' { `$m | Should -BeSmallerThan 100 }
    It 'passes: -Not -BeSmallerThan' { `$m | Should -Not -BeSmallerThan 100 }
    It 'passes: HaveCompressionRatio of a report' { `$m | Get-CompressionReport | Should -HaveCompressionRatio 1 }
    It 'fails: HaveCompressionRatio' { `$m | Should -HaveCompressionRatio 10 -Because 'reason five' }
    It 'errors: HaveSparsity of a string' { 'child-model' | Should -HaveSparsity 0.9 }
    It 'passes: a built-in operator still works' { 1 | Should -Be 1 }
}
"@
        $pester6File = Join-Path $TestDrive 'Pester6.Tests.ps1'
        Set-Content -LiteralPath $pester6File -Value @"
$setup
Describe 'Should-* functions under Pester 6' {
    It 'passes: Should-HaveSparsity' { `$m | Should-HaveSparsity 0.9 }
    It 'fails: Should-HaveSparsity -AtLeast -Because' {
        `$m | Should-HaveSparsity 0.95 -AtLeast -Because 'reason six'
    }
    It 'passes: Should-HaveAccuracy -On' { `$t | Should-HaveAccuracy 0.3 -On `$d }
    It 'fails: Should-HaveAccuracy -On -Because' { `$t | Should-HaveAccuracy 1 -On `$d -Because 'reason six' }
    It 'passes: Should-BeSmallerThan' { `$m | Should-BeSmallerThan 1MB }
    It 'fails: Should-BeSmallerThan' { `$m | Should-BeSmallerThan 100 }
    It 'passes: Should-HaveCompressionRatio' { `$m | Should-HaveCompressionRatio 1 }
    It 'fails: Should-HaveCompressionRatio' { `$m | Should-HaveCompressionRatio 10 -Because 'reason six' }
    It 'errors: Should-HaveSparsity of a string' { 'child-model' | Should-HaveSparsity 0.9 }
}
"@
        $script:Pester6FailLine = (Select-String -LiteralPath $pester6File -SimpleMatch 'Should-HaveSparsity 0.95 -AtLeast').LineNumber
        # The README's workflow test, as written there.
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../README.md')
        $match = [regex]::Match($readme, '<!-- assertions-workflow:[^\n]*-->\r?\n```powershell\r?\n(?<code>.*?)\r?\n```', 'Singleline')
        $script:ReadmeBlock = $match.Groups['code'].Value
        $readmeFile = Join-Path $TestDrive 'Readme.Tests.ps1'
        Set-Content -LiteralPath $readmeFile -Value $ReadmeBlock

        $ourOperators = "@('HaveSparsity', 'HaveAccuracy', 'BeSmallerThan', 'HaveCompressionRatio')"
        $countOperators = "'OPERATORS ' + @(Get-ShouldOperator).Count + ' ' + (@(Get-ShouldOperator | Where-Object Name -In $ourOperators | ForEach-Object Name | Sort-Object) -join ',')"
        # Import-Module SparsePrune by name, as a user does.
        $modulePath = @{ PSModulePath = (Split-Path (Split-Path $script:ModulePath)) + [IO.Path]::PathSeparator + $env:PSModulePath }
        $script:Children = @{
            # Pester 5 first: the import registers the operators; importing again changes nothing.
            Pester5      = Start-FreshPwsh -BeforeImport "Import-Module '$Pester5'" -Script "$countOperators; Import-Module '$script:ModulePath' -Force; $countOperators; $(Get-RunTestsScript $pester5File)"
            # SparsePrune first: Register-MlpShouldOperator does what the import would have done.
            Pester5Later = Start-FreshPwsh -Script "Import-Module '$Pester5'; $countOperators; Register-MlpShouldOperator; Register-MlpShouldOperator; $countOperators; New-Mlp 8,4 -Seed 1 -Name late | Set-Sparsity -Sparsity 0.5 -WarningAction Ignore | Should -HaveSparsity 0.5; 'LATE PASSED'"
            # Another module's -HaveSparsity is left alone, with a warning; the other three are added.
            Pester5Taken = Start-FreshPwsh -BeforeImport "Import-Module '$Pester5'; Add-ShouldOperator -Name HaveSparsity -Test { param(`$ActualValue) [pscustomobject]@{ Succeeded = `$true } }" -Script "$countOperators; if ((Get-ShouldOperator -Name HaveSparsity -WarningAction Ignore).Help) { 'OURS' } else { 'THEIRS' }"
            Pester6      = Start-FreshPwsh -BeforeImport "Import-Module '$Pester6'" -Script (Get-RunTestsScript $pester6File)
            Readme       = Start-FreshPwsh -BeforeImport "Import-Module '$Pester6'" -Script (Get-RunTestsScript $readmeFile) -Environment $modulePath
        }
    }

    It 'Pester 5.7.1: the import registers the four operators once, beside Pester''s 26' {
        $r = $Children.Pester5 | Receive-FreshPwsh
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        @($r.Output -like 'OPERATORS *') | Should -Be @('OPERATORS 30 BeSmallerThan,HaveAccuracy,HaveCompressionRatio,HaveSparsity', 'OPERATORS 30 BeSmallerThan,HaveAccuracy,HaveCompressionRatio,HaveSparsity')
        @($r.Output -like 'WARNING*') | Should -BeNullOrEmpty
        $script:Pester5Results = Get-TestResults $r
        $Pester5Results.Count | Should -Be 14 -Because ($r.Output -join "`n")
    }

    It 'Pester 5.7.1: the Should operators pass and fail as the test''s name says, -Not and -Because included' {
        $Pester5Results | Should -Not -BeNullOrEmpty
        Assert-ChildTestResult $Pester5Results -Reason 'reason five'
        ($Pester5Results | Where-Object Name -EQ 'fails: -Not -HaveSparsity').Message | Should -Be "Expected model 'child-model' not to have overall sparsity 0.9 ± 0.005, but it has $(Format-Value (Get-HandSparsity $Masked @(64, 32, 10)))."
        ($Pester5Results | Where-Object Name -EQ 'fails: HaveSparsity -AtLeast -Because').Message | Should -BeLike "Expected model 'child-model' to have overall sparsity at least 0.95 (tolerance 0.005) because reason five, but it has 0.*."
    }

    It 'Pester 5.7.1 imported after SparsePrune: Register-MlpShouldOperator adds them, once' {
        $r = $Children.Pester5Later | Receive-FreshPwsh
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        @($r.Output -like 'OPERATORS *') | Should -Be @('OPERATORS 26 ', 'OPERATORS 30 BeSmallerThan,HaveAccuracy,HaveCompressionRatio,HaveSparsity')
        $r.Output | Should -Contain 'LATE PASSED'
        @($r.Output -like 'WARNING*') | Should -BeNullOrEmpty
    }

    It 'Pester 5.7.1: an operator name already taken is left to its owner, with a warning' {
        $r = $Children.Pester5Taken | Receive-FreshPwsh
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        @($r.Output -like 'WARNING*HaveSparsity*not SparsePrune''s*Should-HaveSparsity*').Count | Should -Be 1 -Because ($r.Output -join "`n")
        $r.Output | Should -Contain 'OPERATORS 30 BeSmallerThan,HaveAccuracy,HaveCompressionRatio,HaveSparsity'
        $r.Output | Should -Contain 'THEIRS'
    }

    It 'Pester 6.2.0: the Should-* functions pass and fail as the test''s name says, reported as assertion failures' {
        $r = $Children.Pester6 | Receive-FreshPwsh
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $results = Get-TestResults $r
        $results.Count | Should -Be 9 -Because ($r.Output -join "`n")
        Assert-ChildTestResult $results -Reason 'reason six'
        # The failure points at the assertion's own line of the test file, not the It's.
        ($results | Where-Object Name -EQ 'fails: Should-HaveSparsity -AtLeast -Because').Line | Should -Be "$Pester6FailLine"
    }

    It 'the README''s workflow test passes as written' {
        $ReadmeBlock | Should -Match 'Describe' -Because 'README.md must hold the block after its assertions-workflow marker'
        $r = $Children.Readme | Receive-FreshPwsh
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $results = Get-TestResults $r
        $results.Count | Should -Be ([regex]::Matches($ReadmeBlock, '(?m)^\s*It ').Count) -Because ($r.Output -join "`n")
        foreach ($t in $results) { $t.Result | Should -Be 'Passed' -Because "$($t.Name): $($t.Message)" }
    }
}
