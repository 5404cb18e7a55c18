# The Pester assertions (Module/SparsePrune.Assertions.psm1) as Should operators under Pester
# 5.7.1 and as functions under Pester 6.2.0, each in a fresh pwsh running a generated test file,
# and the workflow test of docs/pester.md as written. Expected values are recomputed from the
# model, not copied from a run.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Invariant = [Globalization.CultureInfo]::InvariantCulture
    # 90 % of the weights masked, nothing deleted: the model the child files build as well.
    $script:Masked = New-Mlp 64, 32, 10 -Seed 1 -Name 'masked-64-32-10' | Set-Sparsity -Sparsity 0.9 -WarningAction Ignore

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
                # 'errors (Id): …' names the error id; plain 'errors: …' means NotAModel.
                'errors*' {
                    $id = if ($t.Name -match '^errors \((\w+)\)') { $Matches[1] } else { 'NotAModel' }
                    $t.Result | Should -Be 'Failed' -Because $t.Name
                    $t.ErrorId | Should -Be "SparsePrune.Assertion.$id" -Because "$($t.Name): $($t.Message)"
                }
                default { throw "unexpected test '$($t.Name)'" }
            }
        }
    }
    # A failure of the relative form names both accuracies and the difference: the difference
    # must be theirs (to the four decimals shown) and beyond -Within, or within it for -Not.
    function script:Assert-RelativeMessage([string] $Message, [string] $Pattern, [switch] $Beyond) {
        $Message -match $Pattern | Should -BeTrue -Because "'$Message' must match $Pattern"
        $n = @{}
        foreach ($k in 'within', 'reference', 'found', 'difference') { $n[$k] = [double]::Parse($Matches[$k], $Invariant) }
        [Math]::Abs(($n.reference - $n.found) - $n.difference) | Should -BeLessOrEqual 0.00016 -Because $Message
        if ($Beyond) { $n.difference | Should -BeGreaterThan $n.within -Because $Message }
        else { $n.difference | Should -BeLessOrEqual $n.within -Because $Message }
    }
    function script:Get-TestResults($Child) {
        $line = @($Child.Output | Where-Object { $_ -like 'RESULT *' }) | Select-Object -Last 1
        if (-not $line) { return $null }
        @(($line.Substring(7) | ConvertFrom-Json))
    }
}

Describe 'In fresh pwsh processes' {
    BeforeAll {
        # The models of each test file: 90 % masked (floor(0.9 x 2368) weights, just below 0.9); a
        # classifier trained on Digits and a regression on Synthetic, each with a cut copy that
        # does measurably worse ($drop in accuracy, $rise as a share of the loss).
        $setup = @'
BeforeAll {
    $m = New-Mlp 64,32,10 -Seed 1 -Name 'child-model' | Set-Sparsity -Sparsity 0.9 -WarningAction Ignore
    $d = Get-Dataset Digits
    $t = New-Mlp 64,16,10 -Seed 1 -Name 'child-classifier' | Invoke-Training -Dataset $d -Epochs 2
    $p = $t | Copy-Mlp -Name 'child-pruned' | Invoke-Pruning -Ratio 0.7 -WarningAction Ignore
    $drop = (Measure-Mlp $t -Repeat 1).Accuracy - (Measure-Mlp $p -Repeat 1).Accuracy
    $r = New-Mlp 10,16,1 -Seed 1 -Name 'child-regressor' | Invoke-Training -Dataset (Get-Dataset Synthetic -Seed 1) -Epochs 2
    $rp = $r | Copy-Mlp -Name 'child-regressor-cut' | Invoke-Pruning -Ratio 0.9 -WarningAction Ignore
    $loss = (Measure-Mlp $r -Repeat 1).Loss
    $rise = ((Measure-Mlp $rp -Repeat 1).Loss - $loss) / $loss
    if (-not ($drop -gt 0.02 -and $rise -gt 0.02)) { throw "the cut copies must do worse: accuracy drop $drop, loss rise $rise" }
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
    It 'passes: HaveCompressionRatio of a report' { `$p | Get-CompressionReport | Should -HaveCompressionRatio 1 }
    It 'passes: HaveCompressionRatio -WeightsOnly' { `$m | Should -HaveCompressionRatio 1 -WeightsOnly }
    It 'fails: HaveCompressionRatio' { `$m | Should -HaveCompressionRatio 10 -Because 'reason five' }
    It 'errors: HaveSparsity of a string' { 'child-model' | Should -HaveSparsity 0.9 }
    It 'fails: HaveSparsity 0.9 -AtLeast just below 0.9' { `$m | Should -HaveSparsity 0.9 -AtLeast }
    It 'passes: HaveSparsity 0.9 -AtLeast -Tolerance' { `$m | Should -HaveSparsity 0.9 -AtLeast -Tolerance 0.001 }
    It 'passes: HaveAccuracy -Within -Of' { `$p | Should -HaveAccuracy -Within `$drop -Of `$t }
    It 'fails: HaveAccuracy -Within -Of -Because' { `$p | Should -HaveAccuracy -Within (`$drop / 2) -Of `$t -Because 'reason five' }
    It 'passes: -Not -HaveAccuracy -Within -Of' { `$p | Should -Not -HaveAccuracy -Within (`$drop / 2) -Of `$t }
    It 'fails: -Not -HaveAccuracy -Within -Of' { `$p | Should -Not -HaveAccuracy -Within `$drop -Of `$t -On `$d }
    It 'passes: HaveAccuracy -Loss -Within -Of' { `$rp | Should -HaveAccuracy -Loss -Within `$rise -Of `$r }
    It 'fails: HaveAccuracy -Loss -Within -Of' { `$rp | Should -HaveAccuracy -Loss -Within (`$rise / 2) -Of `$r }
    It 'errors (ReferenceNotAModel): HaveAccuracy -Of a string' { `$p | Should -HaveAccuracy -Within 0.01 -Of 'child-classifier' }
    It 'errors (WithinWithoutOf): HaveAccuracy -Within alone' { `$p | Should -HaveAccuracy -Within 0.01 }
    It 'errors (ValueAndReference): HaveAccuracy with a value and -Of' { `$p | Should -HaveAccuracy 0.5 -Within 0.01 -Of `$t }
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
    It 'passes: Should-HaveCompressionRatio' { `$p | Should-HaveCompressionRatio 1 }
    It 'passes: Should-HaveCompressionRatio -WeightsOnly' { `$m | Should-HaveCompressionRatio 1 -WeightsOnly }
    It 'fails: Should-HaveCompressionRatio' { `$m | Should-HaveCompressionRatio 10 -Because 'reason six' }
    It 'errors: Should-HaveSparsity of a string' { 'child-model' | Should-HaveSparsity 0.9 }
    It 'fails: Should-HaveSparsity 0.9 -AtLeast just below 0.9' { `$m | Should-HaveSparsity 0.9 -AtLeast }
    It 'passes: Should-HaveAccuracy -Within -Of' { `$p | Should-HaveAccuracy -Within `$drop -Of `$t }
    It 'fails: Should-HaveAccuracy -Within -Of -Because' { `$p | Should-HaveAccuracy -Within (`$drop / 2) -Of `$t -Because 'reason six' }
    It 'passes: Should-HaveAccuracy -Loss -Within -Of' { `$rp | Should-HaveAccuracy -Loss -Within `$rise -Of `$r }
    It 'fails: Should-HaveAccuracy -Loss -Within -Of' { `$rp | Should-HaveAccuracy -Loss -Within (`$rise / 2) -Of `$r }
    It 'errors (ReferenceNotAModel): Should-HaveAccuracy -Of a string' { `$p | Should-HaveAccuracy -Within 0.01 -Of 'child-classifier' }
}
"@
        $script:Pester6FailLine = (Select-String -LiteralPath $pester6File -SimpleMatch 'Should-HaveSparsity 0.95 -AtLeast').LineNumber
        # The workflow test of docs/pester.md, as written there.
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../docs/pester.md')
        $match = [regex]::Match($readme, '<!-- assertions-workflow:[^\n]*-->\r?\n```powershell\r?\n(?<code>.*?)\r?\n```', 'Singleline')
        $script:ReadmeBlock = $match.Groups['code'].Value
        $readmeFile = Join-Path $TestDrive 'Readme.Tests.ps1'
        Set-Content -LiteralPath $readmeFile -Value $ReadmeBlock

        $ourOperators = "@('HaveSparsity', 'HaveAccuracy', 'BeSmallerThan', 'HaveCompressionRatio')"
        $countOperators = "'OPERATORS ' + @(Get-ShouldOperator).Count + ' ' + (@(Get-ShouldOperator | Where-Object Name -In $ourOperators | ForEach-Object Name | Sort-Object) -join ',')"
        # Import-Module SparsePrune by name, as a user does.
        $modulePath = @{ PSModulePath = (Split-Path (Split-Path $script:ModulePath)) + [IO.Path]::PathSeparator + $env:PSModulePath }
        # The children run at once, each training its models: on a busy machine that takes
        # minutes, and the wait is for a process that hangs, not a measure of speed.
        $script:ChildTimeout = 600
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
        $r = $Children.Pester5 | Receive-FreshPwsh -TimeoutSeconds $ChildTimeout
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        @($r.Output -like 'OPERATORS *') | Should -Be @('OPERATORS 30 BeSmallerThan,HaveAccuracy,HaveCompressionRatio,HaveSparsity', 'OPERATORS 30 BeSmallerThan,HaveAccuracy,HaveCompressionRatio,HaveSparsity')
        @($r.Output -like 'WARNING*') | Should -BeNullOrEmpty
        $script:Pester5Results = Get-TestResults $r
        $Pester5Results.Count | Should -Be 26 -Because ($r.Output -join "`n")
    }

    It 'Pester 5.7.1: the Should operators pass and fail as the test''s name says, -Not and -Because included' {
        $Pester5Results | Should -Not -BeNullOrEmpty
        Assert-ChildTestResult $Pester5Results -Reason 'reason five'
        $sparsity = Get-HandSparsity $Masked @(64, 32, 10)
        ($Pester5Results | Where-Object Name -EQ 'fails: -Not -HaveSparsity').Message | Should -Be "Expected model 'child-model' not to have overall sparsity 0.9 ± 0.005, but it has $(Format-Value $sparsity): $(Format-Value (0.9 - $sparsity)) below."
        ($Pester5Results | Where-Object Name -EQ 'fails: HaveSparsity -AtLeast -Because').Message | Should -Be "Expected model 'child-model' to have overall sparsity at least 0.95 because reason five, but it has $(Format-Value $sparsity): $(Format-Value (0.95 - $sparsity)) below."
        ($Pester5Results | Where-Object Name -EQ 'fails: HaveSparsity 0.9 -AtLeast just below 0.9').Message | Should -BeLike "Expected model 'child-model' to have overall sparsity at least 0.9, but it has $(Format-Value $sparsity): $(Format-Value (0.9 - $sparsity)) below. That is less than one weight per layer: *"
    }

    It 'Pester 5.7.1: Should -HaveAccuracy -Within -Of gives both accuracies and a difference that is theirs, -Not included' {
        $fails = ($Pester5Results | Where-Object Name -EQ 'fails: HaveAccuracy -Within -Of -Because').Message
        Assert-RelativeMessage $fails -Pattern "^Expected model 'child-pruned' to have accuracy within (?<within>[\d.]+) of model 'child-classifier' \((?<reference>[\d.]+)\) on 'Digits' because reason five, but it has (?<found>[\d.]+): (?<difference>[\d.]+) below\.$" -Beyond
        $not = ($Pester5Results | Where-Object Name -EQ 'fails: -Not -HaveAccuracy -Within -Of').Message
        Assert-RelativeMessage $not -Pattern "^Expected model 'child-pruned' not to have accuracy within (?<within>[\d.]+) of model 'child-classifier' \((?<reference>[\d.]+)\) on 'Digits', but it has (?<found>[\d.]+): (?<difference>[\d.]+) below\.$"
        $loss = ($Pester5Results | Where-Object Name -EQ 'fails: HaveAccuracy -Loss -Within -Of').Message
        $loss | Should -Match "^Expected model 'child-regressor-cut' to have loss within [\d.]+ % of model 'child-regressor' \([\d.]+, so at most [\d.]+\) on 'Synthetic', but it has [\d.]+: [\d.]+ above \([\d.]+ %\)\.$"
    }

    It 'Pester 5.7.1 imported after SparsePrune: Register-MlpShouldOperator adds them, once' {
        $r = $Children.Pester5Later | Receive-FreshPwsh -TimeoutSeconds $ChildTimeout
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        @($r.Output -like 'OPERATORS *') | Should -Be @('OPERATORS 26 ', 'OPERATORS 30 BeSmallerThan,HaveAccuracy,HaveCompressionRatio,HaveSparsity')
        $r.Output | Should -Contain 'LATE PASSED'
        @($r.Output -like 'WARNING*') | Should -BeNullOrEmpty
    }

    It 'Pester 5.7.1: an operator name already taken is left to its owner, with a warning' {
        $r = $Children.Pester5Taken | Receive-FreshPwsh -TimeoutSeconds $ChildTimeout
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        @($r.Output -like 'WARNING*HaveSparsity*not SparsePrune''s*Should-HaveSparsity*').Count | Should -Be 1 -Because ($r.Output -join "`n")
        $r.Output | Should -Contain 'OPERATORS 30 BeSmallerThan,HaveAccuracy,HaveCompressionRatio,HaveSparsity'
        $r.Output | Should -Contain 'THEIRS'
    }

    It 'Pester 6.2.0: the Should-* functions pass and fail as the test''s name says, reported as assertion failures' {
        $r = $Children.Pester6 | Receive-FreshPwsh -TimeoutSeconds $ChildTimeout
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $results = Get-TestResults $r
        $results.Count | Should -Be 16 -Because ($r.Output -join "`n")
        Assert-ChildTestResult $results -Reason 'reason six'
        $fails = ($results | Where-Object Name -EQ 'fails: Should-HaveAccuracy -Within -Of -Because').Message
        Assert-RelativeMessage $fails -Pattern "^Expected model 'child-pruned' to have accuracy within (?<within>[\d.]+) of model 'child-classifier' \((?<reference>[\d.]+)\) on 'Digits' because reason six, but it has (?<found>[\d.]+): (?<difference>[\d.]+) below\.$" -Beyond
        # The failure points at the assertion's own line of the test file, not the It's.
        ($results | Where-Object Name -EQ 'fails: Should-HaveSparsity -AtLeast -Because').Line | Should -Be "$Pester6FailLine"
    }

    It 'the workflow test of docs/pester.md passes as written' {
        $ReadmeBlock | Should -Match 'Describe' -Because 'docs/pester.md must hold the block after its assertions-workflow marker'
        $r = $Children.Readme | Receive-FreshPwsh -TimeoutSeconds $ChildTimeout
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $results = Get-TestResults $r
        $results.Count | Should -Be ([regex]::Matches($ReadmeBlock, '(?m)^\s*It ').Count) -Because ($r.Output -join "`n")
        foreach ($t in $results) { $t.Result | Should -Be 'Passed' -Because "$($t.Name): $($t.Message)" }
    }
}
