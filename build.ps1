#!/usr/bin/env pwsh

<#
.SYNOPSIS
    SparsePrune's one entry point: build | test | demo | bench | package | clean.
.DESCRIPTION
    Parses the switches, restores Invoke-Build and Pester from NuGet (tools/tools.csproj) when
    they are missing, and runs the task of the same name in SparsePrune.build.ps1 with
    Invoke-Build. Tasks there declare their inputs and outputs: a build of an unchanged tree
    only compares timestamps.

    build  compiles and stages out/SparsePrune/ (the module Import-Module loads), with every
           LibTorch native flat beside TorchSharp.dll.
    package  build, then out/packages/: the PowerShell Gallery packages (SparsePrune and one
           LibTorch runtime per platform), which Install-PSResource takes from a folder
           repository (Register-PSResourceRepository -Uri out/packages).
    test   build and package, then xUnit (Core), Pester (the staged module) and the quick benchmarks
           (bench/*.ps1 with -Quick, which prove every path of those benchmarks on small sizes in
           a minute or two each); prints one line
           'SparsePrune tests: N passed, N failed, N skipped' and exits non-zero on failure.
           It first installs the Debian packages the tests use (tools/Install-Prerequisites.ps1).
    demo   build, then the Digits pipeline in a fresh pwsh: train, sparsify, prune, report.
    bench  build, then every bench/*.ps1 (or -Name one); results go to bench/results/.
    clean  removes out/ and every bin/ and obj/.
.PARAMETER Task
    build (the default), test, demo, bench, package or clean.
.PARAMETER Configuration
    Release (the default) or Debug, for the module and the xUnit tests.
.PARAMETER PesterFilter
    test: run only the Pester files whose name matches this wildcard (e.g. Model for
    tests/Model.Tests.ps1).
.PARAMETER NoXunit
    test: skip the xUnit tests of Core.
.PARAMETER NoPester
    test: skip the Pester tests. The quick benchmarks still run (see -NoQuickBench).
.PARAMETER NoQuickBench
    test: skip the quick benchmarks (every bench/*.ps1 that the test task runs with -Quick:
    accuracy, perf, compression, report, callcost, soak, sweep, budget and scoring).
.PARAMETER Name
    bench: run only bench/<Name>.ps1 (e.g. -Name accuracy).
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
.EXAMPLE
    dotnet pwsh ./build.ps1 test -NoXunit -NoQuickBench -PesterFilter Model
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name perf
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'bench', 'package', 'clean')]
    [string] $Task = 'build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [string] $PesterFilter = '*',

    [switch] $NoXunit,
    [switch] $NoPester,
    [switch] $NoQuickBench,

    [string] $Name = '*'
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$packages = & (Join-Path $PSScriptRoot 'tools/Restore-BuildTools.ps1')
$invokeBuild = Join-Path $packages 'invoke-build/5.14.23/tools/Invoke-Build.ps1'

$summary = @{}
$buildArgs = @{
    File          = Join-Path $PSScriptRoot 'SparsePrune.build.ps1'
    Configuration = $Configuration
    PesterFilter  = $PesterFilter
    NoXunit       = $NoXunit
    NoPester      = $NoPester
    NoQuickBench  = $NoQuickBench
    Name          = $Name
    TestSummary   = $summary
}
$ok = $true
try {
    & $invokeBuild $Task @buildArgs
}
catch {
    # Invoke-Build has printed the error and 'Build FAILED' already.
    $ok = $false
}
# The test counts close the output, after Invoke-Build's summary: CI reads the last line.
if ($summary['Line']) {
    Write-Host ''
    Write-Host $summary.Line
}
if (-not $ok -or $summary['Failed']) { exit 1 }
