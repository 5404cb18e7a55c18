# Pester assertions for SparsePrune models, loaded with the module (a NestedModule of the
# manifest). Each assertion is a function with an approved verb (Assert-Mlp*), so that
# Import-Module stays free of the unapproved-verb warning, exported under the Should-* alias that
# Pester 6 users write. Under Pester 5 the same checks are registered as Should operators
# (Should -HaveSparsity …) by Register-MlpShouldOperator. Neither path needs Pester to be loaded
# for the checks themselves: a failure is the error record Pester's own assertions throw.
Set-StrictMode -Version Latest

# Sparsity targets become floor(fraction × N) weights, so a model "at 0.9" may read 0.8998.
$script:DefaultSparsityTolerance = 0.005

# ---- what every assertion shares ------------------------------------------------------------

# The CompressionReport an assertion reads: of a model (on -Dataset when given), or a report
# given as it is. Anything else is bad input, not a failed assertion.
function Get-AssertedReport {
    param($Actual, [string] $Assertion, $Dataset, [switch] $ModelOnly)
    if ($Actual -is [SparsePrune.Mlp]) {
        $report = if ($null -ne $Dataset) { Get-CompressionReport -Model $Actual -Dataset $Dataset -ErrorAction Stop }
        else { Get-CompressionReport -Model $Actual -ErrorAction Stop }
        return $report
    }
    if ($Actual -is [SparsePrune.CompressionReport]) {
        if (-not $ModelOnly) { return $Actual }
        throw (New-AssertionInputError -ErrorId 'ReportWithDataset' -Target $Actual -Message "$Assertion -On measures a model, but got a CompressionReport, which was measured already: pipe the model in, or leave -On out to check the report's own metric.")
    }
    $what = if ($null -eq $Actual) { '$null' } else { "a $($Actual.GetType().FullName)" }
    $takes = if ($ModelOnly) { 'a model (SparsePrune.Mlp)' } else { 'a model (SparsePrune.Mlp) or its CompressionReport' }
    throw (New-AssertionInputError -ErrorId 'NotAModel' -Target $Actual -Message "$Assertion takes $takes but got $what.")
}

function New-AssertionInputError {
    param([string] $ErrorId, [string] $Message, $Target)
    [Management.Automation.ErrorRecord]::new([ArgumentException]::new($Message), "SparsePrune.Assertion.$ErrorId",
        [Management.Automation.ErrorCategory]::InvalidArgument, $Target)
}

# Bounds are numbers within a range; a bad one is an error of the test, not a failed assertion.
function ConvertTo-AssertedBound {
    param($Value, [string] $Assertion, [string] $Name, [double] $Minimum = 0, [double] $Maximum = [double]::PositiveInfinity, [switch] $ExcludeMinimum)
    # A number as it is (its text would round a double to 15 digits); text parsed invariantly.
    $number = [double]::NaN
    if ($Value -is [string]) {
        $parsed = 0.0
        if ([double]::TryParse($Value, [Globalization.NumberStyles]::Float, [Globalization.CultureInfo]::InvariantCulture, [ref] $parsed)) { $number = $parsed }
    }
    elseif ($Value -is [ValueType] -and $Value -isnot [bool] -and $Value -isnot [char]) { try { $number = [double]$Value } catch { $number = [double]::NaN } }
    if ([double]::IsNaN($number)) {
        throw (New-AssertionInputError -ErrorId 'BadBound' -Target $Value -Message "$Assertion needs a number for $Name, but got '$Value'.")
    }
    $low = if ($ExcludeMinimum) { $number -le $Minimum } else { $number -lt $Minimum }
    if ($low -or $number -gt $Maximum) {
        $range = if ([double]::IsPositiveInfinity($Maximum)) { "$(if ($ExcludeMinimum) { 'greater than' } else { 'at least' }) $Minimum" } else { "between $Minimum and $Maximum" }
        throw (New-AssertionInputError -ErrorId 'BadBound' -Target $Value -Message "$Assertion needs $Name $range, but got $(Format-Number $number).")
    }
    $number
}

function Format-Number([double] $Value) {
    $Value.ToString('0.####', [Globalization.CultureInfo]::InvariantCulture)
}

# The value found, as short as it can be while still differing from the value expected.
function Format-Found([double] $Found, [double] $Expected) {
    $short = Format-Number $Found
    if ($Found -ne $Expected -and $short -eq (Format-Number $Expected)) { return $Found.ToString('R', [Globalization.CultureInfo]::InvariantCulture) }
    $short
}

# What an assertion found: whether it holds, and the words of its message.
function New-Verdict([bool] $Succeeded, [string] $Model, [string] $Claim, [string] $Found) {
    [pscustomobject]@{ Succeeded = $Succeeded; Model = $Model; Claim = $Claim; Found = $Found }
}

# "Expected model 'm' to have … because …, but it has …." (Pester's wording of -Because).
function Format-AssertionMessage {
    param($Verdict, [string] $Because, [switch] $Negate)
    $reason = "$Because".Trim()
    if ($reason) { $reason = if ($reason -match '^because\b') { " $reason" } else { " because $reason" } }
    "Expected model '$($Verdict.Model)' $(if ($Negate) { 'not ' })to $($Verdict.Claim)$reason, but it $($Verdict.Found)."
}

# Throws a failed verdict as Pester 5 and 6 throw their own assertion failures (Pester.Factory's
# CreateShouldErrorRecord): an Exception with the message, error id 'PesterAssertionFailed',
# category InvalidResult, and the message, file and line in a dictionary as the target, which
# Pester reads to report the failure at the assertion's line. 'throw' and not
# ThrowTerminatingError, which would append the command's name to the error id.
function Assert-Verdict {
    param($Verdict, [string] $Because, [Management.Automation.InvocationInfo] $Invocation)
    if ($Verdict.Succeeded) { return }
    $message = Format-AssertionMessage -Verdict $Verdict -Because $Because
    $target = [Collections.Generic.Dictionary[string, object]]::new()
    $target['Message'] = $message
    $target['File'] = $Invocation.ScriptName
    $target['Line'] = "$($Invocation.ScriptLineNumber)"
    $target['LineText'] = "$($Invocation.Line)".TrimEnd([Environment]::NewLine.ToCharArray())
    $target['Terminating'] = $true
    throw [Management.Automation.ErrorRecord]::new([Exception]::new($message), 'PesterAssertionFailed',
        [Management.Automation.ErrorCategory]::InvalidResult, $target)
}

# The result a Pester 5 Should operator returns; -Not turns the verdict around.
function ConvertTo-ShouldResult {
    param($Verdict, [string] $Because, [switch] $Negate)
    $succeeded = $Verdict.Succeeded -xor [bool]$Negate
    [pscustomobject]@{
        Succeeded      = $succeeded
        FailureMessage = if (-not $succeeded) { Format-AssertionMessage -Verdict $Verdict -Because $Because -Negate:$Negate }
    }
}

# Asserts the verdict $GetVerdict gives for every object piped in, else for -Actual. An empty
# pipeline is an error, since a test that asserts on nothing would pass without checking anything.
function Invoke-Assertion {
    param([string] $Assertion, [scriptblock] $GetVerdict, [Management.Automation.InvocationInfo] $Invocation, [object[]] $Piped, $Single, [string] $Reason)
    $items = $Piped
    if (-not $Invocation.ExpectingInput) { $items = @(, $Single) }
    if ($items.Count -eq 0) {
        throw (New-AssertionInputError -ErrorId 'NoInput' -Target $null -Message "$Assertion got nothing to assert on: pipe a model in or give -Actual.")
    }
    foreach ($item in $items) { Assert-Verdict (& $GetVerdict $item) $Reason $Invocation }
}

# ---- the four checks: one verdict each, shared by Assert-Mlp* and the Pester 5 operators -----

function Get-SparsityVerdict {
    param([string] $Assertion, $Actual, $Expected, [switch] $AtLeast, [switch] $AtMost, $Tolerance = $script:DefaultSparsityTolerance)
    if ($AtLeast -and $AtMost) {
        throw (New-AssertionInputError -ErrorId 'AtLeastAndAtMost' -Target $Expected -Message "$Assertion takes -AtLeast or -AtMost, not both (without either it checks the sparsity within -Tolerance).")
    }
    $want = ConvertTo-AssertedBound $Expected $Assertion 'a sparsity' -Maximum 1
    $tol = ConvertTo-AssertedBound $Tolerance $Assertion '-Tolerance' -Maximum 1
    $report = Get-AssertedReport $Actual $Assertion
    $found = $report.OverallSparsity
    $ok = if ($AtLeast) { $found -ge $want - $tol } elseif ($AtMost) { $found -le $want + $tol } else { [Math]::Abs($found - $want) -le $tol }
    $claim = if ($AtLeast) { "have overall sparsity at least $(Format-Number $want) (tolerance $(Format-Number $tol))" }
    elseif ($AtMost) { "have overall sparsity at most $(Format-Number $want) (tolerance $(Format-Number $tol))" }
    else { "have overall sparsity $(Format-Number $want) ± $(Format-Number $tol)" }
    New-Verdict $ok $report.Model $claim "has $(Format-Found $found $want)"
}

function Get-AccuracyVerdict {
    param([string] $Assertion, $Actual, $Expected, $On, [switch] $Loss)
    $want = if ($Loss) { ConvertTo-AssertedBound $Expected $Assertion 'a loss' } else { ConvertTo-AssertedBound $Expected $Assertion 'an accuracy' -Maximum 1 }
    if ($null -ne $On -and $On -isnot [SparsePrune.Dataset]) {
        throw (New-AssertionInputError -ErrorId 'NotADataset' -Target $On -Message "$Assertion -On takes a data set (e.g. -On (Get-Dataset Digits)), but got a $($On.GetType().FullName).")
    }
    # A report given as it is was measured on its own data set; -On needs the model.
    $report = Get-AssertedReport $Actual $Assertion -Dataset $On -ModelOnly:($null -ne $On)
    $metric = if ($Loss) { 'Loss' } else { 'Accuracy' }
    if ($null -eq $report.Metric) {
        throw (New-AssertionInputError -ErrorId 'NoMetric' -Target $Actual -Message "$Assertion cannot measure model '$($report.Model)': it has no data set. Give one with -On (e.g. -On (Get-Dataset Digits)).")
    }
    if ($report.MetricName -ne $metric) {
        $use = if ($report.MetricName -eq 'Loss') { 'a regression, measured by its loss: add -Loss (lower is better)' } else { "measured by its $($report.MetricName.ToLowerInvariant()): leave -Loss out" }
        throw (New-AssertionInputError -ErrorId 'WrongMetric' -Target $Actual -Message "$Assertion$(if ($Loss) { ' -Loss' }): model '$($report.Model)' is $use.")
    }
    $found = [double]$report.Metric
    $ok = if ($Loss) { $found -le $want } else { $found -ge $want }
    $claim = "have $($metric.ToLowerInvariant()) at $(if ($Loss) { 'most' } else { 'least' }) $(Format-Number $want)$(if ($report.Dataset) { " on '$($report.Dataset)'" })"
    New-Verdict $ok $report.Model $claim "has $(Format-Found $found $want)"
}

function Get-StoredSizeVerdict {
    param([string] $Assertion, $Actual, $Expected)
    $want = ConvertTo-AssertedBound $Expected $Assertion 'a size in bytes' -ExcludeMinimum
    $report = Get-AssertedReport $Actual $Assertion
    $found = [long]$report.StoredBytes
    New-Verdict ($found -lt $want) $report.Model "store its weights in fewer than $(Format-Number $want) bytes" "stores them in $found bytes"
}

function Get-CompressionRatioVerdict {
    param([string] $Assertion, $Actual, $Expected)
    $want = ConvertTo-AssertedBound $Expected $Assertion 'a compression ratio' -ExcludeMinimum
    $report = Get-AssertedReport $Actual $Assertion
    $found = [double]$report.CompressionRatio
    New-Verdict ($found -ge $want) $report.Model "have a compression ratio of at least $(Format-Number $want)" "has $(Format-Found $found $want)"
}

# ---- the assertions ----------------------------------------------------------------------------

function Assert-MlpSparsity {
    <#
    .SYNOPSIS
        Asserts a model's overall weight sparsity (Should-HaveSparsity).
    .DESCRIPTION
        Reads OverallSparsity from Get-CompressionReport: the share of the model's original
        weights that are zero or deleted (1 − NonZeroWeights / BaselineWeights), so it counts
        masked weights (Set-Sparsity) and deleted connections and neurons (Invoke-Pruning) alike.
        Without -AtLeast or -AtMost the sparsity must be the value within -Tolerance. A failure
        throws the error Pester's own assertions throw (PesterAssertionFailed), saying the value
        found, the value expected and the model's name. Under Pester 5 the same check is
        'Should -HaveSparsity' (see Register-MlpShouldOperator).
    .PARAMETER Expected
        The sparsity, from 0 to 1.
    .PARAMETER Actual
        The model (SparsePrune.Mlp) or its CompressionReport; usually piped in.
    .PARAMETER AtLeast
        Passes when the sparsity is at least the value (less the tolerance).
    .PARAMETER AtMost
        Passes when the sparsity is at most the value (plus the tolerance).
    .PARAMETER Tolerance
        How far the sparsity may miss the value: 0.005 unless given.
    .PARAMETER Because
        Why the test expects it; it goes into the failure message.
    .EXAMPLE
        $model = New-Mlp 64,32,10 -Seed 1 | Set-Sparsity -Sparsity 0.9
        $model | Should-HaveSparsity 0.9
        $model | Should-HaveSparsity 0.8 -AtLeast -Because 'the model must fit the device'

        Both pass: 90 % of the weights are masked. 'Should-HaveSparsity 0.95 -AtLeast' would fail
        with: Expected model 'mlp-64-32-10' to have overall sparsity at least 0.95 (tolerance
        0.005), but it has 0.8999.
    .LINK
        Get-CompressionReport
    #>
    [CmdletBinding()]
    [Alias('Should-HaveSparsity')]
    param(
        [Parameter(Mandatory, Position = 0)] $Expected,
        [Parameter(Position = 1, ValueFromPipeline)] $Actual,
        [switch] $AtLeast,
        [switch] $AtMost,
        $Tolerance = $script:DefaultSparsityTolerance,
        [string] $Because
    )
    end { Invoke-Assertion 'Should-HaveSparsity' { param($item) Get-SparsityVerdict 'Should-HaveSparsity' $item $Expected -AtLeast:$AtLeast -AtMost:$AtMost -Tolerance $Tolerance } $MyInvocation @($input) $Actual $Because }
}

function Assert-MlpAccuracy {
    <#
    .SYNOPSIS
        Asserts a model's accuracy on a data set, or its loss with -Loss (Should-HaveAccuracy).
    .DESCRIPTION
        Reads the metric Get-CompressionReport -Dataset gives: the accuracy on the data set's
        test split for a classifier, which must be at least the value; with -Loss, the loss (mean
        squared error) of a regression model, which must be at most the value (lower is better).
        Without -On the model is measured on the data set it was trained on, and a
        CompressionReport may be given instead of a model (its metric is used as it is). A
        failure throws the error Pester's own assertions throw (PesterAssertionFailed), saying
        the value found, the value expected and the model's name. Under Pester 5 the same check
        is 'Should -HaveAccuracy' (see Register-MlpShouldOperator).
    .PARAMETER Expected
        The lowest accuracy (0 to 1) or, with -Loss, the highest loss.
    .PARAMETER Actual
        The model (SparsePrune.Mlp), or its CompressionReport when -On is not given; usually piped in.
    .PARAMETER On
        The data set to measure on (Get-Dataset, Import-Dataset, ConvertTo-Dataset).
    .PARAMETER Loss
        For a regression model: the value is the highest loss allowed.
    .PARAMETER Because
        Why the test expects it; it goes into the failure message.
    .EXAMPLE
        $digits = Get-Dataset Digits
        $model = New-Mlp 64,32,10 -Seed 1 | Invoke-Training -Dataset $digits -Epochs 5
        $model | Should-HaveAccuracy 0.8 -On $digits -Because 'pruning must not cost the model its use'

        Passes when the accuracy on Digits' test split is at least 0.8.
    .EXAMPLE
        $data = Get-Dataset Synthetic -Seed 1
        $model = New-Mlp 10,16,1 -Seed 1 | Invoke-Training -Dataset $data -Epochs 5
        $model | Should-HaveAccuracy -Loss 10 -On $data

        A regression model: passes when its loss on the test split is at most 10.
    .LINK
        Get-CompressionReport
    .LINK
        Measure-Mlp
    #>
    [CmdletBinding()]
    [Alias('Should-HaveAccuracy')]
    param(
        [Parameter(Mandatory, Position = 0)] $Expected,
        [Parameter(Position = 1, ValueFromPipeline)] $Actual,
        $On,
        [switch] $Loss,
        [string] $Because
    )
    end { Invoke-Assertion 'Should-HaveAccuracy' { param($item) Get-AccuracyVerdict 'Should-HaveAccuracy' $item $Expected -On $On -Loss:$Loss } $MyInvocation @($input) $Actual $Because }
}

function Assert-MlpStoredSize {
    <#
    .SYNOPSIS
        Asserts that a model's stored weights take fewer bytes than a size (Should-BeSmallerThan).
    .DESCRIPTION
        Reads StoredBytes from Get-CompressionReport: the bytes a model file (Export-Mlp) spends
        on the layers' weights and biases, which must be below the value (1MB, 200KB, …).
        Metadata, header and checksum are not counted. A failure throws the error Pester's own
        assertions throw (PesterAssertionFailed), saying the value found, the value expected
        and the model's name. Under Pester 5 the same check is 'Should -BeSmallerThan' (see
        Register-MlpShouldOperator).
    .PARAMETER Expected
        The size in bytes the stored weights must stay below.
    .PARAMETER Actual
        The model (SparsePrune.Mlp) or its CompressionReport; usually piped in.
    .PARAMETER Because
        Why the test expects it; it goes into the failure message.
    .EXAMPLE
        $model = New-Mlp 64,128,10 -Seed 1 | Invoke-Pruning -Ratio 0.9
        $model | Should-BeSmallerThan 10KB -Because 'it ships in the firmware image'

        Passes: with 90 % of its 9,472 weights deleted, the model stores its weights and biases
        in 4,941 bytes (38,440 dense).
    .LINK
        Get-CompressionReport
    .LINK
        Export-Mlp
    #>
    [CmdletBinding()]
    [Alias('Should-BeSmallerThan')]
    param(
        [Parameter(Mandatory, Position = 0)] $Expected,
        [Parameter(Position = 1, ValueFromPipeline)] $Actual,
        [string] $Because
    )
    end { Invoke-Assertion 'Should-BeSmallerThan' { param($item) Get-StoredSizeVerdict 'Should-BeSmallerThan' $item $Expected } $MyInvocation @($input) $Actual $Because }
}

function Assert-MlpCompressionRatio {
    <#
    .SYNOPSIS
        Asserts a model's compression ratio (Should-HaveCompressionRatio).
    .DESCRIPTION
        Reads CompressionRatio from Get-CompressionReport: the dense float32 bytes of the model
        before any pruning over the bytes its weights are stored in now (StoredBytes), which must
        be at least the value. A failure throws the error Pester's own assertions throw
        (PesterAssertionFailed), saying the value found, the value expected and the model's
        name. Under Pester 5 the same check is 'Should -HaveCompressionRatio' (see
        Register-MlpShouldOperator).
    .PARAMETER Expected
        The lowest compression ratio (10 for 10×).
    .PARAMETER Actual
        The model (SparsePrune.Mlp) or its CompressionReport; usually piped in.
    .PARAMETER Because
        Why the test expects it; it goes into the failure message.
    .EXAMPLE
        $model = New-Mlp 64,128,10 -Seed 1 | Invoke-Pruning -Ratio 0.9
        $model | Get-CompressionReport | Should-HaveCompressionRatio 5

        Passes: with 90 % of the connections deleted, the weights and biases are stored in 7.8
        times fewer bytes than the dense model's.
    .LINK
        Get-CompressionReport
    #>
    [CmdletBinding()]
    [Alias('Should-HaveCompressionRatio')]
    param(
        [Parameter(Mandatory, Position = 0)] $Expected,
        [Parameter(Position = 1, ValueFromPipeline)] $Actual,
        [string] $Because
    )
    end { Invoke-Assertion 'Should-HaveCompressionRatio' { param($item) Get-CompressionRatioVerdict 'Should-HaveCompressionRatio' $item $Expected } $MyInvocation @($input) $Actual $Because }
}

# ---- Pester 5: the same checks as Should operators ----------------------------------------------

# Pester 5 calls an operator's test with -ActualValue, -Negate, -CallerSessionState (left in
# $args) and the operator's own parameters, which become parameters of Should: the first one,
# ExpectedValue (the name Pester's operators share), takes the positional value.
$script:ShouldOperators = @(
    [pscustomobject]@{ Name = 'HaveSparsity'; Function = 'Assert-MlpSparsity'; Test = {
            param($ActualValue, $ExpectedValue, [switch] $Negate, [string] $Because, [switch] $AtLeast, [switch] $AtMost, $Tolerance = $script:DefaultSparsityTolerance)
            ConvertTo-ShouldResult (Get-SparsityVerdict 'Should -HaveSparsity' $ActualValue $ExpectedValue -AtLeast:$AtLeast -AtMost:$AtMost -Tolerance $Tolerance) $Because -Negate:$Negate
        }
    }
    [pscustomobject]@{ Name = 'HaveAccuracy'; Function = 'Assert-MlpAccuracy'; Test = {
            param($ActualValue, $ExpectedValue, [switch] $Negate, [string] $Because, $On, [switch] $Loss)
            ConvertTo-ShouldResult (Get-AccuracyVerdict 'Should -HaveAccuracy' $ActualValue $ExpectedValue -On $On -Loss:$Loss) $Because -Negate:$Negate
        }
    }
    [pscustomobject]@{ Name = 'BeSmallerThan'; Function = 'Assert-MlpStoredSize'; Test = {
            param($ActualValue, $ExpectedValue, [switch] $Negate, [string] $Because)
            ConvertTo-ShouldResult (Get-StoredSizeVerdict 'Should -BeSmallerThan' $ActualValue $ExpectedValue) $Because -Negate:$Negate
        }
    }
    [pscustomobject]@{ Name = 'HaveCompressionRatio'; Function = 'Assert-MlpCompressionRatio'; Test = {
            param($ActualValue, $ExpectedValue, [switch] $Negate, [string] $Because)
            ConvertTo-ShouldResult (Get-CompressionRatioVerdict 'Should -HaveCompressionRatio' $ActualValue $ExpectedValue) $Because -Negate:$Negate
        }
    }
)

function Get-Pester5 {
    # -All: a module's own Get-Module sees only what that module imported.
    Get-Module -Name Pester -All | Where-Object { $_.Version.Major -eq 5 } | Sort-Object Version -Descending | Select-Object -First 1
}

function Register-MlpShouldOperator {
    <#
    .SYNOPSIS
        Registers SparsePrune's assertions as Pester 5 Should operators.
    .DESCRIPTION
        Adds -HaveSparsity, -HaveAccuracy, -BeSmallerThan and -HaveCompressionRatio to Pester 5's
        Should (Add-ShouldOperator), so that tests write '$model | Should -HaveSparsity 0.9',
        with -Not and -Because; each takes the parameters of its function (Assert-MlpSparsity,
        Assert-MlpAccuracy, Assert-MlpStoredSize, Assert-MlpCompressionRatio) and 'Get-ShouldOperator
        -Name HaveSparsity' shows that function's help.

        Importing SparsePrune calls this when Pester 5 is already loaded. Call it yourself when
        Pester 5 is imported after SparsePrune. It can be called any number of times: an
        operator already registered is left alone, and a name another module has taken is left
        to it, with a warning. Pester 6 needs none of this: its assertions are functions, and
        SparsePrune exports its own as Should-HaveSparsity and so on.
    .EXAMPLE
        Import-Module SparsePrune
        Import-Module Pester -RequiredVersion 5.7.1
        Register-MlpShouldOperator
        New-Mlp 64,32,10 -Seed 1 | Set-Sparsity -Sparsity 0.5 | Should -HaveSparsity 0.5

        Pester 5 was imported after SparsePrune, so the operators are registered by hand.
    .LINK
        Assert-MlpSparsity
    #>
    [CmdletBinding()]
    [OutputType([void])]
    param()
    $pester = Get-Pester5
    if (-not $pester) {
        $message = 'Register-MlpShouldOperator adds Should operators to Pester 5, which is not loaded: import it first (Import-Module Pester -MaximumVersion 5.99). Under Pester 6 use Should-HaveSparsity, Should-HaveAccuracy, Should-BeSmallerThan and Should-HaveCompressionRatio.'
        $PSCmdlet.ThrowTerminatingError([Management.Automation.ErrorRecord]::new([InvalidOperationException]::new($message),
                'SparsePrune.Assertion.NoPester5', [Management.Automation.ErrorCategory]::ObjectNotFound, $null))
    }
    $taken = @(& $pester.ExportedCommands['Get-ShouldOperator'] | ForEach-Object { $_.Name; $_.Alias -split ',\s*' } | Where-Object { $_ })
    foreach ($op in $script:ShouldOperators) {
        # Pester 5 leaves an operator alone when the same test is registered under its name
        # already (an earlier import of this module, even one that -Force replaced) and refuses
        # a name another test holds.
        try { & $pester.ExportedCommands['Add-ShouldOperator'] -Name $op.Name -Test $op.Test -InternalName $op.Function }
        catch {
            if ($op.Name -in $taken) { Write-Warning "Pester already has a Should operator -$($op.Name) that is not SparsePrune's, so SparsePrune's is not registered: use Should-$($op.Name) ($($op.Function)) instead." }
            # Pester 5 has room for 32 operators (PowerShell's limit of parameter sets), 26 its own.
            else { Write-Warning "Pester could not register Should -$($op.Name) ($_); use Should-$($op.Name) ($($op.Function)) instead." }
        }
    }
}

if (Get-Pester5) { Register-MlpShouldOperator }

Export-ModuleMember -Function Assert-MlpSparsity, Assert-MlpAccuracy, Assert-MlpStoredSize, Assert-MlpCompressionRatio, Register-MlpShouldOperator `
    -Alias Should-HaveSparsity, Should-HaveAccuracy, Should-BeSmallerThan, Should-HaveCompressionRatio
