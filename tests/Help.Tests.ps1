# Get-Help for every exported cmdlet and function: synopsis, description, examples, every
# parameter; then help and code agree on every parameter of the cmdlets (their help is built
# from help/*.md, so whoever changes a parameter in Cmdlets/ must change help/ too; a function's
# comment-based help takes its syntax from the code); then tools/Build-Help.ps1 itself.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $manifest = Import-PowerShellDataFile $script:ModulePath
    $script:Cmdlets = @($manifest.CmdletsToExport | ForEach-Object { @{ Cmdlet = $_; Names = @($_) } })
    Import-Module $script:ModulePath -Force
    # A function's examples may call it by its alias (Should-HaveSparsity for Assert-MlpSparsity).
    $script:Functions = @($manifest.FunctionsToExport | ForEach-Object {
            @{ Cmdlet = $_; Names = @($_) + @(Get-Alias -Definition $_ -ErrorAction Ignore | Where-Object Source -EQ 'SparsePrune' | ForEach-Object Name) }
        })
    # Every default a Core settings type publishes (its static Defaults, keyed by parameter name,
    # for the cmdlet its Cmdlet constant names), read from the staged Core assembly the module loaded.
    $script:DefaultCases = foreach ($type in [SparsePrune.TrainingSettings].Assembly.GetExportedTypes()) {
        $defaults = $type.GetProperty('Defaults', [Reflection.BindingFlags]'Public, Static')
        $cmdlet = $type.GetField('Cmdlet', [Reflection.BindingFlags]'Public, Static')
        if (-not $defaults -or -not $cmdlet) { continue }
        foreach ($entry in $defaults.GetValue($null).GetEnumerator()) {
            @{ Cmdlet = $cmdlet.GetValue($null); Settings = $type.Name; Parameter = $entry.Key; Value = $entry.Value }
        }
    }
    # Every parameter but the common ones; -WhatIf and -Confirm are checked like the others.
    $script:DriftCases = foreach ($c in $script:Cmdlets) {
        $names = @((Get-Command $c.Cmdlet -Module SparsePrune).Parameters.Keys | Where-Object { $_ -notin [Management.Automation.PSCmdlet]::CommonParameters })
        @{ Cmdlet = $c.Cmdlet; Parameters = @($names | ForEach-Object { @{ Parameter = $_ } }) }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Common = [Management.Automation.PSCmdlet]::CommonParameters + [Management.Automation.PSCmdlet]::OptionalCommonParameters

    function Get-NonCommonName([object[]] $Parameters) {
        @($Parameters | Where-Object { $_.Name -notin [Management.Automation.PSCmdlet]::CommonParameters } | ForEach-Object Name | Sort-Object)
    }
    # For each parameter set of the code, the help's syntax line that fits it best: Exact when
    # it has exactly the set's parameters (else the one sharing the most, so that one parameter
    # too many or too few is reported once, not as a failure of every other parameter). Sets
    # with the same parameters (Invoke-Mlp's model or rows from the pipeline) are told apart by
    # how many of them agree with the line on position and pipeline input.
    function Get-SyntaxBySet($Command, $Help) {
        $bySet = @{}
        foreach ($set in $Command.ParameterSets) {
            $want = Get-NonCommonName $set.Parameters
            $best = $null; $bestScore = [int]::MinValue; $bestAgree = -1
            foreach ($item in @($Help.syntax.syntaxItem)) {
                $have = Get-NonCommonName @($item.parameter)
                $shared = @($have | Where-Object { $_ -in $want }).Count
                $score = 2 * $shared - $have.Count - $want.Count
                $agree = @(foreach ($p in @($item.parameter)) {
                        $code = $set.Parameters | Where-Object Name -EQ $p.name
                        if ($code -and "$($p.position)" -eq (Format-Position $code.Position) -and
                            ("$($p.pipelineInput)" -like 'True*') -eq ($code.ValueFromPipeline -or $code.ValueFromPipelineByPropertyName)) { 1 }
                    }).Count
                if ($score -gt $bestScore -or ($score -eq $bestScore -and $agree -gt $bestAgree)) { $best = $item; $bestScore = $score; $bestAgree = $agree }
            }
            $bySet[$set.Name] = [pscustomobject]@{ Item = $best; Exact = $null -ne $best -and $bestScore -eq 0 }
        }
        $bySet
    }
    function Format-Position([int] $Position) { if ($Position -lt 0) { 'named' } else { "$Position" } }
    function Format-Pipeline([bool] $ByValue, [bool] $ByPropertyName) {
        $how = @(if ($ByPropertyName) { 'ByPropertyName' }; if ($ByValue) { 'ByValue' })
        if ($how) { "True ($($how -join ', '))" } else { 'False' }
    }
    # 'True (ByPropertyName, ByValue)' in either order, or 'False', as Format-Pipeline writes it.
    function ConvertFrom-HelpPipeline([string] $Text) {
        Format-Pipeline ($Text -match '^True.*\bByValue\b') ($Text -match '^True.*\bByPropertyName\b')
    }
    # The values a parameter accepts: its ValidateSet, else its enum's names (of T for T? and T[]).
    function Get-CodeValues($Parameter) {
        $set = $Parameter.Attributes | Where-Object { $_ -is [ValidateSet] } | Select-Object -First 1
        if ($set) { return @($set.ValidValues) }
        $t = $Parameter.ParameterType
        if ($t.IsArray) { $t = $t.GetElementType() }
        $t = [Nullable]::GetUnderlyingType($t) ?? $t
        if ($t.IsEnum) { return [Enum]::GetNames($t) }
        @()
    }
}

Describe 'Get-Help <Cmdlet>' -ForEach ($Cmdlets + $Functions) {
    BeforeAll {
        $script:Help = Get-Help $Cmdlet -Full -ErrorAction Stop
        $script:Command = Get-Command $Cmdlet -Module SparsePrune
    }

    It 'has a synopsis of its own (not the generated syntax)' {
        $synopsis = "$($Help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -BeLike "$Cmdlet *" -Because 'without a help file PowerShell puts the syntax there'
        $synopsis | Should -Not -Match '\[-\w+\]'
    }

    It 'has a description' {
        $text = ($Help.Description | ForEach-Object Text) -join "`n"
        $text.Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example with code' {
        $examples = @($Help.Examples.Example)
        $examples.Count | Should -BeGreaterThan 0
        foreach ($e in $examples) {
            "$($e.Code)".Trim() | Should -Not -BeNullOrEmpty
            "$($e.Code)" | Should -Match (($Names | ForEach-Object { [regex]::Escape($_) }) -join '|')
        }
    }

    It 'documents every parameter' {
        $names = @($Command.Parameters.Keys | Where-Object { $_ -notin $Common })
        # Every cmdlet takes parameters; a function may take none (Register-MlpShouldOperator).
        if ($Command.CommandType -eq 'Cmdlet') { $names.Count | Should -BeGreaterThan 0 }
        foreach ($name in $names) {
            $p = Get-Help $Cmdlet -Parameter $name -ErrorAction SilentlyContinue
            $p | Should -Not -BeNullOrEmpty -Because "-$name needs a help entry"
            (($p.Description | ForEach-Object Text) -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$name needs a description"
        }
    }
}

Describe 'Help of <Cmdlet> agrees with its code' -ForEach $DriftCases {
    BeforeAll {
        $Help = Get-Help $Cmdlet -Full -ErrorAction Stop
        $Command = Get-Command $Cmdlet -Module SparsePrune
        $Source = "help/$Cmdlet.md"
        $CodeNames = @($Command.Parameters.Keys | Where-Object { $_ -notin [Management.Automation.PSCmdlet]::CommonParameters })
        $HelpParams = @($Help.parameters.parameter)
        $SyntaxBySet = Get-SyntaxBySet $Command $Help
    }

    It 'documents no parameter the code lacks' {
        $extra = @($HelpParams.name | Where-Object { $_ -notin $CodeNames })
        $extra | Should -BeNullOrEmpty -Because "$Source documents -$($extra -join ', -'), which $Cmdlet does not have"
    }

    It 'documents every parameter the code has' {
        $missing = @($CodeNames | Where-Object { $_ -notin $HelpParams.name })
        $missing | Should -BeNullOrEmpty -Because "$Cmdlet has -$($missing -join ', -'), which $Source does not document"
    }

    It 'has one syntax line per parameter set, with the parameters of that set' {
        $lines = @($Help.syntax.syntaxItem | ForEach-Object { '-' + ((Get-NonCommonName @($_.parameter)) -join ' -') }) -join ' | '
        foreach ($set in $Command.ParameterSets) {
            $SyntaxBySet[$set.Name].Exact | Should -BeTrue -Because "parameter set '$($set.Name)' of $Cmdlet has -$((Get-NonCommonName $set.Parameters) -join ' -'), and no syntax line of $Source has exactly those (they have: $lines)"
        }
        @($Help.syntax.syntaxItem).Count | Should -Be @($Command.ParameterSets).Count -Because "$Cmdlet has $(@($Command.ParameterSets).Count) parameter set(s); $Source names them in 'Parameter Sets'"
    }

    Context '-<Parameter>' -ForEach $Parameters {
        BeforeAll {
            $Code = $Command.Parameters[$Parameter]
            $HelpParam = $HelpParams | Where-Object name -EQ $Parameter | Select-Object -First 1
            # The syntax lines this parameter is in, with the code's view of it in that set.
            $PerSet = @(foreach ($set in $Command.ParameterSets) {
                    $inSet = $set.Parameters | Where-Object Name -EQ $Parameter
                    $line = $SyntaxBySet[$set.Name].Item
                    if ($inSet -and $line) { [pscustomobject]@{ Set = $set.Name; Code = $inSet; Help = @($line.parameter) | Where-Object name -EQ $Parameter | Select-Object -First 1 } }
                })
            $Shown = @($PerSet | Where-Object Help)
            $InSets = @($Command.ParameterSets | ForEach-Object { $_.Parameters | Where-Object Name -EQ $Parameter })
            $Undocumented = "$Source has no '### -$Parameter'"
        }

        It 'has the code''s type' {
            $HelpParam | Should -Not -BeNullOrEmpty -Because $Undocumented
            $type = [Nullable]::GetUnderlyingType($Code.ParameterType) ?? $Code.ParameterType
            $HelpParam.type.name | Should -Be $type.FullName -Because "$Source gives -$Parameter 'Type: $($HelpParam.type.name)' and $Cmdlet declares $($Code.ParameterType) (write Nullable<T> as T)"
            "$($HelpParam.parameterValue)".Trim() | Should -Be $type.Name -Because 'Get-Help shows the short type name'
            foreach ($s in $Shown) { $s.Help.type.name | Should -Be $type.FullName -Because "the syntax line of set '$($s.Set)' must show the same type" }
        }

        It 'is Required and at the Position the code says, in every parameter set' {
            $HelpParam | Should -Not -BeNullOrEmpty -Because $Undocumented
            foreach ($s in $PerSet) {
                $s.Help | Should -Not -BeNullOrEmpty -Because "$Cmdlet -$Parameter is in parameter set '$($s.Set)', so its syntax line in $Source must show it ('Parameter Sets:')"
                "$($s.Help.required)" | Should -Be "$($s.Code.IsMandatory)".ToLowerInvariant() -Because "$Cmdlet -$Parameter is $(if (-not $s.Code.IsMandatory) { 'not ' })mandatory in parameter set '$($s.Set)' ('Required:' in $Source)"
                "$($s.Help.position)" | Should -Be (Format-Position $s.Code.Position) -Because "$Cmdlet -$Parameter has position $(Format-Position $s.Code.Position) in parameter set '$($s.Set)' ('Position:' in $Source)"
            }
            # Get-Help -Parameter shows one Required and Position: they must hold where the code agrees across sets.
            $mandatory = @($InSets.IsMandatory | Select-Object -Unique)
            if ($mandatory.Count -eq 1) { "$($HelpParam.required)" | Should -Be "$($mandatory[0])".ToLowerInvariant() -Because "$Cmdlet -$Parameter is $(if (-not $mandatory[0]) { 'not ' })mandatory ('Required:' in $Source)" }
            $position = @($InSets.Position | Select-Object -Unique)
            if ($position.Count -eq 1) { "$($HelpParam.position)" | Should -Be (Format-Position $position[0]) -Because "$Cmdlet -$Parameter has position $(Format-Position $position[0]) ('Position:' in $Source)" }
        }

        It 'takes pipeline input as the code does' {
            $HelpParam | Should -Not -BeNullOrEmpty -Because $Undocumented
            foreach ($s in $Shown) {
                $want = Format-Pipeline $s.Code.ValueFromPipeline $s.Code.ValueFromPipelineByPropertyName
                ConvertFrom-HelpPipeline $s.Help.pipelineInput | Should -Be $want -Because "$Cmdlet -$Parameter takes pipeline input '$want' in parameter set '$($s.Set)' ('Accept pipeline input:' in $Source)"
            }
            $byValue = [bool]@($InSets | Where-Object ValueFromPipeline).Count
            $byName = [bool]@($InSets | Where-Object ValueFromPipelineByPropertyName).Count
            ConvertFrom-HelpPipeline $HelpParam.pipelineInput | Should -Be (Format-Pipeline $byValue $byName) -Because "that is what $Cmdlet -$Parameter takes ('Accept pipeline input:' in $Source)"
        }

        It 'has the code''s aliases' {
            $HelpParam | Should -Not -BeNullOrEmpty -Because $Undocumented
            $helpAliases = @(if ($HelpParam.aliases -and $HelpParam.aliases -ne 'none') { $HelpParam.aliases -split '\s*,\s*' })
            ($helpAliases | Sort-Object) -join ', ' | Should -Be ((@($Code.Aliases) | Sort-Object) -join ', ') -Because "those are the aliases of $Cmdlet -$Parameter ('Aliases:' in $Source)"
        }

        It 'lists the values the code accepts' {
            $HelpParam | Should -Not -BeNullOrEmpty -Because $Undocumented
            $want = (@(Get-CodeValues $Code) | Sort-Object) -join ', '
            foreach ($s in $Shown) {
                $listed = (@($s.Help.parameterValueGroup.parameterValue | ForEach-Object { "$_" }) | Sort-Object) -join ', '
                $listed | Should -Be $want -Because "$Cmdlet -$Parameter accepts $(if ($want) { $want } else { 'any value of its type' }) ('Accepted values:' in $Source)"
            }
        }
    }
}

Describe 'Help of <Cmdlet> gives the code''s default of -<Parameter>' -ForEach $DefaultCases {
    BeforeAll {
        # The default as help writes it: numbers in the invariant culture, lists joined by ', '.
        function Format-Default($Value) {
            if ($Value -is [string]) { return $Value }
            if ($Value -is [Collections.IEnumerable]) { return (@($Value | ForEach-Object { Format-Default $_ }) -join ', ') }
            if ($Value -is [IFormattable]) { return $Value.ToString($null, [cultureinfo]::InvariantCulture) }
            "$Value"
        }
    }

    It 'is a parameter of the cmdlet' {
        (Get-Command $Cmdlet -Module SparsePrune).Parameters.Keys | Should -Contain $Parameter -Because "$Settings.Defaults names -$Parameter"
    }

    It 'has the default of Core''s settings type in "Default value:"' {
        $want = Format-Default $Value
        $shown = "$((Get-Help $Cmdlet -Parameter $Parameter -ErrorAction Stop).defaultValue)".Trim()
        # A text default (one that depends on another setting) is written as it is; a value may be
        # followed by a note in parentheses, e.g. '0 (no fine-tuning)'.
        $pattern = if ($Value -is [string]) { "^$([regex]::Escape($want))$" } else { "^$([regex]::Escape($want))( \(.+\))?$" }
        $shown | Should -Match $pattern -Because "$Settings.Defaults['$Parameter'] is '$want', so help/$Cmdlet.md must say 'Default value: $want'"
    }
}

Describe 'about_SparsePrune' {
    BeforeAll {
        # The staged copy, as Get-Help reads it.
        $script:About = Get-Content -Raw -LiteralPath (Join-Path (Split-Path $script:ModulePath) 'en-US/about_SparsePrune.help.txt')
        $script:Manifest = Import-PowerShellDataFile $script:ModulePath
        # A section's text: from its heading (a line in capitals at the margin) to the next heading.
        function Get-AboutSection([string] $Heading) {
            $m = [regex]::Match($script:About, "(?ms)^$([regex]::Escape($Heading))\r?\n(.*?)(?=^\S|\z)")
            $m.Success | Should -BeTrue -Because "the topic has a section '$Heading'"
            $m.Groups[1].Value
        }
    }

    It 'lists every cmdlet the manifest exports in THE CMDLETS, one entry each, and no other' {
        # An entry starts a line at the list's indent: the cmdlet's name, then a column of text or a
        # line break (the text under the list, 'Get-Help <cmdlet> -Full ...', is no entry).
        $entries = @([regex]::Matches((Get-AboutSection 'THE CMDLETS'), '(?m)^ {4}([A-Z][A-Za-z]+-[A-Za-z]+)(?= {2,}\S|\r?$)') | ForEach-Object { $_.Groups[1].Value })
        @($entries | Sort-Object) | Should -Be @($Manifest.CmdletsToExport | Sort-Object)
    }

    It 'names every exported cmdlet in SEE ALSO' {
        $named = @([regex]::Matches((Get-AboutSection 'SEE ALSO'), '\b[A-Z][A-Za-z]+-[A-Za-z]+\b') | ForEach-Object Value)
        foreach ($cmdlet in $Manifest.CmdletsToExport) { $named | Should -Contain $cmdlet }
    }

    It 'documents every exported function' {
        foreach ($function in $Manifest.FunctionsToExport) { $About | Should -Match "\b$([regex]::Escape($function))\b" }
    }

    It 'names ONNX where it lists what Export-Mlp and Import-Mlp write and read' {
        $list = Get-AboutSection 'THE CMDLETS'
        foreach ($cmdlet in 'Export-Mlp', 'Import-Mlp') {
            $entry = [regex]::Match($list, "(?ms)^ {4}$cmdlet\b(.*?)(?=^ {4}\S|\z)").Groups[1].Value
            $entry | Should -Match '\bONNX\b' -Because "$cmdlet's entry names its formats"
        }
    }
}

Describe 'tools/Build-Help.ps1' {
    BeforeAll {
        $BuildHelp = Join-Path $PSScriptRoot '../tools/Build-Help.ps1'
        # A small valid source: two parameter sets, the first named first.
        $Valid = @'
# Test-Thing

## SYNOPSIS

Tests a thing.

## DESCRIPTION

First paragraph,
wrapped over two lines.

Second paragraph.

## EXAMPLES

### Example 1: Test it

```powershell
PS> Test-Thing -Name a
ok
```

It says ok.

## PARAMETERS

### -Name

The name.

```yaml
Type: System.String
Parameter Sets: ByName
Aliases: n

Required: True
Position: 0
Default value: None
Accept pipeline input: True (ByPropertyName)
Accept wildcard characters: False
```

### -Id

The id.

```yaml
Type: System.Int32
Parameter Sets: ById
Aliases:

Required: True
Position: Named
Default value: None
Accept pipeline input: False
Accept wildcard characters: False
```

### -Kind

The kind.

```yaml
Type: System.String
Parameter Sets: (All)
Aliases:
Accepted values: A, B

Required: False
Position: Named
Default value: A
Accept pipeline input: False
Accept wildcard characters: False
```

## RELATED LINKS

- [Get-Thing](Get-Thing.md)
- [Online](https://example.org/thing)
'@
        function Invoke-BuildHelp([string] $Markdown, [string] $Name = 'Test-Thing') {
            $dir = Join-Path $TestDrive ([guid]::NewGuid())
            New-Item -ItemType Directory -Path $dir | Out-Null
            Set-Content -LiteralPath (Join-Path $dir "$Name.md") -Value $Markdown -NoNewline
            $out = Join-Path $dir 'out/help.xml'
            & $BuildHelp -SourcePath $dir -OutputPath $out
            $out
        }
    }

    It 'writes MAML with one syntax line per parameter set' {
        [xml] $x = Get-Content -Raw (Invoke-BuildHelp $Valid)
        $ns = [Xml.XmlNamespaceManager]::new($x.NameTable)
        $ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
        $ns.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
        $ns.AddNamespace('dev', 'http://schemas.microsoft.com/maml/dev/2004/10')
        $c = $x.SelectSingleNode('/*/command:command', $ns)
        $c.SelectSingleNode('command:details/command:name', $ns).InnerText | Should -Be 'Test-Thing'
        @($c.SelectNodes('maml:description/maml:para', $ns) | ForEach-Object InnerText) | Should -Be @('First paragraph, wrapped over two lines.', 'Second paragraph.')
        $lines = @($c.SelectNodes('command:syntax/command:syntaxItem', $ns) | ForEach-Object { @($_.SelectNodes('command:parameter/maml:name', $ns) | ForEach-Object InnerText) -join ',' })
        $lines | Should -Be @('Name,Kind', 'Id,Kind')
        $name = $c.SelectSingleNode('command:parameters/command:parameter[maml:name="Name"]', $ns)
        $name.GetAttribute('aliases') | Should -Be 'n'
        $name.GetAttribute('position') | Should -Be '0'
        $name.GetAttribute('pipelineInput') | Should -Be 'True (ByPropertyName)'
        @($c.SelectNodes('command:syntax/command:syntaxItem[1]/command:parameter[maml:name="Kind"]/command:parameterValueGroup/command:parameterValue', $ns) | ForEach-Object InnerText) | Should -Be @('A', 'B')
        $c.SelectSingleNode('command:examples/command:example/dev:code', $ns).InnerText | Should -Be "PS> Test-Thing -Name a`nok"
        @($c.SelectNodes('command:relatedLinks/maml:navigationLink/maml:uri', $ns) | ForEach-Object InnerText) | Should -Be @('', 'https://example.org/thing')
    }

    It 'names file and line when <Case>' -ForEach @(
        @{ Case = 'a code block is never closed'; Edit = { param($s) $s -replace '(?s)ok\r?\n```', 'ok' }; Line = 30; Message = 'the one opened at line 18 is not closed' }
        @{ Case = 'a code block is still open at the end'; Edit = { param($s) $s + "`n" + '```powershell' + "`nPS> x" }; Line = 80; Message = 'never closed' }
        @{ Case = 'a section is unknown'; Edit = { param($s) $s -replace '## NOTES|## RELATED LINKS', '## SEE ALSO' }; Line = 76; Message = "unknown section '## SEE ALSO'" }
        @{ Case = 'sections are out of order'; Edit = { param($s) $s -replace '## SYNOPSIS', '## TMP' -replace '## DESCRIPTION', '## SYNOPSIS' -replace '## TMP', '## DESCRIPTION' }; Line = 7; Message = 'out of order' }
        @{ Case = 'a required section is missing'; Edit = { param($s) $s -replace '(?s)## EXAMPLES.*?(?=## PARAMETERS)', '' }; Line = 1; Message = "'## EXAMPLES' is missing" }
        @{ Case = 'the title is not the file name'; Edit = { param($s) $s -replace '# Test-Thing', '# Test-Other' }; Line = 1; Message = "'# Test-Thing'" }
        @{ Case = 'an example is misnumbered'; Edit = { param($s) $s -replace 'Example 1:', 'Example 2:' }; Line = 16; Message = "'### Example 1: <title>'" }
        @{ Case = 'an example has no powershell block'; Edit = { param($s) $s -replace '```powershell', '```text' }; Line = 16; Message = '```powershell' }
        @{ Case = 'a yaml key is unknown'; Edit = { param($s) $s -replace 'Aliases: n', 'Alias: n' }; Line = 34; Message = "unknown key 'Alias'" }
        @{ Case = 'a yaml key is missing'; Edit = { param($s) $s -replace 'Position: 0\r?\n', '' }; Line = 31; Message = "lacks 'Position'" }
        @{ Case = 'a yaml value is invalid'; Edit = { param($s) $s -replace 'Required: True', 'Required: Yes' }; Line = 31; Message = "'Required: Yes' is not valid" }
        @{ Case = 'a parameter has no yaml block'; Edit = { param($s) $s -replace '(?s)The id\.\s*```yaml.*?```', 'The id.' }; Line = 43; Message = '-Id has no' }
        @{ Case = 'a parameter is documented twice'; Edit = { param($s) $s -replace '### -Id', '### -Name' }; Line = 43; Message = '-Name is documented twice' }
        @{ Case = 'a related link is not a list item'; Edit = { param($s) $s -replace '- \[Get-Thing\]\(Get-Thing.md\)', 'see Get-Thing' }; Line = 78; Message = "expected '- [Name](target)'" }
    ) {
        $md = & $Edit $Valid
        $md | Should -Not -Be $Valid -Because 'the case must change the valid source'
        $e = Get-ThrownError { Invoke-BuildHelp $md }
        $e | Should -Not -BeNullOrEmpty
        "$e" | Should -BeLike "*Test-Thing.md:${Line}: *"
        "$e" | Should -BeLike "*$([WildcardPattern]::Escape($Message))*"
    }

    It 'leaves an existing output as it was when the source is malformed' {
        $dir = Join-Path $TestDrive 'atomic'
        New-Item -ItemType Directory -Path $dir | Out-Null
        Set-Content -LiteralPath (Join-Path $dir 'Test-Thing.md') -Value ($Valid -replace 'Required: True', 'Required: Maybe')
        $out = Join-Path $dir 'help.xml'
        Set-Content -LiteralPath $out -Value 'before'
        { & $BuildHelp -SourcePath $dir -OutputPath $out } | Should -Throw '*Test-Thing.md:*'
        Get-Content -Raw $out | Should -Be "before$([Environment]::NewLine)"
        @(Get-ChildItem -LiteralPath $dir -Force | Where-Object Name -Like '*.tmp').Count | Should -Be 0
    }
}
