#!/usr/bin/env pwsh

<#
.SYNOPSIS
    Makes SparsePrune's PowerShell Gallery packages: the module, and one LibTorch runtime per platform.
.DESCRIPTION
    Writes to -OutputPath the .nupkg files that Publish-PSResource and Install-PSResource take:

      SparsePrune.<v>.nupkg                    the cmdlets, help, formats and assertions (managed
                                               code only); its package depends on the three below
      SparsePrune.Runtime.<rid>.<v>.nupkg      for linux-x64, win-x64 and osx-arm64: the natives
                                               that Core/Native/NativeRuntimes.json names for that
                                               platform, with a manifest listing each file's size

    The split keeps every package under the NuGet gallery's 250 MB limit (LibTorch alone is
    80-130 MB compressed per platform). A package cannot depend on one platform only, so
    'Install-PSResource SparsePrune' brings all three runtimes; the module loads its own
    platform's at import (Cmdlets/Base/RuntimeLocator.cs) and nothing is fetched then.
    The packaged manifest names the runtimes in RequiredModules (what PSResourceGet installs with
    a module); the staged manifest, whose natives sit beside it, does not.

    Every package holds LICENSE and THIRD-PARTY-NOTICES.md and has the same version. The Linux
    libLibTorchSharp.so is shipped with its GLIBCXX_3.4.32 requirement marked weak
    (tools/Repair-LibTorchSharp.ps1 -Always), so that no user's machine needs a repair.
.PARAMETER ModulePath
    The staged module (out/SparsePrune), whose manifest gives the version.
.PARAMETER NativePath
    Runtime identifier → the folder that holds that platform's natives (a dotnet publish -r <rid>).
.PARAMETER OutputPath
    Where the .nupkg files go; SparsePrune*.nupkg files already there are replaced.
.PARAMETER Version
    Another version than the staged manifest's (for tests of Update-PSResource): the packages and
    their manifests say it.
.EXAMPLE
    ./tools/New-ModulePackage.ps1 -ModulePath out/SparsePrune -NativePath @{ 'linux-x64' = 'out/publish/Release'; 'win-x64' = 'out/publish/Release-win-x64'; 'osx-arm64' = 'out/publish/Release-osx-arm64' } -OutputPath out/packages
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $ModulePath,

    [Parameter(Mandatory)]
    [hashtable] $NativePath,

    [Parameter(Mandatory)]
    [string] $OutputPath,

    [string] $Version
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$root = Split-Path -Parent $PSScriptRoot
$runtimes = (Get-Content -Raw (Join-Path $root 'Core/Native/NativeRuntimes.json') | ConvertFrom-Json).runtimes
# Fixed identities of the runtime modules (a module's GUID never changes between versions).
$runtimeGuids = @{
    'linux-x64' = '6d1b7c2e-5f43-4a8e-b0d2-3c9e8f1a7b41'
    'win-x64'   = 'a3f0e9d4-1c2b-4e7f-8a65-9d0c3b2e1f52'
    'osx-arm64' = 'c8e2d1f0-7b6a-4c39-9e14-2f5a8d7c6b63'
}
$osTag = @{ 'linux-x64' = 'Linux'; 'win-x64' = 'Windows'; 'osx-arm64' = 'MacOS' }
$packer = Join-Path $PSScriptRoot 'Packaging/ModulePackage.csproj'

$ModulePath = (Resolve-Path $ModulePath).Path
$manifest = Import-PowerShellDataFile (Join-Path $ModulePath 'SparsePrune.psd1')
if (-not $Version) { $Version = $manifest.ModuleVersion }
$psData = $manifest.PrivateData.PSData
New-Item -ItemType Directory -Force -Path $OutputPath | Out-Null
$OutputPath = (Resolve-Path $OutputPath).Path
# A folder repository holds one version of each: packages of an earlier version go.
Get-ChildItem -LiteralPath $OutputPath -Filter 'SparsePrune*.nupkg' | Remove-Item -Force
$work = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-package-$PID"
Remove-Item -Recurse -Force -ErrorAction Ignore $work
New-Item -ItemType Directory -Path $work | Out-Null

function ConvertTo-XmlText([string] $Text) { [Security.SecurityElement]::Escape($Text) }

# One file of a package: its path on disk and its path in the package (NuGet needs the name too).
function New-FileElement([string] $Source, [string] $Target) {
    "    <file src=`"$(ConvertTo-XmlText $Source)`" target=`"$(ConvertTo-XmlText $Target.Replace('\', '/'))`" />"
}

function ConvertTo-PsString([string] $Text) { "'" + $Text.Replace("'", "''") + "'" }

# The versions of LibTorch and TorchSharp a platform's natives come from, read from its publish's deps.json.
function Get-NativeSource([string] $Folder, [string] $Rid) {
    $deps = Get-ChildItem -LiteralPath $Folder -Filter '*.deps.json' | Select-Object -First 1
    $libraries = if ($deps) { @((Get-Content -Raw $deps.FullName | ConvertFrom-Json).libraries.PSObject.Properties.Name) } else { @() }
    $version = { param($id) $m = $libraries | Where-Object { $_ -like "$id/*" } | Select-Object -First 1; if ($m) { $m.Split('/')[1] } else { 'unknown' } }
    [pscustomobject]@{ LibTorch = & $version "libtorch-cpu-$Rid"; TorchSharp = & $version 'TorchSharp' }
}

# Packs a folder described by a .nuspec's metadata and file list; returns the package.
function New-Package([string] $Id, [string] $Metadata, [string[]] $FileElements) {
    $nuspec = Join-Path $work "$Id.nuspec"
    @"
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2011/08/nuspec.xsd">
  <metadata>
    <id>$Id</id>
    <version>$Version</version>
$Metadata
  </metadata>
  <files>
$($FileElements -join "`n")
  </files>
</package>
"@ | Set-Content -LiteralPath $nuspec -Encoding utf8NoBOM
    $target = Join-Path $OutputPath "$Id.$Version.nupkg"
    Remove-Item -Force -ErrorAction Ignore $target
    # Its own obj folder per run: two packings at once must not share restore output.
    $obj = Join-Path $work "obj-$Id/"
    exec { dotnet pack $packer -nologo -v quiet "-p:NuspecFile=$nuspec" "-p:BaseIntermediateOutputPath=$obj" "-p:MSBuildProjectExtensionsPath=$obj" -o $OutputPath } | Out-Host
    if (-not (Test-Path $target)) { throw "dotnet pack wrote no $target." }
    Get-Item $target
}

function exec([scriptblock] $Command) {
    & $Command
    if ($LASTEXITCODE) { throw "Command failed with exit code ${LASTEXITCODE}: $Command" }
}

# The nuspecs and the repaired Linux library are written to $work, which goes whatever happens.
try {
$common = @"
    <authors>$(ConvertTo-XmlText $manifest.Author)</authors>
    <owners>$(ConvertTo-XmlText $manifest.CompanyName)</owners>
    <copyright>$(ConvertTo-XmlText $manifest.Copyright)</copyright>
    <requireLicenseAcceptance>false</requireLicenseAcceptance>
    <license type="expression">MIT</license>
    <projectUrl>$(ConvertTo-XmlText $psData.ProjectUri)</projectUrl>
    <releaseNotes>$(ConvertTo-XmlText $psData.ReleaseNotes)</releaseNotes>
"@
$notices = @('LICENSE', 'THIRD-PARTY-NOTICES.md') | ForEach-Object { Join-Path $root $_ }
foreach ($n in $notices) { if (-not (Test-Path $n)) { throw "$n is missing: every package ships it." } }
$noticeElements = $notices | ForEach-Object { New-FileElement $_ (Split-Path -Leaf $_) }

# --- the runtimes ------------------------------------------------------------------------
$allNatives = @($runtimes | ForEach-Object { $_.load; $_.skia; $_.harfbuzz })
$packages = [Collections.Generic.List[object]]::new()
foreach ($runtime in $runtimes) {
    $rid = $runtime.rid
    $id = "SparsePrune.Runtime.$rid"
    if (-not $NativePath.ContainsKey($rid)) { throw "No -NativePath for $rid." }
    $from = (Resolve-Path $NativePath[$rid]).Path
    $files = @($runtime.load) + $runtime.skia + $runtime.harfbuzz
    $paths = [ordered]@{}
    foreach ($f in $files) {
        $p = Join-Path $from $f
        if (-not (Test-Path -LiteralPath $p)) { throw "$rid's native $f is missing from $from." }
        $paths[$f] = $p
    }
    if ($rid -eq 'linux-x64') {
        # The shipped copy has GLIBCXX_3.4.32 marked weak, whatever this machine's libstdc++ has.
        $repaired = Join-Path $work 'linux-x64/libLibTorchSharp.so'
        New-Item -ItemType Directory -Force -Path (Split-Path $repaired) | Out-Null
        Copy-Item -LiteralPath $paths['libLibTorchSharp.so'] -Destination $repaired
        & (Join-Path $PSScriptRoot 'Repair-LibTorchSharp.ps1') -Path $repaired -Always | Out-Host
        $paths['libLibTorchSharp.so'] = $repaired
    }
    $source = Get-NativeSource $from $rid
    $sizes = ($paths.Keys | ForEach-Object { "                $(ConvertTo-PsString $_) = $((Get-Item -LiteralPath $paths[$_]).Length)" }) -join "`n"
    $description = "The native libraries SparsePrune $Version runs on for ${rid}: LibTorch $($source.LibTorch) (CPU), LibTorchSharp (TorchSharp $($source.TorchSharp)), SkiaSharp and HarfBuzzSharp. Installed with SparsePrune, which loads it at import; not imported by itself."
    $tags = @('SparsePrune', 'LibTorch', 'TorchSharp', 'PSEdition_Core', $osTag[$rid])
    $runtimeManifest = Join-Path $work "$rid/$id.psd1"
    New-Item -ItemType Directory -Force -Path (Split-Path $runtimeManifest) | Out-Null
    @"
# SparsePrune's natives for $rid, written by tools/New-ModulePackage.ps1. SparsePrune reads
# SparsePruneRuntime at import: the platform, and each file's size (a damaged file is refused
# before it is loaded).
@{
    ModuleVersion        = '$Version'
    GUID                 = '$($runtimeGuids[$rid])'
    Author               = $(ConvertTo-PsString $manifest.Author)
    CompanyName          = $(ConvertTo-PsString $manifest.CompanyName)
    Copyright            = $(ConvertTo-PsString "$($manifest.Copyright) The natives are under their own licences (THIRD-PARTY-NOTICES.md).")
    Description          = $(ConvertTo-PsString $description)
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    FunctionsToExport    = @()
    CmdletsToExport      = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData             = @{
            Tags         = @($(($tags | ForEach-Object { ConvertTo-PsString $_ }) -join ', '))
            ProjectUri   = $(ConvertTo-PsString $psData.ProjectUri)
            LicenseUri   = $(ConvertTo-PsString $psData.LicenseUri)
            ReleaseNotes = $(ConvertTo-PsString $psData.ReleaseNotes)
        }
        SparsePruneRuntime = @{
            Platform = '$rid'
            LibTorch = '$($source.LibTorch)'
            Files    = @{
$sizes
            }
        }
    }
}
"@ | Set-Content -LiteralPath $runtimeManifest -Encoding utf8NoBOM
    $metadata = @"
$common
    <description>$(ConvertTo-XmlText $description)</description>
    <tags>PSModule $($tags -join ' ')</tags>
"@
    $elements = @(New-FileElement $runtimeManifest "$id.psd1") + $noticeElements +
        @($paths.Keys | ForEach-Object { New-FileElement $paths[$_] $_ })
    $packages.Add((New-Package $id $metadata $elements))
}

# --- the module --------------------------------------------------------------------------
$moduleFiles = @(Get-ChildItem -LiteralPath $ModulePath -Recurse -File | Where-Object { $_.Name -notin $allNatives })
$stagedManifest = Join-Path $ModulePath 'SparsePrune.psd1'
# The packaged manifest requires the runtime modules by name: PSResourceGet installs a module's
# RequiredModules with it from every kind of repository (a folder one reads nothing else), and
# Import-Module finds them. Without a version, so that SparsePrune's own check (RuntimeLocator)
# judges the version and names the command that mends a mismatch. The staged module built from
# source has its natives beside it and requires nothing.
$requires = "RequiredModules      = @($(($runtimes | ForEach-Object { "'SparsePrune.Runtime.$($_.rid)'" }) -join ', '))"
$packagedManifest = Join-Path $work 'SparsePrune.psd1'
$text = (Get-Content -Raw $stagedManifest) -replace "ModuleVersion(\s*)=(\s*)'[^']+'", "ModuleVersion`$1=`$2'$Version'"
$text = $text -replace '(?m)^(\s*)RootModule(\s*)=', "`$1$requires`n`$1RootModule`$2="
Set-Content -LiteralPath $packagedManifest -Value $text -Encoding utf8NoBOM -NoNewline
$elements = foreach ($f in $moduleFiles) {
    $relative = [IO.Path]::GetRelativePath($ModulePath, $f.FullName)
    $src = if ($f.FullName -eq $stagedManifest) { $packagedManifest } else { $f.FullName }
    New-FileElement $src $relative
}
$cmdlets = @($manifest.CmdletsToExport)
$functions = @($manifest.FunctionsToExport)
$commandTags = @('PSModule', 'PSIncludes_Cmdlet', 'PSIncludes_Function') +
    @($cmdlets | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" }) +
    @($functions | ForEach-Object { "PSFunction_$_"; "PSCommand_$_" }) + @($psData.Tags)
# As RequiredModules says, for repositories that read the .nuspec: this version or later.
$dependencies = ($runtimes | ForEach-Object { "      <dependency id=`"SparsePrune.Runtime.$($_.rid)`" version=`"$Version`" />" }) -join "`n"
$metadata = @"
$common
    <description>$(ConvertTo-XmlText $manifest.Description)</description>
    <tags>$(ConvertTo-XmlText ($commandTags -join ' '))</tags>
    <dependencies>
$dependencies
    </dependencies>
"@
$packages.Insert(0, (New-Package 'SparsePrune' $metadata (@($elements) + $noticeElements)))
$packages
}
finally {
    Remove-Item -Recurse -Force -ErrorAction Ignore $work
}
