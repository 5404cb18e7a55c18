#!/usr/bin/env pwsh

<#
.SYNOPSIS
    Installs the Debian packages that build.ps1 test and bench use, when it can.
.DESCRIPTION
    The README's two commands are all a fresh machine needs, so the build installs these itself:
      dataset-fashion-mnist  Fashion-MNIST in /usr/share/datasets/fashion-mnist: the IDX tests
                             and the benchmarks.
      python3-torch          PyTorch 1.13: the benchmarks' peer; its system LibTorch is also what
                             the native-loading tests must prove the module does not bind to.
      libopenblas0-pthread   without it that PyTorch runs on reference BLAS, 8x slower.
      python3-onnx           onnx 1.12's checker (onnx.checker.check_model): the ONNX export
                             tests run it on every file they write.
      chromium               headless Chromium: the HTML report tests take screenshots with it.
      fonts-dejavu-core      the fonts the report's charts are measured and drawn with.
      openssh-server         sshd: the SSH remoting tests of Invoke-PruningSweep run one on 127.0.0.1
                             (tests/tools/Start-SshTestServer.ps1).
      python3-sklearn        only for its data files: bench/budget.ps1 reads breast_cancer.csv (569
                             rows, 30 features; BSD-3, UCI origin) from its datasets/data folder as
                             its real tabular set.
    Without root or apt-get nothing is installed, and the script says what will be skipped: the
    tests and benchmarks that need a missing package skip themselves.
.PARAMETER Package
    The packages to make sure of (default: the eight above).
.EXAMPLE
    ./tools/Install-Prerequisites.ps1
#>
[CmdletBinding()]
param(
    [string[]] $Package = @('dataset-fashion-mnist', 'python3-torch', 'libopenblas0-pthread', 'python3-onnx', 'chromium', 'fonts-dejavu-core', 'openssh-server', 'python3-sklearn')
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

if (-not $IsLinux -or -not (Get-Command dpkg -ErrorAction Ignore)) {
    Write-Host "==> not a Debian system: $($Package -join ', ') not installed; the tests that need them will be skipped"
    return
}
$need = @($Package | Where-Object { & dpkg -s $_ 2>$null | Out-Null; $LASTEXITCODE -ne 0 })
if ($need.Count -eq 0) { return }

if (-not (Get-Command apt-get -ErrorAction Ignore) -or (& id -u) -ne '0') {
    Write-Host "==> cannot install $($need -join ', ') (needs root and apt-get); the tests that need them will be skipped"
    return
}
Write-Host "==> apt-get install $($need -join ' ')"
$env:DEBIAN_FRONTEND = 'noninteractive'
& apt-get update -qq | Out-Null
& apt-get install -y -qq --no-install-recommends @need | Out-Null
if ($LASTEXITCODE -ne 0) { Write-Host "==> apt-get install failed ($LASTEXITCODE); what needs $($need -join ', ') will be skipped" }
