<#
.SYNOPSIS
    SparsePrune's build tasks, run by Invoke-Build through build.ps1 (see its help).
.DESCRIPTION
    The steps that cost time declare their inputs and outputs, so that Invoke-Build skips them
    when nothing they read has changed: a build of an unchanged tree only compares timestamps.
      build  Publish (dotnet publish, to out/publish/<Configuration>), Stage (out/SparsePrune, the
             module built from source, every native beside it)
      package  build, PublishRuntimes (the natives of win-x64 and osx-arm64), Package
             (out/packages: the .nupkg files Install-PSResource takes)
      test   Prerequisites, build, package, Xunit, Pester, QuickAccuracy, QuickPerf, QuickCompression, QuickReport,
             QuickCallCost, QuickSoak, QuickSweep, QuickBudget, QuickCompress, QuickScoring
      demo   build, then demo.ps1 in a fresh pwsh
      bench  Prerequisites, build, BareTorch, OrtTiming, then bench/*.ps1
      clean  removes out/ and every bin/ and obj/
    Helpers that are not tasks live in tools/.
.EXAMPLE
    Invoke-Build build -File ./SparsePrune.build.ps1 -Configuration Debug
#>
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester: run only test files whose name matches this wildcard.
    [string] $PesterFilter = '*',

    # test: skip xUnit, Pester, or the quick benchmarks.
    [switch] $NoXunit,
    [switch] $NoPester,
    [switch] $NoQuickBench,

    # bench: run only bench/<Name>.ps1.
    [string] $Name = '*',

    # The test task's closing line goes in here. build.ps1 passes a hashtable and prints the
    # line itself, last, after Invoke-Build's own summary, where CI reads it; run directly, the
    # test task prints it.
    [hashtable] $TestSummary
)
Set-StrictMode -Version Latest

$Out = Join-Path $BuildRoot 'out'
$Stage = Join-Path $Out 'SparsePrune'
$StageHelp = Join-Path $Stage 'en-US'
# One folder per configuration: publish copies a file only when it is newer than the one there,
# so a Release publish into a folder a later Debug publish has filled would keep Debug's files.
$Publish = Join-Path $Out "publish/$Configuration"
$PublishStamp = Join-Path $Publish '.published'
$TestResultsDir = Join-Path $Out 'test-results'
$PesterVersion = '6.2.0'
$BuildHelp = Join-Path $BuildRoot 'tools/Build-Help.ps1'
$PrintTestSummary = $null -eq $TestSummary
if ($PrintTestSummary) { $TestSummary = @{} }
$TestCounts = [System.Collections.Generic.List[object]]::new()

# LibTorch files the module never uses: left out of the staged module to keep it small.
$UnusedNatives = @(
    'libtorch_python.so', 'libnnapi_backend.so', 'libjitbackend_test.so', 'libtorchbind_test.so',
    'libbackend_with_compiler.so', 'libaoti_custom_ops.so', 'libshm.so'
)

function Get-SourceFile([string[]] $Folder) {
    # Every file of the projects' folders but bin/ and obj/, which the build itself writes.
    foreach ($f in $Folder) {
        Get-ChildItem -LiteralPath $f -File
        Get-ChildItem -LiteralPath $f -Directory | Where-Object Name -NotIn 'bin', 'obj' |
            Get-ChildItem -File -Recurse
    }
    # MSBuild and NuGet settings that every project imports, where they exist.
    Get-Item -ErrorAction Ignore -Path (Join-Path $BuildRoot '*') -Include 'Directory.Build.*', 'SparsePrune.psd1',
        'Directory.Packages.props', 'global.json', 'NuGet.config', 'nuget.config'
}

function Copy-IfChanged([IO.FileInfo] $Source, [string] $Destination) {
    # Copies keep the source's time, so any other time or size means another file: a rebuild, the
    # other configuration, or another package version (whose files can be older).
    if (Test-Path -LiteralPath $Destination) {
        $d = Get-Item -LiteralPath $Destination
        if ($Source.Length -eq $d.Length -and $Source.LastWriteTimeUtc -eq $d.LastWriteTimeUtc) { return $false }
    }
    Copy-Item -LiteralPath $Source.FullName -Destination $Destination -Force
    return $true
}

function Invoke-ChildPwsh([string] $Command) {
    # The pwsh running this build runs the children too: as a dotnet tool that is
    # 'dotnet <PSHOME>/pwsh.dll', otherwise the pwsh executable itself.
    $self = [Environment]::ProcessPath
    $pwsh = if ((Split-Path -Leaf $self) -like 'pwsh*') { @($self) } else { @($self, (Join-Path $PSHOME 'pwsh.dll')) }
    $argList = @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $Command)
    & $pwsh[0] @argList | Out-Host
    return $LASTEXITCODE
}

function Add-TestCount([string] $Part, [int] $Passed, [int] $Failed, [int] $Skipped) {
    $TestCounts.Add([pscustomobject]@{ Part = $Part; Passed = $Passed; Failed = $Failed; Skipped = $Skipped })
}

# The staged manifest is SparsePrune.psd1 with ReleaseNotes taken from CHANGELOG.md's section for
# its version; written only when that changes, so that an unchanged build leaves it alone.
function Write-StagedManifest {
    $version = (Import-PowerShellDataFile SparsePrune.psd1).ModuleVersion
    $notes = & ./tools/Get-ReleaseNote.ps1 -Version $version
    $text = (Get-Content -Raw SparsePrune.psd1).Replace("ReleaseNotes = ''", "ReleaseNotes = '$($notes.Replace("'", "''"))'")
    $target = Join-Path $Stage 'SparsePrune.psd1'
    if ((Test-Path $target) -and (Get-Content -Raw $target) -ceq $text) { return }
    [IO.File]::WriteAllText($target, $text)
    print Gray "staged SparsePrune.psd1 ($version, release notes from CHANGELOG.md)"
}

# --- build -------------------------------------------------------------------------------

# Synopsis: Compile the cmdlets and Core, with LibTorch's natives for linux-x64, into out/publish/<Configuration>.
task Publish -Inputs { Get-SourceFile Core, Cmdlets } -Outputs $PublishStamp {
    exec {
        dotnet publish Cmdlets/SparsePrune.Cmdlets.csproj -c $Configuration -r linux-x64 --self-contained false `
            -o $Publish -nologo -v quiet -p:ErrorOnDuplicatePublishOutputFiles=false
    }
    # A stamp rather than the dll: MSBuild leaves the dll alone when an input changes nothing.
    Set-Content -Path $PublishStamp -Value "dotnet publish -c $Configuration"
}

# Synopsis: Generate the cmdlets' MAML help from help/*.md.
task MamlHelp -Inputs { Get-ChildItem help/*.md; $BuildHelp } -Outputs "$StageHelp/SparsePrune.Cmdlets.dll-Help.xml" {
    New-Item -ItemType Directory -Force -Path $StageHelp | Out-Null
    & $BuildHelp -SourcePath (Join-Path $BuildRoot 'help') -OutputPath "$StageHelp/SparsePrune.Cmdlets.dll-Help.xml"
}

# Synopsis: Stage the about topic.
task AboutHelp -Inputs Module/en-US/about_SparsePrune.help.txt -Outputs "$StageHelp/about_SparsePrune.help.txt" {
    New-Item -ItemType Directory -Force -Path $StageHelp | Out-Null
    Copy-Item -LiteralPath $Inputs -Destination $Outputs -Force
}

# Synopsis: Lay out out/SparsePrune as users get it: every native flat beside TorchSharp.dll.
task Stage Publish, MamlHelp, AboutHelp, {
    New-Item -ItemType Directory -Force -Path $Stage | Out-Null
    $files = @(Get-ChildItem -LiteralPath $Publish -File | Where-Object {
            $_.Name -notin $UnusedNatives -and $_.Name -notlike '*.deps.json' -and $_.Name -notlike '.*' })
    $files += Get-Item Module/*.ps1xml, Module/*.psm1
    foreach ($file in $files) {
        if (Copy-IfChanged $file (Join-Path $Stage $file.Name)) { print Gray "staged $($file.Name)" }
    }
    Write-StagedManifest
    foreach ($unused in $UnusedNatives) { Remove-Item -Force -ErrorAction Ignore (Join-Path $Stage $unused) }
    $lib = Join-Path $Stage 'libLibTorchSharp.so'
    & ./tools/Repair-LibTorchSharp.ps1 -Path $lib
    # The repaired copy keeps its source's time, so that the next build sees it as unchanged.
    (Get-Item $lib).LastWriteTimeUtc = (Get-Item (Join-Path $Publish 'libLibTorchSharp.so')).LastWriteTimeUtc
    print Gray "==> staged module: $Stage"
}

# Synopsis: Compile and stage the module (the default).
task build Stage
task . build

# --- package -----------------------------------------------------------------------------

# The platforms besides linux-x64 (which Publish makes) that SparsePrune ships a runtime for.
$OtherRids = @((Get-Content -Raw Core/Native/NativeRuntimes.json | ConvertFrom-Json).runtimes.rid | Where-Object { $_ -ne 'linux-x64' })
$PackageDir = Join-Path $Out 'packages'

# Synopsis: Publish for each other platform SparsePrune ships a runtime for, to collect its natives.
task PublishRuntimes -Inputs { Get-SourceFile Core, Cmdlets } -Outputs { $OtherRids | ForEach-Object { Join-Path $Out "publish/$Configuration-$_/.published" } } {
    foreach ($rid in $OtherRids) {
        $dir = Join-Path $Out "publish/$Configuration-$rid"
        exec {
            dotnet publish Cmdlets/SparsePrune.Cmdlets.csproj -c $Configuration -r $rid --self-contained false `
                -o $dir -nologo -v quiet -p:ErrorOnDuplicatePublishOutputFiles=false
        }
        Set-Content -Path (Join-Path $dir '.published') -Value "dotnet publish -c $Configuration -r $rid"
    }
}

# Synopsis: Write the PowerShell Gallery packages to out/packages: the module and a LibTorch runtime per platform.
task Package Stage, PublishRuntimes, {
    # Packing LibTorch takes half a minute: only when something packed has changed.
    $version = (Import-PowerShellDataFile SparsePrune.psd1).ModuleVersion
    $ids = @('SparsePrune') + @((Get-Content -Raw Core/Native/NativeRuntimes.json | ConvertFrom-Json).runtimes.rid | ForEach-Object { "SparsePrune.Runtime.$_" })
    $outputs = @($ids | ForEach-Object { Join-Path $PackageDir "$_.$version.nupkg" })
    $inputs = @(Get-ChildItem $Stage -Recurse -File) + @(Get-Item LICENSE, THIRD-PARTY-NOTICES.md, CHANGELOG.md, tools/New-ModulePackage.ps1, tools/Packaging/ModulePackage.csproj, Core/Native/NativeRuntimes.json) +
        @($OtherRids | ForEach-Object { Get-Item -Force (Join-Path $Out "publish/$Configuration-$_/.published") })
    $newest = ($inputs | Measure-Object -Property LastWriteTimeUtc -Maximum).Maximum
    if (@($outputs | Where-Object { -not (Test-Path $_) -or (Get-Item $_).LastWriteTimeUtc -lt $newest }).Count -eq 0) {
        print Gray "packages up to date: $PackageDir"
        return
    }
    $natives = @{ 'linux-x64' = $Publish }
    foreach ($rid in $OtherRids) { $natives[$rid] = Join-Path $Out "publish/$Configuration-$rid" }
    $packages = & ./tools/New-ModulePackage.ps1 -ModulePath $Stage -NativePath $natives -OutputPath $PackageDir
    foreach ($p in $packages) { print Gray ("{0,-48} {1,7:N1} MB" -f $p.Name, ($p.Length / 1MB)) }
}

# --- test --------------------------------------------------------------------------------

# Synopsis: Install the Debian packages the tests and benchmarks use (root and apt-get only).
task Prerequisites {
    & ./tools/Install-Prerequisites.ps1
}

# Synopsis: xUnit tests of Core, on the staged natives.
task Xunit -If (!$NoXunit) Stage, {
    New-Item -ItemType Directory -Force -Path $TestResultsDir | Out-Null
    $trx = Join-Path $TestResultsDir 'core.trx'
    Remove-Item -Force -ErrorAction Ignore $trx
    $env:SPARSEPRUNE_NATIVE_DIR = $Stage
    # Not exec: failed tests exit non-zero too, and the counts come from the trx file.
    dotnet test tests/SparsePrune.Core.Tests/SparsePrune.Core.Tests.csproj -c $Configuration -nologo `
        --logger "trx;LogFileName=$trx" --logger 'console;verbosity=normal' --results-directory $TestResultsDir | Out-Host
    if (-not (Test-Path $trx)) { Add-TestCount xUnit 0 1 0; return }
    $c = ([xml] (Get-Content -Raw $trx)).TestRun.ResultSummary.Counters
    Add-TestCount xUnit $c.passed ([int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted) $c.notExecuted
}

# Synopsis: Build the ONNX Runtime runner the Pester tests check exported files with (a test tool only).
task OnnxRun -Inputs { Get-SourceFile tests/tools/OnnxRun } -Outputs "$Out/tests/OnnxRun/.built" {
    exec { dotnet build tests/tools/OnnxRun/OnnxRun.csproj -c Release -o "$Out/tests/OnnxRun" -nologo -v q }
    Set-Content -Path "$Out/tests/OnnxRun/.built" -Value 'dotnet build -c Release'
}

# Synopsis: Pester tests of the staged module, in a child pwsh.
task Pester -If (!$NoPester) Stage, OnnxRun, {
    $pester = Join-Path (& ./tools/Restore-BuildTools.ps1) "pester/$PesterVersion/tools/Pester.psd1"
    assert (Test-Path $pester) "Pester $PesterVersion was not restored to $pester."
    $summary = Join-Path $TestResultsDir 'pester.json'
    New-Item -ItemType Directory -Force -Path $TestResultsDir | Out-Null
    Remove-Item -Force -ErrorAction Ignore $summary
    $cmd = @"
`$ErrorActionPreference = 'Stop'
`$PSStyle.OutputRendering = 'PlainText'
Import-Module '$pester' -RequiredVersion $PesterVersion
`$env:SPARSEPRUNE_MODULE = '$(Join-Path $Stage 'SparsePrune.psd1')'
`$env:SPARSEPRUNE_ONNXRUN = '$(Join-Path $Out 'tests/OnnxRun/OnnxRun.dll')'
`$c = New-PesterConfiguration
`$c.Run.Path = @(Get-ChildItem -Path '$(Join-Path $BuildRoot 'tests')' -Filter '$PesterFilter.Tests.ps1' -Recurse | ForEach-Object FullName)
`$c.Run.PassThru = `$true
`$c.Output.Verbosity = 'Detailed'
`$c.TestResult.Enabled = `$true
`$c.TestResult.OutputPath = '$(Join-Path $TestResultsDir 'pester.xml')'
try { `$r = Invoke-Pester -Configuration `$c } catch { Write-Host "Pester failed: `$_"; exit 1 }
@{ Passed = `$r.PassedCount; Failed = `$r.FailedCount + `$r.FailedBlocksCount + `$r.FailedContainersCount; Skipped = `$r.SkippedCount } | ConvertTo-Json | Set-Content '$summary'
"@
    $null = Invoke-ChildPwsh $cmd
    if (-not (Test-Path $summary)) { Add-TestCount Pester 0 1 0; return }
    $r = Get-Content -Raw $summary | ConvertFrom-Json
    Add-TestCount Pester $r.Passed $r.Failed $r.Skipped
}

# Runs bench/<Bench>.ps1 -Quick on the staged module into the test results; true when it exits 0
# and wrote <Bench>.json. $Check may look further at the results folder (false fails the run).
function Invoke-QuickBench([string] $Bench, [scriptblock] $Check = { $true }) {
    $results = Join-Path $TestResultsDir "$Bench-quick"
    $code = Invoke-ChildPwsh "& '$(Join-Path $BuildRoot "bench/$Bench.ps1")' -Quick -ModulePath '$(Join-Path $Stage 'SparsePrune.psd1')' -ResultsDir '$results'"
    $ok = $code -eq 0 -and (Test-Path (Join-Path $results "$Bench.json")) -and (& $Check $results)
    # print writes to the output stream where the host has no colours: keep it out of the result.
    print Gray "bench/$Bench.ps1 -Quick: $(if ($ok) { 'passed' } else { "failed (exit code $code)" })" | Out-Host
    $ok
}

# Synopsis: Every path of the accuracy benchmark on Digits, in a minute or two.
task QuickAccuracy -If (!$NoQuickBench) Stage, {
    $ok = Invoke-QuickBench accuracy
    Add-TestCount QuickAccuracy ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: Build the bare TorchSharp loop bench/perf.ps1 compares against (its floor).
task BareTorch -Inputs { Get-SourceFile bench/BareTorch, Core } -Outputs "$Out/bench/BareTorch/.built" {
    exec { dotnet build bench/BareTorch/BareTorch.csproj -c Release -o "$Out/bench/BareTorch" -nologo -v q }
    Set-Content -Path "$Out/bench/BareTorch/.built" -Value 'dotnet build -c Release'
}

# Synopsis: Build the side-by-side timer bench/inference.ps1 runs (SparsePrune's forward and ONNX Runtime in one process).
task OrtTiming -Inputs { Get-SourceFile bench/OrtTiming, Core } -Outputs "$Out/bench/OrtTiming/.built" {
    exec { dotnet build bench/OrtTiming/OrtTiming.csproj -c Release -o "$Out/bench/OrtTiming" -nologo -v q }
    Set-Content -Path "$Out/bench/OrtTiming/.built" -Value 'dotnet build -c Release'
}

# Synopsis: Every path of the performance benchmark on small sizes: it runs, and writes every figure.
task QuickPerf -If (!$NoQuickBench) Stage, BareTorch, {
    $ok = Invoke-QuickBench perf {
        param($results)
        # Figures 3, 4 and 5 need nothing but the module; 1 and 2 their data and peers when present.
        $ids = @((Get-Content -Raw (Join-Path $results 'perf.json') | ConvertFrom-Json).Figures.Id)
        $missing = @('3', '4-b1', '4-b64', '5' | Where-Object { $ids -notcontains $_ })
        foreach ($id in $missing) { print Gray "bench/perf.ps1 -Quick wrote no figure $id" | Out-Host }
        $missing.Count -eq 0
    }
    Add-TestCount QuickPerf ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: Every path of the compression benchmark on Digits (prune, k-means, linear, the PyTorch peer), in about a minute.
task QuickCompression -If (!$NoQuickBench) Stage, {
    $ok = Invoke-QuickBench compression
    Add-TestCount QuickCompression ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: Compress-Mlp's benchmark on Digits (every objective, one seed): each setting chooses a model and writes a smaller file.
task QuickCompress -If (!$NoQuickBench) Stage, {
    $ok = Invoke-QuickBench compress
    Add-TestCount QuickCompress ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: The HTML report benchmark on a small model: it runs, and writes its figures.
task QuickReport -If (!$NoQuickBench) Stage, {
    $ok = Invoke-QuickBench report
    Add-TestCount QuickReport ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: The per-call cost of training on Digits: it runs, and writes its figures.
task QuickCallCost -If (!$NoQuickBench) Stage, {
    $ok = Invoke-QuickBench callcost
    Add-TestCount QuickCallCost ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: Thirty build-to-file cycles in one session: memory and tensors stay flat.
task QuickSoak -If (!$NoQuickBench) Stage, {
    $ok = Invoke-QuickBench soak
    Add-TestCount QuickSoak ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: A sweep in the session and over two worker processes: the bench runs, and the results agree.
task QuickSweep -If (!$NoQuickBench) Stage, {
    $ok = Invoke-QuickBench sweep { param($results) (Get-Content (Join-Path $results 'sweep.json') -Raw | ConvertFrom-Json).workers_equal_one_thread_session }
    Add-TestCount QuickSweep ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: The accuracy budget on Digits, before and after the paired bound, two seeds: it runs, and writes its table.
task QuickBudget -If (!$NoQuickBench) Stage, {
    $ok = Invoke-QuickBench budget
    Add-TestCount QuickBudget ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: Scoring a CSV with Invoke-Mlp -IncludeInput on 5,000 rows: it runs, and the scored file reads back whole.
task QuickScoring -If (!$NoQuickBench) Stage, {
    $ok = Invoke-QuickBench scoring { param($results) (Get-Content (Join-Path $results 'scoring.json') -Raw | ConvertFrom-Json).scored_file_valid }
    Add-TestCount QuickScoring ([int]$ok) ([int](-not $ok)) 0
}

# Synopsis: Build, then xUnit, Pester and the quick benchmarks; one closing line of counts.
task test Prerequisites, Stage, Package, Xunit, Pester, QuickAccuracy, QuickPerf, QuickCompression, QuickReport, QuickCallCost, QuickSoak, QuickSweep, QuickBudget, QuickCompress, QuickScoring, {
    $passed = [int]($TestCounts | Measure-Object -Property Passed -Sum).Sum
    $failed = [int]($TestCounts | Measure-Object -Property Failed -Sum).Sum
    $skipped = [int]($TestCounts | Measure-Object -Property Skipped -Sum).Sum
    $TestSummary.Line = "SparsePrune tests: $passed passed, $failed failed, $skipped skipped"
    $TestSummary.Failed = $failed -gt 0 -or $passed -eq 0
    if ($PrintTestSummary) { print White $TestSummary.Line }
    assert (-not $TestSummary.Failed) $(if ($passed -eq 0) { 'No test ran.' } else { "$failed test(s) failed." })
}

# --- demo, bench, clean ------------------------------------------------------------------

# Synopsis: Build, then the Digits pipeline in a fresh pwsh: train, sparsify, prune, report.
task demo Stage, {
    $code = Invoke-ChildPwsh "& '$(Join-Path $BuildRoot 'demo.ps1')' -ModulePath '$(Join-Path $Stage 'SparsePrune.psd1')'"
    assert ($code -eq 0) "demo.ps1 failed with exit code $code."
}

# Synopsis: Build, then every bench/*.ps1 (or -Name one); results go to bench/results/.
task bench Prerequisites, Stage, BareTorch, OrtTiming, {
    $benches = @(Get-ChildItem bench -Filter "$Name.ps1")
    assert ($benches.Count -gt 0) "No benchmark matches -Name '$Name' in bench/ (there are: $((Get-ChildItem bench -Filter '*.ps1').BaseName -join ', '))."
    $results = Join-Path $BuildRoot 'bench/results'
    New-Item -ItemType Directory -Force -Path $results | Out-Null
    $failed = @(foreach ($b in $benches) {
            print Gray "==> bench $($b.Name)" | Out-Host
            $code = Invoke-ChildPwsh "& '$($b.FullName)' -ModulePath '$(Join-Path $Stage 'SparsePrune.psd1')' -ResultsDir '$results'"
            if ($code -ne 0) { $b.Name }
        })
    assert ($failed.Count -eq 0) "Failed: $($failed -join ', ')."
}

# Synopsis: Remove out/ and every bin/ and obj/.
task clean {
    Remove-Item -Recurse -Force -ErrorAction Ignore $Out
    Get-ChildItem -Path $BuildRoot -Directory -Recurse -Include 'bin', 'obj' |
        Where-Object { $_.FullName -notlike "$Out*" } |
        Remove-Item -Recurse -Force -ErrorAction Ignore
    print Gray 'clean.'
}
