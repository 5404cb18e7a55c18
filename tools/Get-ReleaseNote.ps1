#!/usr/bin/env pwsh

<#
.SYNOPSIS
    The body of CHANGELOG.md's section for one version: what the manifest's ReleaseNotes holds.
.DESCRIPTION
    CHANGELOG.md follows Keep a Changelog: each release is a '## [<version>] - <date>' heading.
    Returns the lines between that heading and the next '## ' heading (or the link definitions at
    the end), trimmed. Fails when the version has no section: a release without notes is a mistake.
.PARAMETER Version
    The version whose section to return, e.g. 0.2.0.
.PARAMETER Path
    The changelog (default: CHANGELOG.md at the repository root).
.EXAMPLE
    ./tools/Get-ReleaseNote.ps1 -Version 0.2.0
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Version,

    [string] $Path = (Join-Path $PSScriptRoot '../CHANGELOG.md')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$lines = @(Get-Content -LiteralPath $Path)
$start = -1
for ($i = 0; $i -lt $lines.Count; $i++) {
    if ($lines[$i] -match "^## \[$([regex]::Escape($Version))\]") { $start = $i + 1; break }
}
if ($start -lt 0) { throw "CHANGELOG.md has no section '## [$Version] - <date>': add the release notes for $Version there." }
$end = $lines.Count
for ($i = $start; $i -lt $lines.Count; $i++) {
    if ($lines[$i] -match '^## ' -or $lines[$i] -match '^\[[^\]]+\]: ') { $end = $i; break }
}
if ($end -le $start) { return '' }
(($lines[$start..($end - 1)]) -join "`n").Trim()
