#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Builds the module's MAML help file from the markdown in help/ (one file per cmdlet).
.DESCRIPTION
    Reads every <Cmdlet>.md in -SourcePath (README.md excepted), in the layout help/README.md
    describes, and writes one MAML file (what Get-Help reads) to -OutputPath, atomically: a
    temporary file beside it, then a rename. Pure PowerShell, no modules.
    Throws on malformed markdown, naming the file and line.
.EXAMPLE
    ./tools/Build-Help.ps1 -SourcePath help -OutputPath out/SparsePrune/en-US/SparsePrune.Cmdlets.dll-Help.xml
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $SourcePath,
    [Parameter(Mandatory)] [string] $OutputPath
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Sections = 'SYNOPSIS', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS'
$RequiredSections = 'SYNOPSIS', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS'
$YamlKeys = 'Type', 'Parameter Sets', 'Aliases', 'Accepted values', 'Required', 'Position', 'Default value', 'Accept pipeline input', 'Accept wildcard characters'
$OptionalYamlKeys = 'Aliases', 'Accepted values'

function Stop-Help([string] $File, [int] $Line, [string] $Message) {
    throw "${File}:${Line}: $Message"
}

# --- markdown: a flat list of headings, paragraphs and fenced blocks ---------------------------
function Read-Blocks([string] $File) {
    $lines = [IO.File]::ReadAllLines($File)
    $blocks = [Collections.Generic.List[object]]::new()
    $para = $null; $fence = $null
    for ($i = 0; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]; $n = $i + 1
        if ($fence) {
            if ($line -eq '```') { $blocks.Add($fence); $fence = $null }
            elseif ($line -match '^```') { Stop-Help $File $n "a code block starts here, but the one opened at line $($fence.Line) is not closed (a line of just ``` closes it)" }
            else { $fence.Lines.Add($line) }
            continue
        }
        if ($line -match '^\s*$') { $para = $null; continue }
        if ($line -match '^```(\S*)\s*$') {
            $para = $null
            $fence = [pscustomobject]@{ Kind = 'Fence'; Lang = $Matches[1]; Lines = [Collections.Generic.List[string]]::new(); Line = $n }
        }
        elseif ($line -match '^(#+)\s+(\S.*?)\s*$') {
            if ($Matches[1].Length -gt 3) { Stop-Help $File $n "headings go three levels deep at most: '$line'" }
            $para = $null
            $blocks.Add([pscustomobject]@{ Kind = "H$($Matches[1].Length)"; Text = $Matches[2]; Line = $n })
        }
        elseif ($para) { $para.Lines.Add($line.Trim()) }
        else {
            $para = [pscustomobject]@{ Kind = 'Para'; Lines = [Collections.Generic.List[string]]::new(); Line = $n }
            $para.Lines.Add($line.Trim())
            $blocks.Add($para)
        }
    }
    if ($fence) { Stop-Help $File $fence.Line 'this code block is never closed (a line of just ``` ends it)' }
    $blocks
}

function Get-Text($Para) { $Para.Lines -join ' ' }

# Splits blocks at headings of one kind into @{ Heading; Body }; nothing may come before the first.
function Split-At([string] $File, [object[]] $Blocks, [string] $Kind, [string] $Where) {
    $groups = [Collections.Generic.List[object]]::new()
    foreach ($b in $Blocks) {
        if ($b.Kind -eq $Kind) { $groups.Add([pscustomobject]@{ Heading = $b; Body = [Collections.Generic.List[object]]::new() }) }
        elseif ($groups.Count) { $groups[$groups.Count - 1].Body.Add($b) }
        else { Stop-Help $File $b.Line "$Where holds $('#' * [int]$Kind.Substring(1)) headings only, and nothing before the first" }
    }
    , $groups.ToArray()
}

function Get-Paras([string] $File, [object[]] $Body, [string] $Where, [int] $Line, [switch] $Required) {
    $odd = @($Body | Where-Object Kind -NE 'Para' | Select-Object -First 1)
    if ($odd) { Stop-Help $File $odd[0].Line "only paragraphs belong in $Where (found $($odd[0].Kind))" }
    $paras = @($Body | ForEach-Object { Get-Text $_ })
    if ($Required -and -not $paras) { Stop-Help $File $Line "$Where needs at least one paragraph" }
    $paras
}

function Read-Yaml([string] $File, $Fence, [string] $Param) {
    $y = [ordered]@{}
    for ($i = 0; $i -lt $Fence.Lines.Count; $i++) {
        $line = $Fence.Lines[$i]; $n = $Fence.Line + 1 + $i
        if ($line -match '^\s*$') { continue }
        if ($line -notmatch '^([A-Za-z ]+):(.*)$') { Stop-Help $File $n "-${Param}: expected 'Key: value', got '$line'" }
        $key = $Matches[1].Trim(); $value = $Matches[2].Trim()
        if ($key -notin $YamlKeys) { Stop-Help $File $n "-${Param}: unknown key '$key' (keys: $($YamlKeys -join ', '))" }
        if ($y.Contains($key)) { Stop-Help $File $n "-${Param}: '$key' is given twice" }
        $y[$key] = $value
    }
    foreach ($k in $YamlKeys) {
        if ($k -notin $OptionalYamlKeys -and -not $y.Contains($k)) { Stop-Help $File $Fence.Line "-${Param}: the yaml block lacks '$k'" }
    }
    $checks = @{
        'Type'                       = '^[\w.+`\[\], ]+$'
        'Parameter Sets'             = '^(\(All\)|[\w-]+(\s*,\s*[\w-]+)*)$'
        'Required'                   = '^(True|False)$'
        'Position'                   = '^(Named|\d+)$'
        'Accept pipeline input'      = '^(False|True \((ByValue|ByPropertyName|ByPropertyName, ByValue|ByValue, ByPropertyName)\))$'
        'Accept wildcard characters' = '^(True|False)$'
    }
    foreach ($k in $checks.Keys) {
        if ($y[$k] -notmatch $checks[$k]) { Stop-Help $File $Fence.Line "-${Param}: '${k}: $($y[$k])' is not valid" }
    }
    $sets = @($y['Parameter Sets'] -split '\s*,\s*')
    [pscustomobject]@{
        Type = $y['Type']; Sets = $sets; Aliases = "$($y['Aliases'])"
        Accepted = @(if ($y['Accepted values']) { $y['Accepted values'] -split '\s*,\s*' })
        Required = $y['Required'] -eq 'True'; Position = $y['Position']; Default = $y['Default value']
        Pipeline = $y['Accept pipeline input']; Globbing = $y['Accept wildcard characters'] -eq 'True'
    }
}

# --- one cmdlet's markdown -> an object -----------------------------------------------------
function Read-CmdletHelp([string] $File) {
    $name = [IO.Path]::GetFileNameWithoutExtension($File)
    $blocks = @(Read-Blocks $File)
    if (-not $blocks -or $blocks[0].Kind -ne 'H1' -or $blocks[0].Text -ne $name) {
        Stop-Help $File $(if ($blocks) { $blocks[0].Line } else { 1 }) "the file must start with '# $name'"
    }
    $extraH1 = @($blocks | Select-Object -Skip 1 | Where-Object Kind -EQ 'H1')
    if ($extraH1) { Stop-Help $File $extraH1[0].Line 'only one # heading per file' }
    $groups = Split-At $File @($blocks | Select-Object -Skip 1) 'H2' "a help file"
    $s = @{}; $last = -1
    foreach ($g in $groups) {
        $idx = [array]::IndexOf($Sections, $g.Heading.Text)
        if ($idx -lt 0) { Stop-Help $File $g.Heading.Line "unknown section '## $($g.Heading.Text)' (sections: $($Sections -join ', '))" }
        if ($s.ContainsKey($g.Heading.Text)) { Stop-Help $File $g.Heading.Line "section '## $($g.Heading.Text)' is given twice" }
        if ($idx -lt $last) { Stop-Help $File $g.Heading.Line "section '## $($g.Heading.Text)' is out of order (order: $($Sections -join ', '))" }
        $last = $idx; $s[$g.Heading.Text] = $g
    }
    foreach ($r in $RequiredSections) { if (-not $s.ContainsKey($r)) { Stop-Help $File 1 "section '## $r' is missing" } }
    $sub = {
        param($section)
        if (-not $s.ContainsKey($section)) { return @() }
        $parts = Split-At $File $s[$section].Body 'H3' "## $section"
        $parts
    }
    $help = [pscustomobject]@{
        Name = $name; File = $File
        Synopsis = @(Get-Paras $File $s['SYNOPSIS'].Body '## SYNOPSIS' $s['SYNOPSIS'].Heading.Line -Required)
        Description = @(Get-Paras $File $s['DESCRIPTION'].Body '## DESCRIPTION' $s['DESCRIPTION'].Heading.Line -Required)
        Examples = @(); Parameters = @(); Inputs = @(); Outputs = @(); Notes = @(); Links = @()
    }
    $number = 0
    foreach ($e in & $sub 'EXAMPLES') {
        $number++
        if ($e.Heading.Text -notmatch "^Example $number\s*:\s*\S") { Stop-Help $File $e.Heading.Line "expected '### Example ${number}: <title>'" }
        $code = @($e.Body | Select-Object -First 1)
        if (-not $code -or $code[0].Kind -ne 'Fence' -or $code[0].Lang -ne 'powershell') { Stop-Help $File $e.Heading.Line 'an example starts with a ```powershell block' }
        $help.Examples += [pscustomobject]@{
            Title = $e.Heading.Text; Code = $code[0].Lines -join "`n"
            Remarks = @(Get-Paras $File @($e.Body | Select-Object -Skip 1) "the remarks of $($e.Heading.Text)" $e.Heading.Line)
        }
    }
    if (-not $help.Examples) { Stop-Help $File $s['EXAMPLES'].Heading.Line '## EXAMPLES needs at least one example' }
    foreach ($p in & $sub 'PARAMETERS') {
        if ($p.Heading.Text -notmatch '^-(\w+)$') { Stop-Help $File $p.Heading.Line "expected '### -ParameterName'" }
        $pn = $Matches[1]
        if ($help.Parameters | Where-Object Name -EQ $pn) { Stop-Help $File $p.Heading.Line "-$pn is documented twice" }
        $fences = @($p.Body | Where-Object Kind -EQ 'Fence')
        $bad = @($fences | Where-Object Lang -NE 'yaml')
        if ($bad) { Stop-Help $File $bad[0].Line "-${pn}: only ```yaml blocks belong to a parameter" }
        if (-not $fences) { Stop-Help $File $p.Heading.Line "-${pn} has no ``````yaml block" }
        $entries = @($fences | ForEach-Object { Read-Yaml $File $_ $pn })
        $allSets = @($entries.Sets)
        if (@($allSets | Select-Object -Unique).Count -ne $allSets.Count -or ($entries.Count -gt 1 -and $allSets -contains '(All)')) {
            Stop-Help $File $fences[-1].Line "-${pn}: each parameter set may be named in one yaml block only"
        }
        $help.Parameters += [pscustomobject]@{
            Name = $pn; Entries = $entries
            Description = @(Get-Paras $File @($p.Body | Where-Object Kind -EQ 'Para') "-$pn" $p.Heading.Line -Required)
        }
    }
    foreach ($kind in 'INPUTS', 'OUTPUTS') {
        $items = foreach ($t in & $sub $kind) { [pscustomobject]@{ Type = $t.Heading.Text; Description = @(Get-Paras $File $t.Body "### $($t.Heading.Text)" $t.Heading.Line) } }
        if ($kind -eq 'INPUTS') { $help.Inputs = @($items) } else { $help.Outputs = @($items) }
    }
    if ($s.ContainsKey('NOTES')) { $help.Notes = @(Get-Paras $File $s['NOTES'].Body '## NOTES' $s['NOTES'].Heading.Line) }
    if ($s.ContainsKey('RELATED LINKS')) {
        foreach ($para in $s['RELATED LINKS'].Body) {
            if ($para.Kind -ne 'Para') { Stop-Help $File $para.Line '## RELATED LINKS holds list items only' }
            for ($i = 0; $i -lt $para.Lines.Count; $i++) {
                $line = $para.Lines[$i]
                if ($line -match '^[-*]\s+\[([^\]]+)\]\(([^)]*)\)$') { $text = $Matches[1]; $target = $Matches[2] }
                elseif ($line -match '^[-*]\s+([^\[\]()]+)$') { $text = $Matches[1]; $target = '' }
                else { Stop-Help $File ($para.Line + $i) "expected '- [Name](target)' or '- Name', got '$line'" }
                # Only absolute addresses reach Get-Help (-Online); a relative one links the markdown files.
                $help.Links += [pscustomobject]@{ Text = $text.Trim(); Uri = $(if ($target -match '^https?://') { $target } else { '' }) }
            }
        }
    }
    $help
}

# --- MAML -----------------------------------------------------------------------------------
$NsMaml = 'http://schemas.microsoft.com/maml/2004/10'
$NsCommand = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$NsDev = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Write-Paras($w, [string] $Element, [string[]] $Paras) {
    $w.WriteStartElement('maml', $Element, $NsMaml)
    foreach ($p in $Paras) { $w.WriteElementString('maml', 'para', $NsMaml, $p) }
    $w.WriteEndElement()
}

function Write-Parameter($w, $Param, $Entry, [switch] $InSyntax) {
    $switch = $Entry.Type -eq 'System.Management.Automation.SwitchParameter'
    $w.WriteStartElement('command', 'parameter', $NsCommand)
    $w.WriteAttributeString('required', "$($Entry.Required)".ToLowerInvariant())
    $w.WriteAttributeString('variableLength', 'true')
    $w.WriteAttributeString('globbing', "$($Entry.Globbing)".ToLowerInvariant())
    $w.WriteAttributeString('pipelineInput', $Entry.Pipeline)
    $w.WriteAttributeString('position', $(if ($Entry.Position -eq 'Named') { 'named' } else { $Entry.Position }))
    $w.WriteAttributeString('aliases', $(if ($Entry.Aliases) { $Entry.Aliases } else { 'none' }))
    $w.WriteElementString('maml', 'name', $NsMaml, $Param.Name)
    Write-Paras $w 'Description' $Param.Description
    if ($InSyntax -and $Entry.Accepted) {
        # The syntax shows the accepted values: -Activation {ReLU | Tanh | ...}.
        $w.WriteStartElement('command', 'parameterValueGroup', $NsCommand)
        foreach ($v in $Entry.Accepted) {
            $w.WriteStartElement('command', 'parameterValue', $NsCommand)
            $w.WriteAttributeString('required', 'false')
            $w.WriteAttributeString('command', 'variableLength', $NsCommand, 'false')
            $w.WriteString($v); $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }
    elseif (-not ($InSyntax -and $switch)) {
        $w.WriteStartElement('command', 'parameterValue', $NsCommand)
        $w.WriteAttributeString('required', "$(-not $switch)".ToLowerInvariant())
        $w.WriteAttributeString('variableLength', 'false')
        $w.WriteString(($Entry.Type -split '\.')[-1]); $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $NsDev)
    $w.WriteElementString('maml', 'name', $NsMaml, $Entry.Type)
    $w.WriteElementString('maml', 'uri', $NsMaml, '')
    $w.WriteEndElement()
    $w.WriteElementString('dev', 'defaultValue', $NsDev, $Entry.Default)
    $w.WriteEndElement()
}

function Write-Types($w, [string] $Outer, [string] $Inner, [object[]] $Items) {
    $w.WriteStartElement('command', $Outer, $NsCommand)
    foreach ($t in $Items) {
        $w.WriteStartElement('command', $Inner, $NsCommand)
        $w.WriteStartElement('dev', 'type', $NsDev); $w.WriteElementString('maml', 'name', $NsMaml, $t.Type); $w.WriteEndElement()
        Write-Paras $w 'description' $t.Description
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
}

function Write-Command($w, $Help) {
    $w.WriteStartElement('command', 'command', $NsCommand)
    $prefixes = [ordered]@{ maml = $NsMaml; command = $NsCommand; dev = $NsDev; MSHelp = 'http://msdn.microsoft.com/mshelp' }
    foreach ($prefix in $prefixes.GetEnumerator()) { $w.WriteAttributeString('xmlns', $prefix.Key, $null, $prefix.Value) }
    $w.WriteStartElement('command', 'details', $NsCommand)
    $w.WriteElementString('command', 'name', $NsCommand, $Help.Name)
    $w.WriteElementString('command', 'verb', $NsCommand, ($Help.Name -split '-', 2)[0])
    $w.WriteElementString('command', 'noun', $NsCommand, ($Help.Name -split '-', 2)[1])
    Write-Paras $w 'description' $Help.Synopsis
    $w.WriteEndElement()
    Write-Paras $w 'description' $Help.Description

    # One syntax item per parameter set, in the order the sets are first named; positional
    # parameters first (by position), then mandatory ones, then the rest, each in file order.
    $named = @(foreach ($p in $Help.Parameters) { foreach ($e in $p.Entries) { $e.Sets | Where-Object { $_ -ne '(All)' } } }) | Select-Object -Unique
    $named = @($named)
    if (-not $named) { $named = @('(All)') }
    $w.WriteStartElement('command', 'syntax', $NsCommand)
    foreach ($set in $named) {
        $w.WriteStartElement('command', 'syntaxItem', $NsCommand)
        $w.WriteElementString('maml', 'name', $NsMaml, $Help.Name)
        $i = 0
        $members = foreach ($p in $Help.Parameters) {
            $i++
            $e = @($p.Entries | Where-Object { $_.Sets -contains $set -or $_.Sets -contains '(All)' } | Select-Object -First 1)
            if ($e) { [pscustomobject]@{ Param = $p; Entry = $e[0]; Order = $i } }
        }
        $sorted = $members | Sort-Object -Property `
            @{ Expression = { if ($_.Entry.Position -eq 'Named') { 1 } else { 0 } } },
            @{ Expression = { if ($_.Entry.Position -eq 'Named') { 0 } else { [int]$_.Entry.Position } } },
            @{ Expression = { -not $_.Entry.Required } }, Order
        foreach ($m in $sorted) { Write-Parameter $w $m.Param $m.Entry -InSyntax }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $NsCommand)
    foreach ($p in $Help.Parameters) { Write-Parameter $w $p $p.Entries[0] }
    $w.WriteEndElement()
    Write-Types $w 'inputTypes' 'inputType' $Help.Inputs
    Write-Types $w 'returnValues' 'returnValue' $Help.Outputs
    if ($Help.Notes) {
        $w.WriteStartElement('maml', 'alertSet', $NsMaml)
        Write-Paras $w 'alert' $Help.Notes
        $w.WriteEndElement()
    }
    $w.WriteStartElement('command', 'examples', $NsCommand)
    foreach ($e in $Help.Examples) {
        $w.WriteStartElement('command', 'example', $NsCommand)
        $w.WriteElementString('maml', 'title', $NsMaml, "---------- $($e.Title) ----------")
        $w.WriteElementString('dev', 'code', $NsDev, $e.Code)
        $w.WriteStartElement('dev', 'remarks', $NsDev)
        foreach ($r in $e.Remarks) { $w.WriteElementString('maml', 'para', $NsMaml, $r) }
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteStartElement('command', 'relatedLinks', $NsCommand)
    foreach ($l in $Help.Links) {
        $w.WriteStartElement('maml', 'navigationLink', $NsMaml)
        $w.WriteElementString('maml', 'linkText', $NsMaml, $l.Text)
        $w.WriteElementString('maml', 'uri', $NsMaml, $l.Uri)
        $w.WriteEndElement()
    }
    $w.WriteEndElement()
    $w.WriteEndElement()
}

# --- main -----------------------------------------------------------------------------------
$files = @(Get-ChildItem -LiteralPath $SourcePath -Filter '*.md' -File | Where-Object Name -NE 'README.md' | Sort-Object Name)
if (-not $files) { throw "No <Cmdlet>.md files in '$SourcePath'." }
$helps = foreach ($f in $files) { Read-CmdletHelp $f.FullName }

$OutputPath = [IO.Path]::GetFullPath($OutputPath, (Get-Location).ProviderPath)
$dir = Split-Path -Parent $OutputPath
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$temp = Join-Path $dir ".$(Split-Path -Leaf $OutputPath).$PID.tmp"
$settings = [Xml.XmlWriterSettings]@{ Indent = $true; IndentChars = '  '; Encoding = [Text.UTF8Encoding]::new($false); NewLineChars = "`n" }
try {
    $w = [Xml.XmlWriter]::Create($temp, $settings)
    try {
        $w.WriteStartDocument()
        $w.WriteStartElement('helpItems', 'http://msh')
        $w.WriteAttributeString('schema', 'maml')
        foreach ($h in $helps) { Write-Command $w $h }
        $w.WriteEndElement()
        $w.WriteEndDocument()
    }
    finally { $w.Dispose() }
    [IO.File]::Move($temp, $OutputPath, $true)
}
finally { Remove-Item -LiteralPath $temp -Force -ErrorAction Ignore }
Write-Verbose "Wrote help for $($helps.Count) cmdlet(s) to $OutputPath."
