#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Puts two or more runs of bench/accuracy.ps1 side by side: how far they differ, and what all
    their seeds say together.
.DESCRIPTION
    Reads each run's accuracy.json and, per setting (structure, target, schedule, regrowth,
    distillation), prints every run's mean drop with its 95 % interval, the largest difference
    between the runs' means, and the pooled mean of every seed's paired drop with its 95 % t
    interval (a seed that appears in two runs counts once, from the first). Writes the same as
    accuracy-compare.md beside the first file unless -OutFile says otherwise.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/probes/accuracy-compare.ps1 run1/accuracy.json run2/accuracy.json
#>
param(
    [Parameter(Mandatory, ValueFromRemainingArguments)] [string[]] $Path,
    [string] $OutFile
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

# Two-sided 95 % critical values of Student's t for 1..30 degrees of freedom (beyond: 1.96), as bench/accuracy.ps1 uses.
$TCritical = @(12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
    2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
function Get-Interval([double[]] $Values) {
    $n = $Values.Count
    $mean = ($Values | Measure-Object -Average).Average
    if ($n -lt 2) { return [pscustomobject]@{ Mean = $mean; Low = $null; High = $null } }
    $sd = [Math]::Sqrt((($Values | ForEach-Object { ($_ - $mean) * ($_ - $mean) } | Measure-Object -Sum).Sum) / ($n - 1))
    $t = if ($n - 1 -le $TCritical.Count) { $TCritical[$n - 2] } else { 1.96 }
    [pscustomobject]@{ Mean = $mean; Low = $mean - $t * $sd / [Math]::Sqrt($n); High = $mean + $t * $sd / [Math]::Sqrt($n) }
}
function Format-Interval($I) {
    if ($null -eq $I.Low) { return '{0:0.00}' -f $I.Mean }
    '{0:0.00} [{1:0.00}, {2:0.00}]' -f $I.Mean, $I.Low, $I.High
}
function Get-Key($Run) {
    $regrow = if ($Run.PSObject.Properties['regrow'] -and $Run.regrow) { ' regrow' } else { '' }
    $distilled = if ($Run.distilled) { ' distilled' } else { '' }
    "$($Run.structure) $($Run.target) $($Run.schedule)$regrow$distilled"
}

$files = foreach ($p in $Path) { Get-Content -Raw $p | ConvertFrom-Json }
$keys = [Collections.Generic.List[string]]::new()
foreach ($f in $files) { foreach ($r in $f.runs) { $k = Get-Key $r; if (-not $keys.Contains($k)) { $keys.Add($k) } } }

$header = '| setting | ' + (($files | ForEach-Object { $i = [array]::IndexOf($files, $_) + 1; "run $i (seeds $($_.runs[0].seeds -join ','))" }) -join ' | ') + ' | runs differ by (pt) | all seeds: drop [95 % CI] (pt) |'
$lines = @($header, (('|---' * ($files.Count + 3)) + '|'))
foreach ($k in $keys) {
    $runs = foreach ($f in $files) { $f.runs | Where-Object { (Get-Key $_) -eq $k } | Select-Object -First 1 }
    $cells = foreach ($f in $files) {
        $r = $f.runs | Where-Object { (Get-Key $_) -eq $k } | Select-Object -First 1
        if ($r) { Format-Interval ([pscustomobject]@{ Mean = $r.drop_pt; Low = $r.drop_ci95_pt[0]; High = $r.drop_ci95_pt[1] }) } else { '' }
    }
    $means = @($runs | ForEach-Object { $_.drop_pt })
    $differ = if ($means.Count -ge 2) { '{0:0.00}' -f (($means | Measure-Object -Maximum).Maximum - ($means | Measure-Object -Minimum).Minimum) } else { '' }
    $seen = @{}
    $drops = foreach ($r in $runs) { foreach ($s in $r.per_seed) { if (-not $seen.ContainsKey([string]$s.seed)) { $seen[[string]$s.seed] = $true; [double]$s.drop_pt } } }
    $lines += "| $k | $($cells -join ' | ') | $differ | $(Format-Interval (Get-Interval @($drops))) ($($seen.Count) seeds) |"
}
if (-not $OutFile) { $OutFile = Join-Path (Split-Path -Parent (Resolve-Path $Path[0])) 'accuracy-compare.md' }
$lines | Set-Content $OutFile
$lines | Write-Host
