# Pester assertions for SparsePrune models, loaded with the module (a NestedModule of the
# manifest). Each assertion is a function with an approved verb (Assert-Mlp*), so that
# Import-Module stays free of the unapproved-verb warning, exported under the Should-* alias that
# Pester 6 users write. Under Pester 5 the same checks are registered as Should operators
# (Should -HaveSparsity …) by Register-MlpShouldOperator. Neither path needs Pester to be loaded
# for the checks themselves: a failure is the error record Pester's own assertions throw.
Set-StrictMode -Version Latest

# The two-sided sparsity check allows this much unless given -Tolerance: sparsity targets become
# floor(fraction × N) weights, so a model "at 0.9" may read 0.8998. One-sided checks allow nothing.
$script:DefaultSparsityTolerance = 0.005

# "Exactly" still allows a few units in the last place of the values' scale: a bound such as 0.9
# is not a binary fraction, and the sum or product that brings it to the found value rounds. A
# count over a baseline of N weights moves in steps of 1/N, far above this.
$script:Ulps = 8 * [Math]::Pow(2, -52)

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
        $got = if ($null -eq $Value) { '$null' } else { "'$Value'" }
        throw (New-AssertionInputError -ErrorId 'BadBound' -Target $Value -Message "$Assertion needs a number for $Name, but got $got.")
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

# How far the value found lies from the one it is held against: '0.004 below', '12 bytes above'.
function Format-Difference([double] $Found, [double] $Expected, [string] $Unit) {
    $d = $Found - $Expected
    if ($d -eq 0) { return 'exactly that' }
    $size = Format-Number ([Math]::Abs($d))
    # A difference too small for four decimals still shows.
    if ($size -eq '0') { $size = [Math]::Abs($d).ToString('G3', [Globalization.CultureInfo]::InvariantCulture) }
    "$size$(if ($Unit) { " $Unit" }) $(if ($d -gt 0) { 'above' } else { 'below' })"
}

# Found at least (at most) the bound, exactly but for a few units in the last place of $Scale,
# the size of the values compared (see $script:Ulps).
function Test-AtLeast([double] $Found, [double] $Bound, [double] $Scale = 1) { $Found -ge $Bound - $script:Ulps * $Scale }
function Test-AtMost([double] $Found, [double] $Bound, [double] $Scale = 1) { $Found -le $Bound + $script:Ulps * $Scale }
function Get-Scale([double[]] $Values) { [Math]::Max(1, ($Values | ForEach-Object { [Math]::Abs($_) } | Measure-Object -Maximum).Maximum) }

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

# ---- the checks: one verdict each, shared by Assert-Mlp* and the Pester 5 operators ----------

# -Tolerance applies when given; without it the two-sided check allows the default and -AtLeast /
# -AtMost allow nothing, so that '-AtLeast 0.9' never passes a model at 0.896.
function Get-SparsityVerdict {
    param([string] $Assertion, $Actual, $Expected, [switch] $AtLeast, [switch] $AtMost, $Tolerance)
    if ($AtLeast -and $AtMost) {
        throw (New-AssertionInputError -ErrorId 'AtLeastAndAtMost' -Target $Expected -Message "$Assertion takes -AtLeast or -AtMost, not both (without either it checks the sparsity within -Tolerance).")
    }
    $want = ConvertTo-AssertedBound $Expected $Assertion 'a sparsity' -Maximum 1
    $tol = if ($PSBoundParameters.ContainsKey('Tolerance')) { ConvertTo-AssertedBound $Tolerance $Assertion '-Tolerance' -Maximum 1 }
    elseif ($AtLeast -or $AtMost) { 0.0 } else { $script:DefaultSparsityTolerance }
    $report = Get-AssertedReport $Actual $Assertion
    # Zeros over baseline, one rounding: the report's 1 - NonZero/Baseline loses the last digits
    # of a small sparsity to the subtraction.
    $found = if ($report.BaselineWeights -gt 0) { [double]($report.BaselineWeights - $report.NonZeroWeights) / $report.BaselineWeights } else { 0.0 }
    $ok = if ($AtLeast) { Test-AtLeast $found ($want - $tol) } elseif ($AtMost) { Test-AtMost $found ($want + $tol) }
    else { Test-AtMost ([Math]::Abs($found - $want)) $tol }
    $allowing = if ($tol -gt 0) { " (tolerance $(Format-Number $tol))" }
    $claim = if ($AtLeast) { "have overall sparsity at least $(Format-Number $want)$allowing" }
    elseif ($AtMost) { "have overall sparsity at most $(Format-Number $want)$allowing" }
    else { "have overall sparsity $(Format-Number $want) ± $(Format-Number $tol)" }
    # Set-Sparsity and Invoke-Pruning count floor(fraction x N) per layer: a shortfall of less than
    # one weight per layer is that rounding, which the user should hear about, not puzzle over.
    $note = ''
    if (-not $ok -and $AtLeast -and $report.BaselineWeights -gt 0) {
        $short = ($want - $tol) * $report.BaselineWeights - ($report.BaselineWeights - $report.NonZeroWeights)
        if ($short -lt @($report.Layers).Count) {
            $note = " That is less than one weight per layer: Set-Sparsity and Invoke-Pruning zero floor(fraction x weights) in each layer, so a model set to $(Format-Number $want) sits just below it. Check it two-sided (without -AtLeast), or give -Tolerance."
        }
    }
    New-Verdict $ok $report.Model $claim "has $(Format-Found $found $want): $(Format-Difference $found $want).$note".TrimEnd('.')
}

# A report's metric, checked to be the one the assertion names (-Loss for a regression).
function Get-AssertedMetric {
    param($Report, $Actual, [string] $Assertion, [switch] $Loss)
    $metric = if ($Loss) { 'Loss' } else { 'Accuracy' }
    if ($null -eq $Report.Metric) {
        throw (New-AssertionInputError -ErrorId 'NoMetric' -Target $Actual -Message "$Assertion cannot measure model '$($Report.Model)': it has no data set. Give one with -On (e.g. -On (Get-Dataset Digits)).")
    }
    if ($Report.MetricName -ne $metric) {
        $use = if ($Report.MetricName -eq 'Loss') { 'a regression, measured by its loss: add -Loss (lower is better)' } else { "measured by its $($Report.MetricName.ToLowerInvariant()): leave -Loss out" }
        throw (New-AssertionInputError -ErrorId 'WrongMetric' -Target $Actual -Message "$Assertion$(if ($Loss) { ' -Loss' }): model '$($Report.Model)' is $use.")
    }
    [double]$Report.Metric
}

function Assert-DatasetArgument([string] $Assertion, $On) {
    if ($null -ne $On -and $On -isnot [SparsePrune.Dataset]) {
        throw (New-AssertionInputError -ErrorId 'NotADataset' -Target $On -Message "$Assertion -On takes a data set (e.g. -On (Get-Dataset Digits)), but got a $($On.GetType().FullName).")
    }
}

function Get-AccuracyVerdict {
    param([string] $Assertion, $Actual, $Expected, $On, [switch] $Loss)
    $want = if ($Loss) { ConvertTo-AssertedBound $Expected $Assertion 'a loss' } else { ConvertTo-AssertedBound $Expected $Assertion 'an accuracy' -Maximum 1 }
    Assert-DatasetArgument $Assertion $On
    # A report given as it is was measured on its own data set; -On needs the model.
    $report = Get-AssertedReport $Actual $Assertion -Dataset $On -ModelOnly:($null -ne $On)
    $found = Get-AssertedMetric $report $Actual $Assertion -Loss:$Loss
    $ok = if ($Loss) { Test-AtMost $found $want (Get-Scale $found, $want) } else { Test-AtLeast $found $want }
    $metric = if ($Loss) { 'loss' } else { 'accuracy' }
    $claim = "have $metric at $(if ($Loss) { 'most' } else { 'least' }) $(Format-Number $want)$(if ($report.Dataset) { " on '$($report.Dataset)'" })"
    New-Verdict $ok $report.Model $claim "has $(Format-Found $found $want): $(Format-Difference $found $want)"
}

# The relative form: the model against a reference (the dense model it was made from), both
# measured on the same rows. -Within is accuracy points below the reference, or with -Loss the
# share by which the loss may rise above the reference's (0.1: 10 %); doing better always passes.
function Get-RelativeAccuracyVerdict {
    param([string] $Assertion, $Actual, $Within, $Of, $On, [switch] $Loss)
    $allowed = if ($Loss) { ConvertTo-AssertedBound $Within $Assertion '-Within (the share the loss may rise, 0.1 for 10 %)' }
    else { ConvertTo-AssertedBound $Within $Assertion '-Within (the accuracy the model may lose, 0.01 for one point)' -Maximum 1 }
    if ($Of -isnot [SparsePrune.Mlp]) {
        $what = if ($null -eq $Of) { '$null' } else { "a $($Of.GetType().FullName)" }
        throw (New-AssertionInputError -ErrorId 'ReferenceNotAModel' -Target $Of -Message "$Assertion -Of takes the model to compare with (a SparsePrune.Mlp, e.g. the dense model before pruning), but got $what.")
    }
    Assert-DatasetArgument $Assertion $On
    if ($Actual -is [SparsePrune.CompressionReport]) {
        throw (New-AssertionInputError -ErrorId 'ReportWithReference' -Target $Actual -Message "$Assertion -Of measures the model and the reference on the same rows, but got a CompressionReport, which was measured already: pipe the model in.")
    }
    if ($Actual -is [SparsePrune.Mlp]) {
        $a = "'$($Actual.Name)'"; $r = "'$($Of.Name)'"
        $differ = @(
            if ($Actual.Task -ne $Of.Task) { "$a is a $($Actual.Task), $r a $($Of.Task)" }
            if ($Actual.InputFeatures -ne $Of.InputFeatures) { "$a takes $($Actual.InputFeatures) inputs, $r $($Of.InputFeatures)" }
            if ($Actual.Outputs -ne $Of.Outputs) { "$a has $($Actual.Outputs) outputs, $r $($Of.Outputs)" }
        ) -replace '\b1 (input|output)s\b', '1 $1'
        if ($differ) {
            throw (New-AssertionInputError -ErrorId 'ReferenceMismatch' -Target $Of -Message "$Assertion -Of compares models of the same task, inputs and outputs on the same data, but $($differ -join '; '). Give -Of the model this one was made from (e.g. the dense model before pruning).")
        }
        # Without -On both are measured on the model's own data set, which must be the reference's too.
        if ($null -eq $On -and $null -ne $Actual.Dataset) {
            if ($null -eq $Of.Dataset) {
                throw (New-AssertionInputError -ErrorId 'NoReferenceDataset' -Target $Of -Message "$Assertion -Of: the reference model '$($Of.Name)' carries no data set, so it cannot be measured on the rows of model '$($Actual.Name)' without -On. Give -On to measure both on the same data set (e.g. -On (Get-Dataset $($Actual.Dataset.Name))).")
            }
            if (-not [object]::ReferenceEquals($Actual.Dataset, $Of.Dataset)) {
                throw (New-AssertionInputError -ErrorId 'DifferentDatasets' -Target $Of -Message "$Assertion -Of: model '$($Actual.Name)' and the reference '$($Of.Name)' carry different data sets ('$($Actual.Dataset.Name)' and '$($Of.Dataset.Name)', two separate loads, which may split or scale the rows differently). Give -On to measure both on the same rows (e.g. -On `$digits).")
            }
        }
    }
    $data = if ($null -ne $On) { $On } elseif ($Actual -is [SparsePrune.Mlp]) { $Actual.Dataset }
    $report = Get-AssertedReport $Actual $Assertion -Dataset $data -ModelOnly
    $found = Get-AssertedMetric $report $Actual $Assertion -Loss:$Loss
    $base = [double](Get-CompressionReport -Model $Of -Dataset $data -ErrorAction Stop).Metric
    $on = if ($report.Dataset) { " on '$($report.Dataset)'" }
    if ($Loss) {
        $bound = $base * (1 + $allowed)
        $ok = Test-AtMost $found $bound (Get-Scale $found, $bound)
        $claim = "have loss within $(Format-Number (100 * $allowed)) % of model '$($Of.Name)' ($(Format-Number $base), so at most $(Format-Number $bound))$on"
        $rise = if ($base -ne 0 -and $found -ne $base) { " ($(([Math]::Abs(100 * ($found - $base) / $base)).ToString('0.##', [Globalization.CultureInfo]::InvariantCulture)) %)" }
        $has = "has $(Format-Found $found $base): $(Format-Difference $found $base)$rise"
    }
    else {
        $ok = Test-AtLeast ($found - $base) (-$allowed)
        $claim = "have accuracy within $(Format-Number $allowed) of model '$($Of.Name)' ($(Format-Number $base))$on"
        $has = "has $(Format-Found $found $base): $(Format-Difference $found $base)"
    }
    New-Verdict $ok $report.Model $claim $has
}

# The file's bytes (FileBytes, what Export-Mlp writes), or with -WeightsOnly the bytes the file spends on weights and biases (StoredBytes).
function Get-StoredSizeVerdict {
    param([string] $Assertion, $Actual, $Expected, [switch] $WeightsOnly)
    $want = ConvertTo-AssertedBound $Expected $Assertion 'a size in bytes' -ExcludeMinimum
    $report = Get-AssertedReport $Actual $Assertion
    if ($WeightsOnly) {
        $found = [long]$report.StoredBytes
        return New-Verdict ($found -lt $want) $report.Model "store its weights in fewer than $(Format-Number $want) bytes" "stores them in $found bytes: $(Format-Difference $found $want 'bytes')"
    }
    if ($report.FileBytes -le 0) {
        throw (New-AssertionInputError -ErrorId 'NoFileBytes' -Target $Actual -Message "$Assertion cannot check model '$($report.Model)': its file size is not known (the model cannot be written, or the report is a sweep result of an earlier release). Add -WeightsOnly to check the bytes of its weights.")
    }
    $found = [long]$report.FileBytes
    New-Verdict ($found -lt $want) $report.Model "have a file of fewer than $(Format-Number $want) bytes" "has a file of $found bytes: $(Format-Difference $found $want 'bytes')"
}

# The file's ratio (BaselineFileBytes / FileBytes), or with -WeightsOnly the weights' (BaselineDenseBytes / StoredBytes).
function Get-CompressionRatioVerdict {
    param([string] $Assertion, $Actual, $Expected, [switch] $WeightsOnly)
    $want = ConvertTo-AssertedBound $Expected $Assertion 'a compression ratio' -ExcludeMinimum
    $report = Get-AssertedReport $Actual $Assertion
    if ($WeightsOnly) {
        $found = [double]$report.WeightCompressionRatio
        $claim = "have a weight compression ratio of at least $(Format-Number $want)"
        $sizes = "$($report.BaselineDenseBytes) / $($report.StoredBytes) bytes of weights and biases"
    }
    else {
        if ($report.FileBytes -le 0) {
            throw (New-AssertionInputError -ErrorId 'NoFileBytes' -Target $Actual -Message "$Assertion cannot check model '$($report.Model)': its file size is not known (the model cannot be written, or the report is a sweep result of an earlier release). Add -WeightsOnly to check the weights-only ratio.")
        }
        $found = [double]$report.CompressionRatio
        $claim = "have a compression ratio of at least $(Format-Number $want)"
        $sizes = "$($report.BaselineFileBytes) / $($report.FileBytes) file bytes"
    }
    New-Verdict (Test-AtLeast $found $want (Get-Scale $found, $want)) $report.Model $claim "has $(Format-Found $found $want) ($sizes): $(Format-Difference $found $want)"
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

        Without -AtLeast or -AtMost it passes when the sparsity is within -Tolerance of the value
        (|sparsity − value| ≤ tolerance), 0.005 unless given. With -AtLeast it passes when the
        sparsity is at least the value (sparsity ≥ value), with -AtMost when it is at most the
        value (sparsity ≤ value): exactly, unless -Tolerance is given, which then moves the
        bound by that much (sparsity ≥ value − tolerance, sparsity ≤ value + tolerance).
        "Exactly" counts: the zero or deleted weights over the baseline's are compared with the
        value, allowing only for floating-point rounding, so 900 zeros of 1,000 weights pass
        -AtLeast 0.9 and -AtMost 0.9, and 899 fail -AtLeast 0.9.

        Set-Sparsity and Invoke-Pruning take floor(fraction × N) weights, so a model sparsified
        to 0.9 may sit just below 0.9 and fail -AtLeast 0.9: check such a target with the
        two-sided form, or give -Tolerance.

        A failure throws the error Pester's own assertions throw (PesterAssertionFailed), giving
        the model's name, the value expected, the value found and the difference. Under Pester 5
        the same check is 'Should -HaveSparsity' (see Register-MlpShouldOperator).
    .PARAMETER Expected
        The sparsity, from 0 to 1.
    .PARAMETER Actual
        The model (SparsePrune.Mlp) or its CompressionReport; usually piped in.
    .PARAMETER AtLeast
        Passes when the sparsity is at least the value: exactly, or less -Tolerance when given.
    .PARAMETER AtMost
        Passes when the sparsity is at most the value: exactly, or plus -Tolerance when given.
    .PARAMETER Tolerance
        How far the sparsity may miss the value, from 0 to 1. Without -AtLeast or -AtMost it is
        0.005 unless given; with either, 0 unless given.
    .PARAMETER Because
        Why the test expects it; it goes into the failure message.
    .EXAMPLE
        $model = New-Mlp 64,32,10 -Seed 1 | Set-Sparsity -Sparsity 0.9
        $model | Should-HaveSparsity 0.9
        $model | Should-HaveSparsity 0.8 -AtLeast -Because 'the model must fit the device'

        Both pass: 2,131 of the 2,368 weights are masked (floor(0.9 × 2,368)), a sparsity of
        0.89992, within 0.005 of 0.9 and above 0.8. 'Should-HaveSparsity 0.9 -AtLeast' would fail
        with: Expected model 'mlp-64-32-10' to have overall sparsity at least 0.9, but it has
        0.8999: 0.0001 below.
    .EXAMPLE
        $model = New-Mlp 64,32,10 -Seed 1 | Set-Sparsity -Sparsity 0.9
        $model | Should-HaveSparsity 0.9 -AtLeast -Tolerance 0.001

        Passes: -Tolerance lets the one-sided check accept a sparsity down to 0.899.
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
        $Tolerance,
        [string] $Because
    )
    end {
        # Only a -Tolerance given reaches the check: the default depends on the form.
        $toleranceGiven = @{}
        if ($PSBoundParameters.ContainsKey('Tolerance')) { $toleranceGiven.Tolerance = $Tolerance }
        Invoke-Assertion 'Should-HaveSparsity' { param($item) Get-SparsityVerdict 'Should-HaveSparsity' $item $Expected -AtLeast:$AtLeast -AtMost:$AtMost @toleranceGiven } $MyInvocation @($input) $Actual $Because
    }
}

function Assert-MlpAccuracy {
    <#
    .SYNOPSIS
        Asserts a model's accuracy, or a regression's loss, as a value or against another model (Should-HaveAccuracy).
    .DESCRIPTION
        Measures the model as Get-CompressionReport -Dataset does: the accuracy on the data set's
        test split for a classifier; with -Loss, the loss (mean squared error) of a regression
        model, where lower is better. Without -On the model is measured on the data set it was
        trained on.

        Should-HaveAccuracy 0.85 passes when the accuracy is at least 0.85 (accuracy ≥ 0.85);
        with -Loss, when the loss is at most the value (loss ≤ value). In this form a
        CompressionReport may be given instead of a model when -On is not: its metric is used
        as it is.

        Should-HaveAccuracy -Within 0.01 -Of $dense compares the model with a reference model,
        usually the dense model it was pruned from, and passes when its accuracy is at most
        0.01 below the reference's (accuracy ≥ reference accuracy − 0.01). With -Loss, -Within
        is the share by which the loss may rise: -Within 0.1 passes when the loss is at most 10 %
        above the reference's (loss ≤ reference loss × 1.1). A model that does better than the
        reference passes. Both models are measured on the same rows: those of -On, or else the
        model's own data set, which must then be the reference's as well (Copy-Mlp keeps it);
        a reference without a data set, or with another one, needs -On.

        Both forms compare exactly, allowing only for floating-point rounding. A failure throws
        the error Pester's own assertions throw (PesterAssertionFailed), giving the model's name,
        the value expected (and the reference's name and value), the value found and the
        difference. Under Pester 5 the same check is 'Should -HaveAccuracy' (see
        Register-MlpShouldOperator).
    .PARAMETER Expected
        The lowest accuracy (0 to 1) or, with -Loss, the highest loss.
    .PARAMETER Actual
        The model (SparsePrune.Mlp), or its CompressionReport when neither -On nor -Of is given;
        usually piped in.
    .PARAMETER Within
        With -Of: how much accuracy the model may lose against the reference (0.01 for one
        point, from 0 to 1); with -Loss, the share by which its loss may rise (0.1 for 10 %).
    .PARAMETER Of
        The reference model (SparsePrune.Mlp) to compare with, of the same task, inputs and
        outputs; usually the dense model before pruning (keep it with Copy-Mlp).
    .PARAMETER On
        The data set to measure on (Get-Dataset, Import-Dataset, ConvertTo-Dataset); with -Of,
        both models are measured on it.
    .PARAMETER Loss
        For a regression model: the value is the highest loss allowed; with -Of, -Within is the
        share by which the loss may rise above the reference's.
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
    .EXAMPLE
        $digits = Get-Dataset Digits
        $dense = New-Mlp 64,32,10 -Seed 1 -Name 'dense' | Invoke-Training -Dataset $digits -Epochs 5
        $pruned = $dense | Copy-Mlp -Name 'pruned' | Invoke-Pruning -Ratio 0.5 -FineTuneEpochs 2
        $pruned | Should-HaveAccuracy -Within 0.02 -Of $dense -Because 'pruning may cost two points'

        Passes when the pruned copy's accuracy on Digits (the data set both models carry) is at
        most 0.02 below the dense model's, or above it. A failure gives both accuracies and the
        difference, e.g.: Expected model 'pruned' to have accuracy within 0.02 of model 'dense'
        (0.85) on 'Digits' because pruning may cost two points, but it has 0.82: 0.03 below.
    .EXAMPLE
        $data = Get-Dataset Synthetic -Seed 1
        $dense = New-Mlp 10,16,1 -Seed 1 -Name 'dense' | Invoke-Training -Dataset $data -Epochs 5
        $pruned = $dense | Copy-Mlp -Name 'pruned' | Invoke-Pruning -Ratio 0.5
        $pruned | Should-HaveAccuracy -Loss -Within 0.1 -Of $dense -On $data

        A regression model: passes when the pruned copy's loss on the test split is at most 10 %
        above the dense model's.
    .LINK
        Get-CompressionReport
    .LINK
        Measure-Mlp
    #>
    [CmdletBinding(DefaultParameterSetName = 'Value')]
    [Alias('Should-HaveAccuracy')]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'Value')] $Expected,
        # Positional only beside -Expected, so that a value given with -Of is refused as such.
        [Parameter(Position = 1, ValueFromPipeline, ParameterSetName = 'Value')]
        [Parameter(ValueFromPipeline, ParameterSetName = 'Reference')] $Actual,
        [Parameter(Mandatory, ParameterSetName = 'Reference')] [AllowNull()] $Within,
        # A $null reference (a misspelt variable) gets the assertion's own error, not the binder's.
        [Parameter(Mandatory, ParameterSetName = 'Reference')] [AllowNull()] $Of,
        $On,
        [switch] $Loss,
        [string] $Because
    )
    end {
        $relative = $PSCmdlet.ParameterSetName -eq 'Reference'
        Invoke-Assertion 'Should-HaveAccuracy' {
            param($item)
            if ($relative) { Get-RelativeAccuracyVerdict 'Should-HaveAccuracy' $item $Within $Of -On $On -Loss:$Loss }
            else { Get-AccuracyVerdict 'Should-HaveAccuracy' $item $Expected -On $On -Loss:$Loss }
        } $MyInvocation @($input) $Actual $Because
    }
}

function Assert-MlpStoredSize {
    <#
    .SYNOPSIS
        Asserts that a model's file takes fewer bytes than a size (Should-BeSmallerThan): or, with -WeightsOnly, its weights.
    .DESCRIPTION
        Reads FileBytes from Get-CompressionReport: the bytes of the .spmlp file Export-Mlp writes
        for the model, metadata, header and checksum included, which must be below the value (1MB,
        200KB, …): a count of bytes, compared exactly (FileBytes < value). With -WeightsOnly it
        reads StoredBytes instead: the bytes the file spends on the layers' weights and biases
        alone. A failure throws the error Pester's own assertions throw (PesterAssertionFailed),
        giving the model's name, the value expected, the value found and the difference. Under
        Pester 5 the same check is 'Should -BeSmallerThan' (see Register-MlpShouldOperator).
    .PARAMETER Expected
        The size in bytes the file (or with -WeightsOnly, the stored weights) must stay below.
    .PARAMETER Actual
        The model (SparsePrune.Mlp) or its CompressionReport; usually piped in.
    .PARAMETER WeightsOnly
        Checks the bytes spent on weights and biases (StoredBytes) rather than the whole file's.
    .PARAMETER Because
        Why the test expects it; it goes into the failure message.
    .EXAMPLE
        $model = New-Mlp 64,128,10 -Seed 1 | Invoke-Pruning -Ratio 0.9
        $model | Should-BeSmallerThan 10KB -Because 'it ships in the firmware image'

        Passes: with 90 % of its 9,472 weights deleted, the model's file takes 5,858 bytes (its
        dense file 38,839).
    .EXAMPLE
        $model = New-Mlp 64,128,10 -Seed 1 | Invoke-Pruning -Ratio 0.9
        $model | Should-BeSmallerThan 5KB -WeightsOnly

        Passes: the same model stores its weights and biases in 4,941 bytes (38,440 dense).
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
        [switch] $WeightsOnly,
        [string] $Because
    )
    end { Invoke-Assertion 'Should-BeSmallerThan' { param($item) Get-StoredSizeVerdict 'Should-BeSmallerThan' $item $Expected -WeightsOnly:$WeightsOnly } $MyInvocation @($input) $Actual $Because }
}

function Assert-MlpCompressionRatio {
    <#
    .SYNOPSIS
        Asserts a model's compression ratio (Should-HaveCompressionRatio): its file's, or its weights'.
    .DESCRIPTION
        Reads CompressionRatio from Get-CompressionReport: the bytes of the dense float32 .spmlp
        file of the model at its baseline (before its first sparsify, prune or quantize step)
        over the bytes of its .spmlp file now (BaselineFileBytes / FileBytes, the file Export-Mlp
        writes, metadata and all), which must be at least the value (CompressionRatio ≥ value):
        exactly, allowing only for floating-point rounding, with no tolerance. With -WeightsOnly
        it reads WeightCompressionRatio instead: the layers' dense float32 weights and biases at
        baseline over the bytes the file spends on them (BaselineDenseBytes / StoredBytes), which
        leaves out the metadata, header and fixed fields and so is higher. A failure throws the
        error Pester's own assertions throw (PesterAssertionFailed), giving the model's name, the
        value expected, the value found, the byte counts it came from and the difference. Under
        Pester 5 the same check is 'Should -HaveCompressionRatio' (see Register-MlpShouldOperator).
    .PARAMETER Expected
        The lowest compression ratio (10 for 10×).
    .PARAMETER Actual
        The model (SparsePrune.Mlp) or its CompressionReport; usually piped in.
    .PARAMETER WeightsOnly
        Checks the weights-only ratio (WeightCompressionRatio) rather than the file's.
    .PARAMETER Because
        Why the test expects it; it goes into the failure message.
    .EXAMPLE
        $model = New-Mlp 64,128,10 -Seed 1 | Invoke-Pruning -Ratio 0.9
        $model | Get-CompressionReport | Should-HaveCompressionRatio 5

        Passes: with 90 % of the connections deleted, the model's file (5,858 bytes) is 6.6 times
        smaller than its dense file was (38,839 bytes).
    .EXAMPLE
        $model = New-Mlp 64,128,10 -Seed 1 | Invoke-Pruning -Ratio 0.9
        $model | Should-HaveCompressionRatio 7 -WeightsOnly

        Passes: the same model's weights and biases take 7.8 times fewer bytes than dense (4,941
        of 38,440).
    .LINK
        Get-CompressionReport
    .LINK
        Export-Mlp
    #>
    [CmdletBinding()]
    [Alias('Should-HaveCompressionRatio')]
    param(
        [Parameter(Mandatory, Position = 0)] $Expected,
        [Parameter(Position = 1, ValueFromPipeline)] $Actual,
        [switch] $WeightsOnly,
        [string] $Because
    )
    end { Invoke-Assertion 'Should-HaveCompressionRatio' { param($item) Get-CompressionRatioVerdict 'Should-HaveCompressionRatio' $item $Expected -WeightsOnly:$WeightsOnly } $MyInvocation @($input) $Actual $Because }
}

# ---- Pester 5: the same checks as Should operators ----------------------------------------------

# Pester 5 calls an operator's test with -ActualValue, -Negate, -CallerSessionState (left in
# $args) and the operator's own parameters, which become parameters of Should: the first one,
# ExpectedValue (the name Pester's operators share), takes the positional value.
$script:ShouldOperators = @(
    [pscustomobject]@{ Name = 'HaveSparsity'; Function = 'Assert-MlpSparsity'; Test = {
            param($ActualValue, $ExpectedValue, [switch] $Negate, [string] $Because, [switch] $AtLeast, [switch] $AtMost, $Tolerance)
            $toleranceGiven = @{}
            if ($PSBoundParameters.ContainsKey('Tolerance')) { $toleranceGiven.Tolerance = $Tolerance }
            ConvertTo-ShouldResult (Get-SparsityVerdict 'Should -HaveSparsity' $ActualValue $ExpectedValue -AtLeast:$AtLeast -AtMost:$AtMost @toleranceGiven) $Because -Negate:$Negate
        }
    }
    [pscustomobject]@{ Name = 'HaveAccuracy'; Function = 'Assert-MlpAccuracy'; Test = {
            param($ActualValue, $ExpectedValue, [switch] $Negate, [string] $Because, $On, [switch] $Loss, $Within, $Of)
            # Should has no parameter sets per operator: the forms are told apart here.
            $relative = $PSBoundParameters.ContainsKey('Within') -or $PSBoundParameters.ContainsKey('Of')
            if ($relative -and $PSBoundParameters.ContainsKey('ExpectedValue')) {
                throw (New-AssertionInputError -ErrorId 'ValueAndReference' -Target $ExpectedValue -Message "Should -HaveAccuracy takes a value (Should -HaveAccuracy 0.9) or -Within and -Of (Should -HaveAccuracy -Within 0.01 -Of `$dense), not both.")
            }
            if ($relative -and -not ($PSBoundParameters.ContainsKey('Within') -and $PSBoundParameters.ContainsKey('Of'))) {
                throw (New-AssertionInputError -ErrorId 'WithinWithoutOf' -Target $null -Message "Should -HaveAccuracy compares with another model given both -Within and -Of (Should -HaveAccuracy -Within 0.01 -Of `$dense): add the missing one.")
            }
            $verdict = if ($relative) { Get-RelativeAccuracyVerdict 'Should -HaveAccuracy' $ActualValue $Within $Of -On $On -Loss:$Loss }
            else { Get-AccuracyVerdict 'Should -HaveAccuracy' $ActualValue $ExpectedValue -On $On -Loss:$Loss }
            ConvertTo-ShouldResult $verdict $Because -Negate:$Negate
        }
    }
    [pscustomobject]@{ Name = 'BeSmallerThan'; Function = 'Assert-MlpStoredSize'; Test = {
            param($ActualValue, $ExpectedValue, [switch] $Negate, [string] $Because, [switch] $WeightsOnly)
            ConvertTo-ShouldResult (Get-StoredSizeVerdict 'Should -BeSmallerThan' $ActualValue $ExpectedValue -WeightsOnly:$WeightsOnly) $Because -Negate:$Negate
        }
    }
    [pscustomobject]@{ Name = 'HaveCompressionRatio'; Function = 'Assert-MlpCompressionRatio'; Test = {
            param($ActualValue, $ExpectedValue, [switch] $Negate, [string] $Because, [switch] $WeightsOnly)
            ConvertTo-ShouldResult (Get-CompressionRatioVerdict 'Should -HaveCompressionRatio' $ActualValue $ExpectedValue -WeightsOnly:$WeightsOnly) $Because -Negate:$Negate
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
        Should (Add-ShouldOperator), so that tests write '$model | Should -HaveSparsity 0.9' or
        '$pruned | Should -HaveAccuracy -Within 0.01 -Of $dense', with -Not and -Because; each
        takes the parameters of its function and compares as it does (Assert-MlpSparsity,
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
