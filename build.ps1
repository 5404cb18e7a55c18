#!/usr/bin/env pwsh
<#
.SYNOPSIS
    SparsePrune's one entry point: build | test | demo | bench | clean.
.DESCRIPTION
    build  restores, compiles and stages out/SparsePrune/ (the module Import-Module loads),
           with every LibTorch native flat beside TorchSharp.dll.
    test   build, then xUnit (Core) and Pester (the staged module); prints one line
           'SparsePrune tests: N passed, N failed, N skipped' and exits non-zero on failure.
    demo   build, then the Digits pipeline in a fresh pwsh: train, sparsify, prune, report.
    bench  build, then every bench/*.ps1 (or -Name one); results go to bench/results/.
           test also runs bench/accuracy.ps1 -Quick and bench/perf.ps1 -Quick, which
           prove every path of both benchmarks on small sizes in a minute or two.
    clean  removes out/ and every bin/ and obj/.
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'demo', 'bench', 'clean')]
    [string] $Task = 'build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester: run only test files whose name matches this wildcard.
    [string] $PesterFilter = '*',

    # Skip the xUnit or Pester half of 'test'.
    [switch] $NoXunit,
    [switch] $NoPester,

    # bench: run only bench/<Name>.ps1 (e.g. -Name accuracy).
    [string] $Name = '*'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$Stage = Join-Path $Out 'SparsePrune'
$Publish = Join-Path $Out 'publish'
$PesterVersion = '6.2.0'

# LibTorch files the module never uses: left out of the staged module to keep it small.
$UnusedNatives = @(
    'libtorch_python.so', 'libnnapi_backend.so', 'libjitbackend_test.so', 'libtorchbind_test.so',
    'libbackend_with_compiler.so', 'libaoti_custom_ops.so', 'libshm.so'
)

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$File $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Get-NuGetPackagesFolder {
    $line = (& dotnet nuget locals global-packages --list) | Select-Object -First 1
    return ($line -replace '^global-packages:\s*', '').Trim()
}

# --- libstdc++ compatibility -------------------------------------------------------------
# libLibTorchSharp.so asks for GLIBCXX_3.4.32 for one symbol (std::ios_base_library_init)
# that no relocation uses. On a libstdc++ older than GCC 13 the loader refuses the library.
# Marking that version requirement weak (VER_FLG_WEAK, 0x2) in .gnu.version_r lets it load.

function Get-SystemLibStdCxx {
    $candidates = @('/lib/x86_64-linux-gnu/libstdc++.so.6', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6',
        '/usr/lib64/libstdc++.so.6', '/usr/lib/libstdc++.so.6')
    foreach ($c in $candidates) { if (Test-Path $c) { return (Resolve-Path $c).Path } }
    $fromCache = (& ldconfig -p 2>$null) | Where-Object { $_ -match 'libstdc\+\+\.so\.6 .*x86-64' } |
        ForEach-Object { ($_ -split '=>\s*')[1] } | Select-Object -First 1
    return $fromCache
}

function Test-FileContainsAscii([string] $Path, [string] $Text) {
    $bytes = [IO.File]::ReadAllBytes($Path)
    $latin = [Text.Encoding]::Latin1.GetString($bytes)
    return $latin.Contains($Text + [char]0)
}

function Set-ElfVersionNeedWeak {
    <# Sets VER_FLG_WEAK on the Elf64_Vernaux entry named $Version; returns $true if changed. #>
    param([string] $Path, [string] $Version)
    $bytes = [IO.File]::ReadAllBytes($Path)
    if ($bytes.Length -lt 64 -or $bytes[0] -ne 0x7f -or $bytes[1] -ne 0x45 -or $bytes[4] -ne 2 -or $bytes[5] -ne 1) {
        throw "$Path is not a little-endian ELF64 file."
    }
    $shoff = [BitConverter]::ToUInt64($bytes, 0x28)
    $shentsize = [BitConverter]::ToUInt16($bytes, 0x3A)
    $shnum = [BitConverter]::ToUInt16($bytes, 0x3C)
    $sections = for ($i = 0; $i -lt $shnum; $i++) {
        $o = [int]($shoff + [uint64]($i * $shentsize))
        [pscustomobject]@{
            Type   = [BitConverter]::ToUInt32($bytes, $o + 4)
            Offset = [BitConverter]::ToUInt64($bytes, $o + 24)
            Link   = [BitConverter]::ToUInt32($bytes, $o + 40)
            Info   = [BitConverter]::ToUInt32($bytes, $o + 44)
        }
    }
    $verneed = $sections | Where-Object Type -EQ 0x6ffffffe | Select-Object -First 1
    if (-not $verneed) { return $false }
    $strtab = [int]$sections[$verneed.Link].Offset
    $changed = $false
    $vn = [int]$verneed.Offset
    for ($n = 0; $n -lt $verneed.Info; $n++) {
        $cnt = [BitConverter]::ToUInt16($bytes, $vn + 2)
        $aux = $vn + [int][BitConverter]::ToUInt32($bytes, $vn + 8)
        for ($a = 0; $a -lt $cnt; $a++) {
            $nameOff = $strtab + [int][BitConverter]::ToUInt32($bytes, $aux + 8)
            $end = [Array]::IndexOf($bytes, [byte]0, $nameOff)
            $name = [Text.Encoding]::ASCII.GetString($bytes, $nameOff, $end - $nameOff)
            if ($name -eq $Version) {
                $flags = [BitConverter]::ToUInt16($bytes, $aux + 4)
                if (($flags -band 2) -eq 0) {
                    $flags = $flags -bor 2
                    $bytes[$aux + 4] = [byte]($flags -band 0xff)
                    $bytes[$aux + 5] = [byte]($flags -shr 8)
                    $changed = $true
                }
            }
            $aux += [int][BitConverter]::ToUInt32($bytes, $aux + 12)
        }
        $vn += [int][BitConverter]::ToUInt32($bytes, $vn + 12)
    }
    if ($changed) { [IO.File]::WriteAllBytes($Path, $bytes) }
    return $changed
}

function Copy-IfChanged([string] $Source, [string] $Destination) {
    if (Test-Path $Destination) {
        $s = Get-Item $Source; $d = Get-Item $Destination
        if ($s.Length -eq $d.Length -and $s.LastWriteTimeUtc -le $d.LastWriteTimeUtc) { return $false }
    }
    Copy-Item -LiteralPath $Source -Destination $Destination -Force
    return $true
}

# --- tasks -----------------------------------------------------------------------------

function Invoke-Build {
    Write-Host "==> restore and compile ($Configuration)"
    Invoke-Native dotnet @('publish', (Join-Path $Root 'Cmdlets/SparsePrune.Cmdlets.csproj'), '-c', $Configuration,
        '-r', 'linux-x64', '--self-contained', 'false', '-o', $Publish, '-nologo', '-v', 'quiet', '-p:ErrorOnDuplicatePublishOutputFiles=false')

    Write-Host "==> stage $Stage"
    New-Item -ItemType Directory -Force -Path $Stage, (Join-Path $Stage 'en-US') | Out-Null
    $patchedMarker = Join-Path $Stage '.libtorchsharp-patched'
    foreach ($file in Get-ChildItem -LiteralPath $Publish -File) {
        if ($UnusedNatives -contains $file.Name) { continue }
        if ($file.Name -like '*.deps.json') { continue }
        $copied = Copy-IfChanged $file.FullName (Join-Path $Stage $file.Name)
        if ($copied -and $file.Name -eq 'libLibTorchSharp.so') { Remove-Item -Force $patchedMarker -ErrorAction Ignore }
    }
    foreach ($unused in $UnusedNatives) { Remove-Item -Force -ErrorAction Ignore (Join-Path $Stage $unused) }
    Copy-Item -Force (Join-Path $Root 'SparsePrune.psd1') $Stage
    Copy-Item -Force (Join-Path $Root 'Module/*.ps1xml') $Stage
    Copy-Item -Force (Join-Path $Root 'Module/en-US/*') (Join-Path $Stage 'en-US')
    # Cmdlet help is built from help/*.md (see help/README.md).
    & (Join-Path $Root 'tools/Build-Help.ps1') -SourcePath (Join-Path $Root 'help') -OutputPath (Join-Path $Stage 'en-US/SparsePrune.Cmdlets.dll-Help.xml')

    if ($IsLinux) {
        $libstdcxx = Get-SystemLibStdCxx
        $lib = Join-Path $Stage 'libLibTorchSharp.so'
        if ($libstdcxx -and -not (Test-FileContainsAscii $libstdcxx 'GLIBCXX_3.4.32')) {
            if (-not (Test-Path $patchedMarker)) {
                $changed = Set-ElfVersionNeedWeak -Path $lib -Version 'GLIBCXX_3.4.32'
                Set-Content -Path $patchedMarker -Value "GLIBCXX_3.4.32 marked weak (system: $libstdcxx)"
                Write-Host "==> $libstdcxx lacks GLIBCXX_3.4.32: marked that version requirement of libLibTorchSharp.so weak (changed: $changed)"
            }
        }
    }
    Write-Host "==> staged module: $Stage"
}

function Get-PesterModulePath {
    $tools = Join-Path $Root 'tests/tools/tools.csproj'
    Invoke-Native dotnet @('restore', $tools, '-nologo', '-v', 'quiet')
    $path = Join-Path (Get-NuGetPackagesFolder) "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $path)) { throw "Pester $PesterVersion was not restored to $path." }
    return $path
}

function Get-Pwsh {
    # The pwsh running this script runs the children too: as a dotnet tool that is
    # 'dotnet <PSHOME>/pwsh.dll', otherwise the pwsh executable itself.
    $self = [Environment]::ProcessPath
    if ((Split-Path -Leaf $self) -like 'pwsh*') { return @($self) }
    return @($self, (Join-Path $PSHOME 'pwsh.dll'))
}

function Invoke-ChildPwsh([string] $Command) {
    $pwsh = @(Get-Pwsh)
    $exe = $pwsh[0]
    $argList = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $Command)
    & $exe @argList | Out-Host
    return $LASTEXITCODE
}

function Invoke-Xunit {
    $results = Join-Path $Out 'test-results'
    New-Item -ItemType Directory -Force -Path $results | Out-Null
    $trx = Join-Path $results 'core.trx'
    Remove-Item -Force -ErrorAction Ignore $trx
    $env:SPARSEPRUNE_NATIVE_DIR = $Stage
    & dotnet test (Join-Path $Root 'tests/SparsePrune.Core.Tests/SparsePrune.Core.Tests.csproj') -c $Configuration -nologo `
        --logger "trx;LogFileName=$trx" --logger 'console;verbosity=normal' --results-directory $results
    if (-not (Test-Path $trx)) { return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    [xml] $x = Get-Content -Raw $trx
    $c = $x.TestRun.ResultSummary.Counters
    return [pscustomobject]@{ Passed = [int]$c.passed; Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted; Skipped = [int]$c.notExecuted }
}

function Invoke-PesterTests {
    $pester = Get-PesterModulePath
    $summary = Join-Path $Out 'test-results/pester.json'
    New-Item -ItemType Directory -Force -Path (Split-Path $summary) | Out-Null
    Remove-Item -Force -ErrorAction Ignore $summary
    $testsDir = Join-Path $Root 'tests'
    $cmd = @"
`$ErrorActionPreference = 'Stop'
`$PSStyle.OutputRendering = 'PlainText'
Import-Module '$pester' -RequiredVersion $PesterVersion
`$env:SPARSEPRUNE_MODULE = '$(Join-Path $Stage 'SparsePrune.psd1')'
`$c = New-PesterConfiguration
`$c.Run.Path = @(Get-ChildItem -Path '$testsDir' -Filter '$PesterFilter.Tests.ps1' -Recurse | ForEach-Object FullName)
`$c.Run.PassThru = `$true
`$c.Output.Verbosity = 'Detailed'
`$c.TestResult.Enabled = `$true
`$c.TestResult.OutputPath = '$(Join-Path $Out 'test-results/pester.xml')'
try { `$r = Invoke-Pester -Configuration `$c } catch { Write-Host "Pester failed: `$_"; exit 1 }
@{ Passed = `$r.PassedCount; Failed = `$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount; Skipped = `$r.SkippedCount } | ConvertTo-Json | Set-Content '$summary'
"@
    $null = Invoke-ChildPwsh $cmd
    if (-not (Test-Path $summary)) { return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    return Get-Content -Raw $summary | ConvertFrom-Json
}

function Install-Prerequisites {
    param([string[]] $Packages)
    # Debian packages the tests and benchmarks use, installed here so that the README's commands
    # are complete; where apt-get or root is missing, what needs them says why it is skipped.
    $need = @($Packages | Where-Object {
        & dpkg -s $_ 2>$null | Out-Null; $LASTEXITCODE -ne 0
    })
    if ($need.Count -eq 0) { return }
    $isRoot = (& id -u) -eq '0'
    if (-not (Get-Command apt-get -ErrorAction Ignore) -or -not $isRoot) {
        Write-Host "==> cannot install $($need -join ', ') (needs root and apt-get); the tests that need them will be skipped"
        return
    }
    Write-Host "==> apt-get install $($need -join ' ')"
    $env:DEBIAN_FRONTEND = 'noninteractive'
    & apt-get update -qq | Out-Null
    & apt-get install -y -qq --no-install-recommends @need | Out-Null
    if ($LASTEXITCODE -ne 0) { Write-Host "==> apt-get install failed ($LASTEXITCODE); what needs $($need -join ', ') will be skipped" }
}

function Invoke-Test {
    # Fashion-MNIST for the IDX tests; python3-torch, whose system LibTorch 1.13 the native-loading
    # tests must not bind to.
    if ($IsLinux -and (Get-Command dpkg -ErrorAction Ignore)) { Install-Prerequisites 'dataset-fashion-mnist', 'python3-torch', 'libopenblas0-pthread' }
    Invoke-Build
    $parts = @()
    if (-not $NoXunit) { Write-Host '==> xUnit (Core)'; $parts += Invoke-Xunit }
    if (-not $NoPester) { Write-Host '==> Pester (staged module)'; $parts += Invoke-PesterTests }
    if (-not $NoPester) { Write-Host '==> bench/accuracy.ps1 -Quick'; $parts += Invoke-QuickBench }
    if (-not $NoPester) { Write-Host '==> bench/perf.ps1 -Quick'; $parts += Invoke-QuickPerf }
    $passed = ($parts | Measure-Object -Property Passed -Sum).Sum
    $failed = ($parts | Measure-Object -Property Failed -Sum).Sum
    $skipped = ($parts | Measure-Object -Property Skipped -Sum).Sum
    Write-Host ''
    Write-Host "SparsePrune tests: $passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0 -or $passed -eq 0) { exit 1 }
}

function Invoke-QuickBench {
    # Every path of the accuracy benchmark on Digits; results beside the other test results.
    $results = Join-Path $Out 'test-results/accuracy-quick'
    $code = Invoke-ChildPwsh "& '$(Join-Path $Root 'bench/accuracy.ps1')' -Quick -ModulePath '$(Join-Path $Stage 'SparsePrune.psd1')' -ResultsDir '$results'"
    $ok = $code -eq 0 -and (Test-Path (Join-Path $results 'accuracy.json'))
    Write-Host "bench/accuracy.ps1 -Quick: $(if ($ok) { 'passed' } else { "failed (exit code $code)" })"
    return [pscustomobject]@{ Passed = [int]$ok; Failed = [int](-not $ok); Skipped = 0 }
}

function Build-BareTorch {
    # The bare TorchSharp loop bench/perf.ps1 compares against (our floor).
    Invoke-Native 'dotnet' @('build', (Join-Path $Root 'bench/BareTorch/BareTorch.csproj'), '-c', 'Release', '-o', (Join-Path $Out 'bench/BareTorch'), '-nologo', '-v', 'q')
}

function Invoke-QuickPerf {
    # Every path of the performance benchmark on small sizes: it runs, and writes every figure.
    Build-BareTorch
    $results = Join-Path $Out 'test-results/perf-quick'
    $code = Invoke-ChildPwsh "& '$(Join-Path $Root 'bench/perf.ps1')' -Quick -ModulePath '$(Join-Path $Stage 'SparsePrune.psd1')' -ResultsDir '$results'"
    $json = Join-Path $results 'perf.json'
    $ok = $code -eq 0 -and (Test-Path $json)
    if ($ok) {
        # Figures 3, 4 and 5 need nothing but the module; 1 and 2 their data and peers when present.
        $ids = @((Get-Content -Raw $json | ConvertFrom-Json).Figures.Id)
        foreach ($id in '3', '4-b1', '4-b64', '5') { if ($ids -notcontains $id) { $ok = $false; Write-Host "bench/perf.ps1 -Quick wrote no figure $id" } }
    }
    Write-Host "bench/perf.ps1 -Quick: $(if ($ok) { 'passed' } else { "failed (exit code $code)" })"
    return [pscustomobject]@{ Passed = [int]$ok; Failed = [int](-not $ok); Skipped = 0 }
}

function Invoke-Demo {
    Invoke-Build
    $demo = Join-Path $Root 'demo.ps1'
    $code = Invoke-ChildPwsh "& '$demo' -ModulePath '$(Join-Path $Stage 'SparsePrune.psd1')'"
    if ($code -ne 0) { exit $code }
}

function Invoke-Bench {
    # The PyTorch peer (python3-torch) needs OpenBLAS, or it runs on reference BLAS, 8x slower.
    if ($IsLinux -and (Get-Command dpkg -ErrorAction Ignore)) { Install-Prerequisites 'dataset-fashion-mnist', 'python3-torch', 'libopenblas0-pthread' }
    Invoke-Build
    Build-BareTorch
    $results = Join-Path $Root 'bench/results'
    New-Item -ItemType Directory -Force -Path $results | Out-Null
    $failed = 0
    $benches = @(Get-ChildItem (Join-Path $Root 'bench') -Filter "$Name.ps1")
    if ($benches.Count -eq 0) { throw "No benchmark matches -Name '$Name' in bench/ (there are: $((Get-ChildItem (Join-Path $Root 'bench') -Filter '*.ps1').BaseName -join ', '))." }
    foreach ($b in $benches) {
        Write-Host "==> bench $($b.Name)"
        $code = Invoke-ChildPwsh "& '$($b.FullName)' -ModulePath '$(Join-Path $Stage 'SparsePrune.psd1')' -ResultsDir '$results'"
        if ($code -ne 0) { $failed++ }
    }
    if ($failed) { exit 1 }
}

function Invoke-Clean {
    Remove-Item -Recurse -Force -ErrorAction Ignore $Out
    Get-ChildItem -Path $Root -Directory -Recurse -Include 'bin', 'obj' |
        Where-Object { $_.FullName -notlike "$Out*" } |
        Remove-Item -Recurse -Force -ErrorAction Ignore
    Write-Host 'clean.'
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'demo' { Invoke-Demo }
    'bench' { Invoke-Bench }
    'clean' { Invoke-Clean }
}
