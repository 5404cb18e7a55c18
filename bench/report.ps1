#!/usr/bin/env pwsh
<#
.SYNOPSIS
    How long Export-CompressionReport takes on a large model, and how large its file is.
.DESCRIPTION
    A 4096-4096-4096-10 MLP (33.6 M weights), connection-pruned to 90 % and sparsified to 50 % of
    what is left, so that every chart has all three kinds of weights: Export-CompressionReport
    writes its HTML report (headline, layer bars and table, three histograms, history). Targets:
    under 5 s, and a file under 2 MB (histograms bin the weights; they do not list them).
    The time is the median of -Repeats runs. Results: bench/results/report.json and report.md.
.PARAMETER Quick
    A 1024-1024-10 model and one run: what build.ps1 test runs to prove the bench works.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name report
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [int] $Repeats = 5,
    [switch] $Quick
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force
$layers = if ($Quick) { @(1024, 1024, 10) } else { @(4096, 4096, 4096, 10) }
if ($Quick) { $Repeats = 1 }

$work = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-report-$PID"
New-Item -ItemType Directory -Force -Path $work | Out-Null
try {
    $model = New-Mlp -Layers $layers -Seed 1 | Invoke-Pruning -Ratio 0.9 -WarningAction Ignore | Set-Sparsity -Sparsity 0.5
    $path = Join-Path $work 'report.html'
    $seconds = @(foreach ($k in 1..$Repeats) {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $model | Export-CompressionReport -Path $path -Force
        $watch.Elapsed.TotalSeconds
    })
    $median = ($seconds | Sort-Object)[[int][Math]::Floor(($seconds.Count - 1) / 2)]
    $bytes = (Get-Item $path).Length
}
finally {
    Remove-Item -Recurse -Force -ErrorAction Ignore $work
}

$result = [ordered]@{
    date = (Get-Date).ToUniversalTime().ToString('o')
    quick = [bool]$Quick
    layers = $layers -join '-'
    weights = $model.Weights
    seconds = $median
    runs = @($seconds)
    file_bytes = $bytes
    targets = [ordered]@{
        time = @{ text = 'Export-CompressionReport of 4096-4096-4096-10 under 5 s'; met = $median -lt 5 }
        size = @{ text = 'the HTML file under 2 MB'; met = $bytes -lt 2MB }
    }
}
$md = @(
    "Export-CompressionReport of a $($layers -join '-') model ($('{0:N0}' -f $model.Weights) present weights, 90 % connections pruned, half the rest masked)$(if ($Quick) { ' (quick run: not the target size)' }): median of $Repeats run(s).",
    '',
    '| figure | value | target | result |',
    '|---|---:|---|---|',
    ('| time | {0:0.00} s | under 5 s | {1} |' -f $median, $(if ($result.targets.time.met) { 'met' } else { '**missed**' })),
    ('| file | {0:N0} B | under 2 MB | {1} |' -f $bytes, $(if ($result.targets.size.met) { 'met' } else { '**missed**' }))
)
New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$result | ConvertTo-Json -Depth 4 | Set-Content (Join-Path $ResultsDir 'report.json')
$md | Set-Content (Join-Path $ResultsDir 'report.md')
$md | Write-Host
# The output's shape is checked in every mode; the targets only at full size.
if ($bytes -le 0 -or $seconds.Count -ne $Repeats) { Write-Host 'FAIL: no report file or a missing run'; exit 1 }
exit 0
