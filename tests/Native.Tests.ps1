# LibTorch loading: the module's own natives are the ones mapped, even with Debian's
# python3-torch (LibTorch 1.13) installed or a decoy libtorch on LD_LIBRARY_PATH.
BeforeDiscovery {
    $script:SystemTorch = @(Get-ChildItem '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu' -Filter 'libtorch_cpu.so*' -ErrorAction SilentlyContinue)
    $script:HasSystemTorch = $SystemTorch.Count -gt 0
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:ModuleDir = (Get-Module SparsePrune).ModuleBase
    if (Get-Command realpath -ErrorAction SilentlyContinue) { $script:ModuleDir = (& realpath $ModuleDir) }

    # Runs a tensor operation and a short training, then lists what the process mapped.
    $probe = @'
$m = New-Mlp 4, 6, 3 -Seed 1 | Invoke-Training -Dataset (Get-Dataset Iris) -Epochs 1 -Seed 1
'LABEL ' + (Invoke-Mlp -Model $m -InputObject ([double[]](5.1, 3.5, 1.4, 0.2))).Label
'LOADEDFROM ' + [SparsePrune.NativeLibraries]::LoadedFrom
[SparsePrune.NativeLibraries]::MappedTorchLibraries() | ForEach-Object { 'MAPPED ' + $_ }
'@

    # A folder that makes a system LibTorch findable by the plain names TorchSharp asks for.
    $systemDir = Join-Path $TestDrive 'system-torch'
    New-Item -ItemType Directory $systemDir | Out-Null
    foreach ($stem in 'libtorch_cpu', 'libc10', 'libtorch') {
        $lib = Get-ChildItem '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu' -Filter "$stem.so*" -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($lib) { New-Item -ItemType SymbolicLink -Path (Join-Path $systemDir "$stem.so") -Target $lib.FullName -ErrorAction SilentlyContinue | Out-Null }
    }

    # A decoy: files with LibTorch's names that are some other library.
    $decoyDir = Join-Path $TestDrive 'decoy'
    New-Item -ItemType Directory $decoyDir | Out-Null
    $other = @('/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/x86_64-linux-gnu/libz.so.1') | Where-Object { Test-Path $_ } | Select-Object -First 1
    foreach ($name in 'libtorch_cpu.so', 'libc10.so', 'libtorch.so', 'libLibTorchSharp.so') { [IO.File]::Copy($other, (Join-Path $decoyDir $name)) }
    $script:DecoyDir = $decoyDir

    $runs = [ordered]@{
        Plain  = Start-FreshPwsh $probe
        Decoy  = Start-FreshPwsh $probe -Environment @{ LD_LIBRARY_PATH = $decoyDir }
    }
    if (@(Get-ChildItem $systemDir).Count) { $runs.System = Start-FreshPwsh $probe -Environment @{ LD_LIBRARY_PATH = $systemDir } }
    $script:Results = @{}
    foreach ($k in $runs.Keys) { $Results[$k] = $runs[$k] | Receive-FreshPwsh }

    function script:Get-Mapped($Result) { @($Result.Output | Where-Object { $_ -like 'MAPPED *' } | ForEach-Object { $_.Substring(7) }) }

    function script:Assert-OwnNatives($Result) {
        $Result.ExitCode | Should -Be 0 -Because ($Result.Output -join "`n")
        @($Result.Output | Where-Object { $_ -like 'LABEL *' }).Count | Should -Be 1 -Because ($Result.Output -join "`n")
        $mapped = Get-Mapped $Result
        $cpu = @($mapped | Where-Object { (Split-Path -Leaf $_) -like 'libtorch_cpu.so*' })
        $cpu.Count | Should -Be 1 -Because "exactly one libtorch_cpu is mapped: $($mapped -join ', ')"
        $cpu[0] | Should -Be (Join-Path $ModuleDir 'libtorch_cpu.so')
        foreach ($m in $mapped) { $m | Should -BeLike "$ModuleDir/*" -Because 'every LibTorch library comes from the module folder' }
        foreach ($name in 'libc10.so', 'libtorch.so', 'libLibTorchSharp.so') {
            $mapped | Should -Contain (Join-Path $ModuleDir $name)
        }
    }
}

Describe 'LibTorch loading' {
    It 'maps only the module''s own LibTorch in this (the test) process' {
        $null = Invoke-Mlp -Model (New-Mlp 3, 2 -Seed 1) -InputObject ([double[]](1, 2, 3))
        $mapped = @([SparsePrune.NativeLibraries]::MappedTorchLibraries())
        $mapped | Should -Contain (Join-Path $ModuleDir 'libtorch_cpu.so')
        foreach ($m in $mapped) { $m | Should -BeLike "$ModuleDir/*" }
    }

    It 'maps libtorch_cpu.so only from the module folder in a fresh pwsh with python3-torch installed (skipped when no system libtorch_cpu.so* is installed)' -Skip:(-not $HasSystemTorch) {
        Assert-OwnNatives $Results.Plain
    }

    It 'maps its own LibTorch when LD_LIBRARY_PATH offers the system LibTorch 1.13 under the plain names (skipped when no system libtorch_cpu.so* is installed)' -Skip:(-not $HasSystemTorch) {
        if (-not $Results.System) { Set-ItResult -Skipped -Because 'no symbolic links to the system LibTorch could be made'; return }
        Assert-OwnNatives $Results.System
    }

    It 'works and maps its own copies when LD_LIBRARY_PATH points at decoy libtorch_cpu.so / libc10.so files' {
        Assert-OwnNatives $Results.Decoy
        foreach ($m in Get-Mapped $Results.Decoy) { $m | Should -Not -BeLike "$DecoyDir*" }
    }
}
