# The install path, end to end, as a PowerShell Gallery user meets it: out/packages published to a
# folder repository, 'Install-PSResource SparsePrune' into a home of its own, then fresh pwsh
# processes in an empty folder with no source tree on their module path. Then an update to a
# second version, bad installs (each stops Import-Module with an error naming the fix, and the
# session lives on), and an uninstall that leaves nothing behind.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Out = Split-Path -Parent (Split-Path -Parent $ModulePath)
    $script:PackageDir = if ($env:SPARSEPRUNE_PACKAGES) { $env:SPARSEPRUNE_PACKAGES } else { Join-Path $Out 'packages' }
    $script:Version = (Import-PowerShellDataFile $ModulePath).ModuleVersion
    $script:Next = ([version] $Version | ForEach-Object { '{0}.{1}.{2}' -f $_.Major, $_.Minor, ($_.Build + 1) })
    $script:Rids = @((Get-Content -Raw (Join-Path $PSScriptRoot '../Core/Native/NativeRuntimes.json') | ConvertFrom-Json).runtimes.rid)
    $script:PesterPackages = & (Join-Path $PSScriptRoot '../tools/Restore-BuildTools.ps1')

    $script:Root = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-install-$PID"
    Remove-Item -Recurse -Force -ErrorAction Ignore $Root
    $script:UserHome = Join-Path $Root 'home'
    $script:Repo = Join-Path $Root 'repo'
    $script:Empty = Join-Path $Root 'empty'
    New-Item -ItemType Directory -Path $UserHome, $Repo, $Empty | Out-Null
    $script:Modules = Join-Path $UserHome '.local/share/powershell/Modules'

    # Runs a script in a fresh pwsh whose HOME is $HomeDir and whose module path is pwsh's default
    # for that home (nothing inherited), started in $Folder; returns exit code and output lines.
    function Invoke-Isolated([string] $Script, [string] $Folder = $Empty, [string] $HomeDir = $UserHome, [string] $ModulePathValue) {
        $psi = [Diagnostics.ProcessStartInfo]::new($PwshCommand[0])
        foreach ($a in @($PwshCommand | Select-Object -Skip 1) + '-NoProfile', '-NonInteractive', '-Command', "`$ErrorActionPreference = 'Stop'; `$PSStyle.OutputRendering = 'PlainText'; $Script") { $psi.ArgumentList.Add($a) }
        $psi.WorkingDirectory = $Folder
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.Environment['HOME'] = $HomeDir
        foreach ($v in 'PSModulePath', 'SPARSEPRUNE_MODULE', 'XDG_DATA_HOME', 'XDG_CONFIG_HOME', 'XDG_CACHE_HOME') { $null = $psi.Environment.Remove($v) }
        if ($ModulePathValue) { $psi.Environment['PSModulePath'] = $ModulePathValue }
        $p = [Diagnostics.Process]::Start($psi)
        $stdout = $p.StandardOutput.ReadToEndAsync(); $stderr = $p.StandardError.ReadToEndAsync()
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; Output = @(($stdout.Result + $stderr.Result) -split '\r?\n' | Where-Object { $_ -ne '' }) }
    }

    # Publish this version's packages and both Pesters to the folder repository, then install.
    # NuGet.org's Pester packages keep the module under tools/; the gallery's are the module
    # folder itself: publish the restored module folders as the gallery would have them.
    $pesters = foreach ($v in '6.2.0', '5.7.1') {
        $folder = Join-Path $Root "pester-$v/Pester"
        New-Item -ItemType Directory -Force -Path (Split-Path $folder) | Out-Null
        Copy-Item -Recurse (Join-Path $PesterPackages "pester/$v/tools") $folder
        $folder
    }
    $script:Setup = Invoke-Isolated @"
Register-PSResourceRepository -Name Local -Uri '$Repo' -Trusted
foreach (`$p in Get-ChildItem '$PackageDir' -Filter 'SparsePrune*.$Version.nupkg') { Publish-PSResource -NupkgPath `$p.FullName -Repository Local }
foreach (`$p in '$($pesters -join "','")') { Publish-PSResource -Path `$p -Repository Local }
Install-PSResource SparsePrune -Repository Local -Scope CurrentUser
Install-PSResource Pester -Version 6.2.0 -Repository Local -Scope CurrentUser
Install-PSResource Pester -Version 5.7.1 -Repository Local -Scope CurrentUser
'SETUP DONE'
"@
}

AfterAll {
    Remove-Item -Recurse -Force -ErrorAction Ignore $Root
}

Describe 'Install-PSResource SparsePrune from a folder repository' {
    It 'installs the module and its three runtimes with one command' {
        $Setup.Output | Should -Contain 'SETUP DONE' -Because ($Setup.Output -join "`n")
        $r = Invoke-Isolated "Get-InstalledPSResource -Name SparsePrune* | ForEach-Object { 'INSTALLED {0} {1} {2}' -f `$_.Name, `$_.Version, `$_.Description }"
        $installed = @($r.Output | Where-Object { $_ -like 'INSTALLED *' })
        $installed.Count | Should -Be 4
        foreach ($name in @('SparsePrune') + @($Rids | ForEach-Object { "SparsePrune.Runtime.$_" })) {
            @($installed | Where-Object { $_ -like "INSTALLED $name $Version *" }).Count | Should -Be 1 -Because "$name $Version is installed"
        }
        $installed -match 'INSTALLED SparsePrune 0' | Should -BeLike '*multi-layer perceptrons*'
        Test-Path (Join-Path $Modules "SparsePrune/$Version/SparsePrune.Cmdlets.dll") | Should -BeTrue
        Test-Path (Join-Path $Modules "SparsePrune.Runtime.linux-x64/$Version/libtorch_cpu.so") | Should -BeTrue
    }

    It 'is found by Find-PSResource -Tag Pruning' {
        $r = Invoke-Isolated "Find-PSResource -Tag Pruning -Repository Local | ForEach-Object { 'FOUND ' + `$_.Name + ' ' + `$_.Version }"
        $r.Output | Should -Contain "FOUND SparsePrune $Version"
    }

    It 'installs manifests that pass Test-ModuleManifest, all of one version' {
        $r = Invoke-Isolated "Get-ChildItem '$Modules' -Recurse -Filter 'SparsePrune*.psd1' | ForEach-Object { `$m = Test-ModuleManifest `$_.FullName; 'TESTED ' + `$m.Name + ' ' + `$m.Version }"
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        @($r.Output | Where-Object { $_ -like 'TESTED *' }) | Sort-Object |
            Should -Be (@("TESTED SparsePrune $Version") + @($Rids | ForEach-Object { "TESTED SparsePrune.Runtime.$_ $Version" }) | Sort-Object)
    }

    It 'imports by name in a fresh pwsh in an empty folder: help, the README''s first pipeline, ONNX, HTML' {
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../README.md')
        $pipeline = [regex]::Match($readme, '(?s)```powershell\r?\n(.*?)```').Groups[1].Value
        $pipeline | Should -Match 'Get-CompressionReport'
        $fresh = Join-Path $Root 'fresh'
        New-Item -ItemType Directory -Path $fresh | Out-Null
        $r = Invoke-Isolated -Folder $fresh @"
Import-Module SparsePrune
`$m = Get-Module SparsePrune
'MODULE ' + `$m.Version + ' ' + `$m.ModuleBase
'NATIVES ' + [SparsePrune.NativeLibraries]::LoadedFrom
[SparsePrune.NativeLibraries]::MappedTorchLibraries() | ForEach-Object { 'MAPPED ' + `$_ }
'EXAMPLES ' + @((Get-Help Invoke-Pruning -Examples).examples.example).Count
'ABOUT ' + ((Get-Help about_SparsePrune | Out-String) -match 'Invoke-Pruning')
`$report = & { $pipeline }
'REPORT ' + `$report.OverallSparsity
`$model = New-Mlp 64,16,10 -Seed 1 | Invoke-Training -Dataset (Get-Dataset Digits) -Epochs 1 | Invoke-Pruning -Ratio 0.5
`$model | Export-Mlp ./model.onnx -Format Onnx
`$model | Export-CompressionReport ./report.html
'ONNX ' + (Get-Item ./model.onnx).Length
'HTML ' + ((Get-Content -Raw ./report.html) -match '<svg')
"@
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $r.Output | Should -Contain "MODULE $Version $(Join-Path $Modules "SparsePrune/$Version")"
        $r.Output | Should -Contain "NATIVES $(Join-Path $Modules "SparsePrune.Runtime.linux-x64/$Version")"
        $mapped = @($r.Output | Where-Object { $_ -like 'MAPPED *' })
        $mapped | Should -Not -BeNullOrEmpty
        $mapped | ForEach-Object { $_ | Should -BeLike "MAPPED $Modules/SparsePrune.Runtime.linux-x64/$Version/*" -Because 'nothing is loaded from outside what was installed' }
        [int]"$(($r.Output -match '^EXAMPLES ') -replace 'EXAMPLES ')" | Should -BeGreaterThan 3
        $r.Output | Should -Contain 'ABOUT True'
        [double]"$(($r.Output -match '^REPORT ') -replace 'REPORT ')" | Should -BeGreaterThan 0.5 -Because 'the pipeline sparsifies to 0.8 and prunes'
        [int]"$(($r.Output -match '^ONNX ') -replace 'ONNX ')" | Should -BeGreaterThan 1000
        $r.Output | Should -Contain 'HTML True'
        @(Get-ChildItem $fresh).Name | Sort-Object | Should -Be @('model.onnx', 'report.html') -Because 'the session ran in the empty folder it was started in'
    }

    It 'serves its assertions to a <_.Name> test file' -ForEach @(
        @{ Name = 'Pester 6'; Version = '6.2.0'; Assert = "`$model | Should-HaveSparsity 0.5 -AtLeast -Tolerance 0.01; `$model | Should-HaveAccuracy -Within 0.5 -Of `$dense" }
        @{ Name = 'Pester 5'; Version = '5.7.1'; Assert = "`$model | Should -HaveSparsity 0.5 -AtLeast -Tolerance 0.01; `$model | Should -HaveAccuracy -Within 0.5 -Of `$dense" }
    ) {
        $folder = Join-Path $Root "pester-$Version"
        New-Item -ItemType Directory -Force -Path $folder | Out-Null
        @"
BeforeAll { Import-Module SparsePrune }
Describe 'a pruned model' {
    It 'keeps its sparsity and accuracy' {
        `$dense = New-Mlp 64,16,10 -Seed 1 | Invoke-Training -Dataset (Get-Dataset Digits) -Epochs 2
        `$model = `$dense | Copy-Mlp | Invoke-Pruning -Ratio 0.5
        $Assert
    }
    It 'fails a gate the model does not meet' {
        `$model = New-Mlp 64,16,10 -Seed 1
        { `$model | Should-HaveSparsity 0.9 -AtLeast } | Should -Throw '*overall sparsity at least 0.9*'
    }
}
"@ | Set-Content (Join-Path $folder 'Model.Tests.ps1')
        $r = Invoke-Isolated "Import-Module Pester -RequiredVersion $Version; `$r = Invoke-Pester -Path ./Model.Tests.ps1 -PassThru -Output None; 'PESTER ' + (Get-Module Pester).Version + ' ' + `$r.PassedCount + ' ' + `$r.FailedCount" -Folder $folder
        $r.Output | Should -Contain "PESTER $Version 2 0" -Because ($r.Output -join "`n")
    }
}

Describe 'Bad installs' {
    BeforeAll {
        # A module path of its own per case: the installed SparsePrune and runtimes linked in, the
        # Linux runtime as the case makes it.
        function New-BadInstall([string] $Case, [scriptblock] $MakeLinuxRuntime) {
            $caseDir = Join-Path $Root "bad-$Case"
            New-Item -ItemType Directory -Force -Path $caseDir | Out-Null
            foreach ($name in @('SparsePrune') + @($Rids | Where-Object { $_ -ne 'linux-x64' } | ForEach-Object { "SparsePrune.Runtime.$_" })) {
                New-Item -ItemType SymbolicLink -Path (Join-Path $caseDir $name) -Target (Join-Path $Modules $name) | Out-Null
            }
            $installed = Join-Path $Modules "SparsePrune.Runtime.linux-x64/$Version"
            & $MakeLinuxRuntime (Join-Path $caseDir 'SparsePrune.Runtime.linux-x64') $installed
            $caseDir
        }
        # Links every file of the installed Linux runtime into $Folder but its manifest (and $Except).
        function Copy-RuntimeLink([string] $Folder, [string] $Installed, [string[]] $Except = @()) {
            New-Item -ItemType Directory -Force -Path $Folder | Out-Null
            Get-ChildItem $Installed -File | Where-Object { $_.Extension -ne '.psd1' -and $_.Name -notin $Except } | ForEach-Object {
                New-Item -ItemType SymbolicLink -Path (Join-Path $Folder $_.Name) -Target $_.FullName | Out-Null
            }
        }
        # A home of its own too: pwsh adds the home's module folder (the real install) to any path.
        $script:BadHome = Join-Path $Root 'bad-home'
        New-Item -ItemType Directory -Force -Path $BadHome | Out-Null
        function Invoke-BadImport([string] $CaseDir) {
            Invoke-Isolated -HomeDir $BadHome -ModulePathValue $CaseDir -Script @"
try { Import-Module SparsePrune; 'IMPORTED' } catch { 'ERRORID ' + `$_.FullyQualifiedErrorId; 'MESSAGE ' + `$_.Exception.Message }
'ALIVE ' + (1 + 1) + ' ' + [bool](Get-Module SparsePrune)
"@
        }
        # Import-Module stopped with $ErrorId and a message like $Message, and the session went on.
        function Assert-Refused($Result, [string] $ErrorId, [string] $Message) {
            $Result.Output | Should -Contain "ERRORID $ErrorId,Microsoft.PowerShell.Commands.ImportModuleCommand" -Because ($Result.Output -join "`n")
            ($Result.Output -match '^MESSAGE ') | Should -BeLike $Message
            $Result.Output | Should -Contain 'ALIVE 2 False'
        }
        $script:Manifest = Get-Content -Raw (Join-Path $Modules "SparsePrune.Runtime.linux-x64/$Version/SparsePrune.Runtime.linux-x64.psd1")
        $script:Fix = "Install-PSResource SparsePrune.Runtime.linux-x64 -Version $Version"
    }

    It 'the runtime missing: Import-Module names the runtime it requires' {
        $r = Invoke-BadImport (New-BadInstall missing { })
        $r.Output | Should -Contain 'ALIVE 2 False'
        # RequiredModules is how a gallery install brings the runtimes; PowerShell checks it
        # before any of SparsePrune's code runs, so the message is PowerShell's own.
        ($r.Output -match '^MESSAGE ') | Should -BeLike "*required module 'SparsePrune.Runtime.linux-x64' is not loaded*"
    }

    It 'a runtime of another version: the error says which, and the command that installs the right one' {
        $r = Invoke-BadImport (New-BadInstall version {
                param($folder, $installed)
                Copy-RuntimeLink (Join-Path $folder '0.0.1') $installed
                $Manifest -replace "ModuleVersion(\s*)=(\s*)'[^']+'", "ModuleVersion = '0.0.1'" | Set-Content (Join-Path $folder '0.0.1/SparsePrune.Runtime.linux-x64.psd1')
            })
        Assert-Refused $r RuntimeVersionMismatch "*needs its runtime SparsePrune.Runtime.linux-x64 $Version, but only SparsePrune.Runtime.linux-x64 0.0.1 * is installed*Install it with: $Fix"
    }

    It 'a runtime of another platform: the error names both platforms and the command for this one' {
        $r = Invoke-BadImport (New-BadInstall platform {
                param($folder, $installed)
                # The folder of the Linux runtime holding the Windows runtime's files and manifest.
                $win = Join-Path $Modules "SparsePrune.Runtime.win-x64/$Version"
                Copy-RuntimeLink (Join-Path $folder $Version) $win
                (Get-Content -Raw (Join-Path $win 'SparsePrune.Runtime.win-x64.psd1')) | Set-Content (Join-Path $folder "$Version/SparsePrune.Runtime.linux-x64.psd1")
            })
        Assert-Refused $r RuntimeWrongPlatform "*holds the natives of win-x64, not of linux-x64*Reinstall it with: $Fix -Reinstall"
    }

    It 'a damaged native (libtorch_cpu.so truncated): refused before it is loaded, with the reinstall command' {
        $r = Invoke-BadImport (New-BadInstall damaged {
                param($folder, $installed)
                $v = Join-Path $folder $Version
                Copy-RuntimeLink $v $installed -Except 'libtorch_cpu.so'
                Copy-Item (Join-Path $installed 'SparsePrune.Runtime.linux-x64.psd1') $v
                $stream = [IO.File]::OpenRead((Join-Path $installed 'libtorch_cpu.so'))
                try { $head = [byte[]]::new(1MB); $null = $stream.Read($head, 0, $head.Length) } finally { $stream.Dispose() }
                [IO.File]::WriteAllBytes((Join-Path $v 'libtorch_cpu.so'), $head)
            })
        Assert-Refused $r RuntimeDamaged "*is damaged: libtorch_cpu.so has 1,048,576 bytes where its manifest says *Reinstall it with: $Fix -Reinstall"
    }
}

Describe 'Update-PSResource and Uninstall-PSResource' {
    It 'installs a second version that is the one that loads' {
        $nextDir = Join-Path $Root 'packages-next'
        $natives = @{ 'linux-x64' = Join-Path $Out 'publish/Release' }
        foreach ($rid in $Rids | Where-Object { $_ -ne 'linux-x64' }) { $natives[$rid] = Join-Path $Out "publish/Release-$rid" }
        $null = & (Join-Path $PSScriptRoot '../tools/New-ModulePackage.ps1') -ModulePath (Split-Path -Parent $ModulePath) -NativePath $natives -OutputPath $nextDir -Version $Next 6>$null
        @(Get-ChildItem $nextDir -Filter "*.$Next.nupkg").Count | Should -Be 4
        $r = Invoke-Isolated @"
Get-ChildItem '$nextDir' -Filter '*.nupkg' | ForEach-Object { Publish-PSResource -NupkgPath `$_.FullName -Repository Local }
Update-PSResource SparsePrune -Repository Local -Scope CurrentUser
'VERSIONS ' + (((Get-InstalledPSResource SparsePrune).Version | Sort-Object) -join ',')
"@
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $r.Output | Should -Contain "VERSIONS $Version,$Next"
        $r = Invoke-Isolated "Import-Module SparsePrune; 'LOADED ' + (Get-Module SparsePrune).Version + ' ' + [SparsePrune.NativeLibraries]::LoadedFrom; (New-Mlp 4,3,2 -Seed 1).Layers.Count"
        $r.Output | Should -Contain "LOADED $Next $(Join-Path $Modules "SparsePrune.Runtime.linux-x64/$Next")"
        $r.Output | Should -Contain '2'
    }

    It 'Uninstall-PSResource, the module then its runtimes, leaves no SparsePrune file behind' {
        # The module first: PSResourceGet keeps a runtime that an installed module requires.
        $r = Invoke-Isolated "Uninstall-PSResource SparsePrune -Scope CurrentUser; Uninstall-PSResource SparsePrune.Runtime.* -Scope CurrentUser; 'LEFT ' + @(Get-InstalledPSResource SparsePrune* -ErrorAction Ignore).Count"
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $r.Output | Should -Contain 'LEFT 0'
        @(Get-ChildItem $UserHome -Recurse -Force | Where-Object Name -Like 'SparsePrune*') | Should -BeNullOrEmpty
        Test-Path (Join-Path $Modules 'Pester') | Should -BeTrue -Because 'only SparsePrune was uninstalled'
    }
}
