#!/usr/bin/env pwsh

<#
.SYNOPSIS
    Makes sure the build's tools (tools/tools.csproj: Invoke-Build, Pester) are restored, and
    returns the NuGet packages folder they are in.
.DESCRIPTION
    The PowerShell Gallery is not reachable here, so the tools come from NuGet through
    PackageDownload items. A 'dotnet restore' costs seconds even when there is nothing to do, so
    it runs only when tools/obj/project.assets.json is missing or older than tools.csproj, or a
    package it lists is not in the packages folder it names.
.EXAMPLE
    $packages = & ./tools/Restore-BuildTools.ps1
    Join-Path $packages 'pester/6.2.0/tools/Pester.psd1'
#>
[CmdletBinding()]
param()
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$project = Join-Path $PSScriptRoot 'tools.csproj'
$assets = Join-Path $PSScriptRoot 'obj/project.assets.json'

function Get-RestoredPackagesFolder {
    # The folder restore used, or $null when the restore is missing, stale or incomplete.
    if (-not (Test-Path $assets) -or (Get-Item $assets).LastWriteTimeUtc -lt (Get-Item $project).LastWriteTimeUtc) { return $null }
    $json = Get-Content -Raw $assets | ConvertFrom-Json -AsHashtable
    $folder = @($json.packageFolders.Keys)[0]
    foreach ($framework in $json.project.frameworks.Values) {
        foreach ($package in $framework['downloadDependencies']) {
            # Version is one range per version, '[5.7.1, 5.7.1];[6.2.0, 6.2.0]'; NuGet writes the
            # .sha512 last, once a package is complete.
            $id = $package.name.ToLowerInvariant()
            foreach ($range in $package.version -split ';') {
                $version = ($range -replace '^\[([^,\]]+).*$', '$1').ToLowerInvariant()
                if (-not (Test-Path (Join-Path $folder "$id/$version/$id.$version.nupkg.sha512"))) { return $null }
            }
        }
    }
    return $folder
}

$folder = Get-RestoredPackagesFolder
if (-not $folder) {
    Write-Host '==> restore the build tools (tools/tools.csproj)'
    & dotnet restore $project -nologo -v quiet
    if ($LASTEXITCODE -ne 0) { throw "dotnet restore $project failed with exit code $LASTEXITCODE." }
    # A no-op restore leaves the assets file's time alone: touch it so the next check passes.
    (Get-Item $assets).LastWriteTimeUtc = [DateTime]::UtcNow
    $folder = Get-RestoredPackagesFolder
    if (-not $folder) { throw "dotnet restore $project did not restore every package it lists." }
}
return $folder
