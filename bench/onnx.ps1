#!/usr/bin/env pwsh

<#
.SYNOPSIS
    ONNX export and import of a 4096-4096-4096-10 model: seconds and peak memory against targets.
.DESCRIPTION
    Each operation runs in a fresh process (bench/shared/onnx-probe.ps1), for a dense model and for
    one pruned to 90 % of its connections written with -SparseInitializers. Targets: each under 3 s,
    peak memory under 3x the weights' bytes. Writes <ResultsDir>/onnx.json and prints a table.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [int[]] $Widths = @(4096, 4096, 4096, 10)
)
$ErrorActionPreference = 'Stop'
$probe = Join-Path $PSScriptRoot 'shared/onnx-probe.ps1'
$pwsh = if ((Split-Path -Leaf ([Environment]::ProcessPath)) -like 'pwsh*') { @([Environment]::ProcessPath) } else { @([Environment]::ProcessPath, (Join-Path $PSHOME 'pwsh.dll')) }
$work = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-onnx-bench-$PID"
New-Item -ItemType Directory -Force -Path $work | Out-Null

function Invoke-Probe([string] $Operation, [string] $File, [double] $Ratio, [bool] $Sparse) {
    $command = "& '$probe' -ModulePath '$ModulePath' -Operation $Operation -Path '$File' -Widths $($Widths -join ',') -Ratio $Ratio -SparseInitializers:`$$Sparse"
    $out = & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -NonInteractive -Command $command
    if ($LASTEXITCODE -ne 0) { throw "onnx-probe $Operation failed: $($out -join "`n")" }
    ($out | Select-Object -Last 1) | ConvertFrom-Json
}

try {
    $rows = foreach ($case in @(@{ Name = 'dense'; Ratio = 0; Sparse = $false }, @{ Name = 'pruned 90 %, sparse initializers'; Ratio = 0.9; Sparse = $true })) {
        $file = Join-Path $work "$($case.Ratio).onnx"
        foreach ($op in 'Export', 'Import') {
            $r = Invoke-Probe $op $file $case.Ratio $case.Sparse
            [pscustomobject]@{
                Model = $case.Name; Operation = $op; Seconds = $r.seconds; SecondsTarget = 3
                PeakOverWeights = $r.addedOverWeights; PeakTarget = 3; FileBytes = $r.fileBytes; WeightBytes = $r.weightBytes
                Met = $r.seconds -lt 3 -and ($null -eq $r.addedOverWeights -or $r.addedOverWeights -lt 3)
            }
        }
    }
}
finally { Remove-Item -Recurse -Force $work -ErrorAction Ignore }
New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
[ordered]@{ widths = $Widths; rows = $rows } | ConvertTo-Json -Depth 4 | Set-Content (Join-Path $ResultsDir 'onnx.json')
$rows | Format-Table | Out-Host
