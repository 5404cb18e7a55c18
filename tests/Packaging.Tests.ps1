# The gallery packages build.ps1 package writes to out/packages: each at most 250 MB, each holding
# what it should (the runtime packages exactly the files the loader names, at their sources'
# sizes), one version everywhere, and a Linux runtime that needs no repair on the user's machine.
BeforeDiscovery {
    $script:Rids = @((Get-Content -Raw (Join-Path $PSScriptRoot '../Core/Native/NativeRuntimes.json') | ConvertFrom-Json).runtimes.rid)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $ModulePath
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $script:Out = Split-Path -Parent (Split-Path -Parent $ModulePath)
    $script:PackageDir = if ($env:SPARSEPRUNE_PACKAGES) { $env:SPARSEPRUNE_PACKAGES } else { Join-Path $Out 'packages' }
    $script:Version = (Import-PowerShellDataFile (Join-Path $PSScriptRoot '../SparsePrune.psd1')).ModuleVersion
    # The NuGet gallery software (and so the PowerShell Gallery) refuses a package over 250 MB.
    $script:GalleryLimit = 250MB

    # The entries of a package: name → length, and its .nuspec as XML.
    function Read-Package([string] $Path) {
        $zip = [IO.Compression.ZipFile]::OpenRead($Path)
        try {
            $entries = [ordered]@{}
            foreach ($e in $zip.Entries) { $entries[$e.FullName] = $e.Length }
            $nuspec = $zip.Entries | Where-Object { $_.FullName -like '*.nuspec' -and $_.FullName -notlike '*/*' }
            $reader = [IO.StreamReader]::new($nuspec.Open())
            try { $xml = [xml] $reader.ReadToEnd() } finally { $reader.Dispose() }
            [pscustomobject]@{ Entries = $entries; Nuspec = $xml.package.metadata }
        }
        finally { $zip.Dispose() }
    }

    # One entry of a package, extracted to a file under TestDrive.
    function Export-Entry([string] $Path, [string] $Entry) {
        $zip = [IO.Compression.ZipFile]::OpenRead($Path)
        try {
            $target = Join-Path $TestDrive ([guid]::NewGuid().ToString('n') + '-' + (Split-Path -Leaf $Entry))
            [IO.Compression.ZipFileExtensions]::ExtractToFile($zip.GetEntry($Entry), $target)
            $target
        }
        finally { $zip.Dispose() }
    }

    # The flags of the version-needed (Elf64_Vernaux) entry named $Name in an ELF64 file, or $null.
    function Get-ElfVersionNeedFlag([string] $File, [string] $Name) {
        $b = [IO.File]::ReadAllBytes($File)
        $shoff = [BitConverter]::ToUInt64($b, 0x28); $shentsize = [BitConverter]::ToUInt16($b, 0x3A); $shnum = [BitConverter]::ToUInt16($b, 0x3C)
        $sections = for ($i = 0; $i -lt $shnum; $i++) {
            $o = [int]($shoff + [uint64]($i * $shentsize))
            [pscustomobject]@{ Type = [BitConverter]::ToUInt32($b, $o + 4); Offset = [BitConverter]::ToUInt64($b, $o + 24); Link = [BitConverter]::ToUInt32($b, $o + 40); Info = [BitConverter]::ToUInt32($b, $o + 44) }
        }
        $verneed = $sections | Where-Object Type -EQ 0x6ffffffe | Select-Object -First 1
        $strtab = [int]$sections[$verneed.Link].Offset
        $vn = [int]$verneed.Offset
        for ($n = 0; $n -lt $verneed.Info; $n++) {
            $aux = $vn + [int][BitConverter]::ToUInt32($b, $vn + 8)
            for ($a = 0; $a -lt [BitConverter]::ToUInt16($b, $vn + 2); $a++) {
                $at = $strtab + [int][BitConverter]::ToUInt32($b, $aux + 8)
                $text = [Text.Encoding]::ASCII.GetString($b, $at, [Array]::IndexOf($b, [byte]0, $at) - $at)
                if ($text -eq $Name) { return [BitConverter]::ToUInt16($b, $aux + 4) }
                $aux += [int][BitConverter]::ToUInt32($b, $aux + 12)
            }
            $vn += [int][BitConverter]::ToUInt32($b, $vn + 12)
        }
        $null
    }

    $script:Packages = @{}
    foreach ($id in @('SparsePrune') + @([SparsePrune.NativeRuntime]::All.ModuleName)) {
        $path = Join-Path $PackageDir "$id.$Version.nupkg"
        if (Test-Path $path) { $Packages[$id] = [pscustomobject]@{ Path = $path; Length = (Get-Item $path).Length; Content = Read-Package $path } }
    }
}

Describe 'The gallery packages' {
    It 'are the module and one runtime per platform' {
        $Packages.Keys | Sort-Object | Should -Be (@('SparsePrune') + @([SparsePrune.NativeRuntime]::All.ModuleName) | Sort-Object)
        @(Get-ChildItem $PackageDir -Filter 'SparsePrune*.nupkg').Name | Sort-Object |
            Should -Be ($Packages.Values.Path | ForEach-Object { Split-Path -Leaf $_ } | Sort-Object) -Because 'no package of another version is left beside them'
    }

    It 'are each at most 250 MB, the gallery''s limit (sizes in the test output)' {
        foreach ($p in $Packages.GetEnumerator() | Sort-Object Key) {
            Write-Host ("    {0,-40} {1,7:N1} MB, {2} files" -f $p.Key, ($p.Value.Length / 1MB), $p.Value.Content.Entries.Count)
            foreach ($e in $p.Value.Content.Entries.GetEnumerator()) { Write-Host ("        {0,-44} {1,13:N0} B" -f $e.Key, $e.Value) }
            $p.Value.Length | Should -BeLessOrEqual $GalleryLimit -Because "$($p.Key) must be accepted by the gallery"
        }
    }

    It 'all say the version SparsePrune.psd1 sets, which CHANGELOG.md has a section for' {
        $staged = Import-PowerShellDataFile $ModulePath
        $staged.ModuleVersion | Should -Be $Version
        (Get-Module SparsePrune).Version.ToString() | Should -Be $Version
        [SparsePrune.Mlp].Assembly.GetName().Version.ToString(3) | Should -Be $Version -Because 'Directory.Build.props reads the version from the manifest'
        $notes = & (Join-Path $PSScriptRoot '../tools/Get-ReleaseNote.ps1') -Version $Version
        $notes | Should -Not -BeNullOrEmpty
        $staged.PrivateData.PSData.ReleaseNotes | Should -Be $notes -Because 'the staged manifest''s ReleaseNotes are CHANGELOG.md''s section'
        foreach ($p in $Packages.GetEnumerator()) {
            $p.Value.Content.Nuspec.version | Should -Be $Version
            $manifest = Import-PowerShellDataFile (Export-Entry $p.Value.Path "$($p.Key).psd1")
            $manifest.ModuleVersion | Should -Be $Version -Because "$($p.Key)'s manifest"
            $manifest.PrivateData.PSData.ReleaseNotes | Should -Be $notes
            foreach ($key in 'Tags', 'ProjectUri', 'LicenseUri') { $manifest.PrivateData.PSData[$key] | Should -Not -BeNullOrEmpty -Because "$($p.Key) PSData.$key" }
        }
    }

    It 'each hold LICENSE and THIRD-PARTY-NOTICES.md as the repository has them' {
        foreach ($p in $Packages.GetEnumerator()) {
            foreach ($f in 'LICENSE', 'THIRD-PARTY-NOTICES.md') {
                $p.Value.Content.Entries.Contains($f) | Should -BeTrue -Because "$($p.Key) ships $f"
                $p.Value.Content.Entries[$f] | Should -Be (Get-Item (Join-Path $PSScriptRoot "../$f")).Length
            }
        }
    }

    It 'SparsePrune holds the staged module without natives and requires the three runtimes' {
        $p = $Packages['SparsePrune']
        $names = @($p.Content.Entries.Keys)
        foreach ($f in 'SparsePrune.psd1', 'SparsePrune.Cmdlets.dll', 'SparsePrune.Core.dll', 'TorchSharp.dll', 'SparsePrune.Assertions.psm1',
            'SparsePrune.format.ps1xml', 'SparsePrune.types.ps1xml', 'en-US/SparsePrune.Cmdlets.dll-Help.xml', 'en-US/about_SparsePrune.help.txt') {
            $names | Should -Contain $f
        }
        $natives = @([SparsePrune.NativeRuntime]::All | ForEach-Object Files)
        @($names | Where-Object { $_ -in $natives }) | Should -BeNullOrEmpty
        $p.Length | Should -BeLessThan 20MB
        $manifest = Import-PowerShellDataFile (Export-Entry $p.Path 'SparsePrune.psd1')
        @($manifest.RequiredModules) | Sort-Object | Should -Be (@([SparsePrune.NativeRuntime]::All.ModuleName) | Sort-Object)
        @($p.Content.Nuspec.dependencies.dependency.id) | Sort-Object | Should -Be (@([SparsePrune.NativeRuntime]::All.ModuleName) | Sort-Object)
        $p.Content.Nuspec.tags -split ' ' | Should -Contain 'Pruning'
    }

    It 'SparsePrune.Runtime.<_> holds exactly the files the loader names, at their sizes' -ForEach $Rids {
        $runtime = [SparsePrune.NativeRuntime]::ForRid($_)
        $p = $Packages[$runtime.ModuleName]
        $content = @($p.Content.Entries.Keys | Where-Object { $_ -notlike '_rels/*' -and $_ -notlike 'package/*' -and $_ -ne '[Content_Types].xml' -and $_ -notlike '*.nuspec' })
        $content | Sort-Object | Should -Be (@($runtime.Files) + "$($runtime.ModuleName).psd1", 'LICENSE', 'THIRD-PARTY-NOTICES.md' | Sort-Object)
        $manifest = Import-PowerShellDataFile (Export-Entry $p.Path "$($runtime.ModuleName).psd1")
        $manifest.PrivateData.SparsePruneRuntime.Platform | Should -Be $_
        # The sizes the manifest lists (the import checks them) are those of the files shipped,
        # and those of the files the NuGet packages hold (LibTorch is shipped as it comes).
        $publish = if ($_ -eq 'linux-x64') { Join-Path $Out 'publish/Release' } else { Join-Path $Out "publish/Release-$_" }
        foreach ($file in $runtime.Files) {
            $p.Content.Entries[$file] | Should -Be $manifest.PrivateData.SparsePruneRuntime.Files[$file] -Because "$file's size in the manifest"
            $p.Content.Entries[$file] | Should -Be (Get-Item (Join-Path $publish $file)).Length -Because "$file as TorchSharp's packages hold it"
            $p.Content.Entries[$file] | Should -BeGreaterThan 0
        }
        $p.Content.Entries[$runtime.LoadOrder[2]] | Should -BeGreaterThan 100MB -Because "$($runtime.LoadOrder[2]) is LibTorch itself"
    }

    It 'the Linux runtime''s libLibTorchSharp.so asks for GLIBCXX_3.4.32 weakly: no repair on the user''s machine' {
        $shipped = Export-Entry $Packages['SparsePrune.Runtime.linux-x64'].Path 'libLibTorchSharp.so'
        $flags = Get-ElfVersionNeedFlag $shipped 'GLIBCXX_3.4.32'
        $flags | Should -Not -BeNullOrEmpty -Because 'the shipped file names that version'
        ($flags -band 2) | Should -Be 2 -Because 'VER_FLG_WEAK lets an older libstdc++ load it'
        # TorchSharp's own file asks for it strongly: the package task is what changed it.
        $original = Join-Path (Join-Path $Out 'publish/Release') 'libLibTorchSharp.so'
        (Get-ElfVersionNeedFlag $original 'GLIBCXX_3.4.32') -band 2 | Should -Be 0
    }
}
