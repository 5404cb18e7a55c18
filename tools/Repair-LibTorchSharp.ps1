#!/usr/bin/env pwsh

<#
.SYNOPSIS
    Lets the staged libLibTorchSharp.so load on a libstdc++ older than GCC 13.
.DESCRIPTION
    TorchSharp 0.107's libLibTorchSharp.so requires version GLIBCXX_3.4.32 of libstdc++ for one
    symbol, std::ios_base_library_init, which GCC 13's <iostream> references only to force
    linkage: no relocation uses it. A libstdc++ older than GCC 13 (Debian 12 has GLIBCXX_3.4.30)
    lacks that version, and the loader refuses the whole library ("version GLIBCXX_3.4.32 not
    found"). Upgrading the system libstdc++ is no way out (on Debian 12 it drags in glibc 2.41
    and 26 other packages), nor is a private copy beside the module (libcoreclr.so has loaded
    the system one already).

    What works: mark that version requirement weak (VER_FLG_WEAK, 0x2, on its Elf64_Vernaux
    entry in .gnu.version_r). The loader then accepts the library, and training and inference
    run normally. This script does that to the file given, only when the system libstdc++ lacks
    GLIBCXX_3.4.32, and says so (or always, with -Always: the package task marks the copy it ships,
    so that no user's machine needs a repair). Run it on the staged copy, never on the NuGet
    package's file. It is idempotent: a file already marked is left as it is.
.PARAMETER Path
    The staged libLibTorchSharp.so.
.PARAMETER Always
    Mark the requirement weak whatever this machine's libstdc++ has (for the file a package ships).
.EXAMPLE
    ./tools/Repair-LibTorchSharp.ps1 -Path out/SparsePrune/libLibTorchSharp.so
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [string] $Path,

    [switch] $Always
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Version = 'GLIBCXX_3.4.32'

function Get-SystemLibStdCxx {
    $candidates = '/lib/x86_64-linux-gnu/libstdc++.so.6', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6',
        '/usr/lib64/libstdc++.so.6', '/usr/lib/libstdc++.so.6'
    foreach ($c in $candidates) { if (Test-Path $c) { return (Resolve-Path $c).Path } }
    return (& ldconfig -p 2>$null) | Where-Object { $_ -match 'libstdc\+\+\.so\.6 .*x86-64' } |
        ForEach-Object { ($_ -split '=>\s*')[1] } | Select-Object -First 1
}

function Test-FileContainsAscii([string] $File, [string] $Text) {
    # Version names sit NUL-terminated in .dynstr: a byte search is enough.
    $latin = [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($File))
    return $latin.Contains($Text + [char]0)
}

function Set-ElfVersionNeedWeak {
    <# Sets VER_FLG_WEAK on the Elf64_Vernaux entry named $Name; returns 'changed', 'already' or 'absent'. #>
    param([string] $File, [string] $Name)
    $bytes = [IO.File]::ReadAllBytes($File)
    if ($bytes.Length -lt 64 -or $bytes[0] -ne 0x7f -or $bytes[1] -ne 0x45 -or $bytes[4] -ne 2 -or $bytes[5] -ne 1) {
        throw "$File is not a little-endian ELF64 file."
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
    $verneed = $sections | Where-Object Type -EQ 0x6ffffffe | Select-Object -First 1  # SHT_GNU_verneed
    if (-not $verneed) { return 'absent' }
    $strtab = [int]$sections[$verneed.Link].Offset
    $result = 'absent'
    $vn = [int]$verneed.Offset
    for ($n = 0; $n -lt $verneed.Info; $n++) {
        $cnt = [BitConverter]::ToUInt16($bytes, $vn + 2)
        $aux = $vn + [int][BitConverter]::ToUInt32($bytes, $vn + 8)
        for ($a = 0; $a -lt $cnt; $a++) {
            $nameOff = $strtab + [int][BitConverter]::ToUInt32($bytes, $aux + 8)
            $end = [Array]::IndexOf($bytes, [byte]0, $nameOff)
            if ([Text.Encoding]::ASCII.GetString($bytes, $nameOff, $end - $nameOff) -eq $Name) {
                $flags = [BitConverter]::ToUInt16($bytes, $aux + 4)
                if (($flags -band 2) -eq 0) {
                    $flags = $flags -bor 2
                    $bytes[$aux + 4] = [byte]($flags -band 0xff)
                    $bytes[$aux + 5] = [byte]($flags -shr 8)
                    $result = 'changed'
                } elseif ($result -eq 'absent') {
                    $result = 'already'
                }
            }
            $aux += [int][BitConverter]::ToUInt32($bytes, $aux + 12)
        }
        $vn += [int][BitConverter]::ToUInt32($bytes, $vn + 12)
    }
    if ($result -eq 'changed') { [IO.File]::WriteAllBytes($File, $bytes) }
    return $result
}

if ($Always) {
    $result = Set-ElfVersionNeedWeak -File $Path -Name $Version
    Write-Host "==> $(Split-Path -Leaf $Path): $Version requirement $(@{ changed = 'marked weak'; already = 'already weak'; absent = 'absent, nothing to mark' }[$result])"
    return
}
if (-not $IsLinux) { return }
$libstdcxx = Get-SystemLibStdCxx
if (-not $libstdcxx -or (Test-FileContainsAscii $libstdcxx $Version)) { return }

switch (Set-ElfVersionNeedWeak -File $Path -Name $Version) {
    'changed' { Write-Host "==> $libstdcxx lacks ${Version}: marked that version requirement of $(Split-Path -Leaf $Path) weak" }
    'already' { Write-Host "==> $libstdcxx lacks ${Version}: $(Split-Path -Leaf $Path) has that version requirement marked weak already" }
    'absent' { Write-Host "==> $libstdcxx lacks ${Version}, which $(Split-Path -Leaf $Path) does not ask for: left as it is" }
}
