#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The long fuzz run: every reader of outside bytes over -Cases mutated files each.
.DESCRIPTION
    Runs the xUnit fuzz tests (tests/SparsePrune.Core.Tests/Fuzz: .spmlp versions 1 to 3,
    SafeTensors, ONNX, CSV, IDX) with SPARSEPRUNE_FUZZ_CASES set, against the staged module's
    natives. Every case must load or raise SparsePruneException, within 2 s and the allocation
    bound FuzzRunner documents; a failing case's bytes are kept under the test project's
    bin/Release/net8.0/fuzz-failures/. build.ps1 test runs the same tests at 20,000 cases a
    reader. Results: bench/results/fuzz.json and fuzz.md (cases, seconds, outcomes per reader).
.PARAMETER Cases
    Cases per reader (default 1,000,000).
.PARAMETER Seed
    The run's seed: case k of a run is made from (Seed, k) alone.
.PARAMETER Quick
    1,000 cases a reader: proves the script works in seconds.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name fuzz
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [int] $Cases = 1000000,
    [int] $Seed = 1,
    [switch] $Quick
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
if ($Quick) { $Cases = 1000 }
$native = Split-Path -Parent (Resolve-Path $ModulePath)
$project = Join-Path $PSScriptRoot '../tests/SparsePrune.Core.Tests/SparsePrune.Core.Tests.csproj'
$lines = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-fuzz-$([guid]::NewGuid().ToString('N'))"

$env:SPARSEPRUNE_NATIVE_DIR = $native
$env:SPARSEPRUNE_FUZZ_CASES = $Cases
$env:SPARSEPRUNE_FUZZ_SEED = $Seed
$env:SPARSEPRUNE_FUZZ_RESULTS = $lines
# The fuzz tests' own classes only; they run in parallel, one reader a class.
$watch = [Diagnostics.Stopwatch]::StartNew()
dotnet test $project -c Release -nologo --filter 'FullyQualifiedName~SparsePrune.Tests.Fuzz' --logger 'console;verbosity=normal' | Out-Host
$testExit = $LASTEXITCODE
$watch.Stop()
foreach ($name in 'SPARSEPRUNE_FUZZ_CASES', 'SPARSEPRUNE_FUZZ_SEED', 'SPARSEPRUNE_FUZZ_RESULTS') { Remove-Item "env:$name" }

$file = Join-Path $lines 'fuzz.jsonl'
$readers = @(if (Test-Path $file) { Get-Content $file | ForEach-Object { $_ | ConvertFrom-Json } })
Remove-Item -Recurse -Force -ErrorAction Ignore $lines
$failures = ($readers | Measure-Object -Property failures -Sum).Sum
$result = [ordered]@{
    date = (Get-Date).ToUniversalTime().ToString('o')
    quick = [bool]$Quick
    cases_per_reader = $Cases
    seed = $Seed
    seconds = [Math]::Round($watch.Elapsed.TotalSeconds, 1)
    readers = $readers
    failures = [int]$failures
    passed = $testExit -eq 0 -and $readers.Count -eq 5 -and $failures -eq 0
}
$md = @(
    "Mutational fuzzing of every reader of outside bytes, $Cases cases a reader, seed $Seed$(if ($Quick) { ' (quick run)' }).",
    'Each case must load or raise SparsePruneException, within 2 s and the allocation bound.',
    '',
    '| reader | cases | seconds | loaded | refused | failures |',
    '|---|---:|---:|---:|---:|---:|'
    foreach ($r in $readers) { '| {0} | {1} | {2:0.0} | {3} | {4} | {5} |' -f $r.reader, $r.cases, $r.seconds, $r.loaded, $r.refused, $r.failures }
    '',
    "Result: $(if ($result.passed) { 'every case loaded or was refused with SparsePruneException' } else { "**failed** ($failures failing cases, $($readers.Count) of 5 readers reported; dotnet test exit code $testExit)" })."
)
New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$result | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $ResultsDir 'fuzz.json')
$md | Set-Content (Join-Path $ResultsDir 'fuzz.md')
$md | Write-Host
exit $(if ($result.passed) { 0 } else { 1 })
