# Run by bench/training.ps1 in a process of its own: the resident memory one training epoch
# adds at its peak (and the whole process's peak), for a dense or connection-pruned model.
# Prints one JSON line.
param(
    [string] $ModulePath, [string] $DataPath, [string] $Widths, [double] $Ratio = 0, [int] $BatchSize = 128
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
. (Join-Path $PSScriptRoot 'PeakMemory.ps1')
$data = Get-Dataset FashionMnist -Path $DataPath
$model = New-Mlp -Layers ([int[]]($Widths -split ',')) -Seed 1
if ($Ratio -gt 0) { $model = $model | Invoke-Pruning -Ratio $Ratio -Dataset $data -WarningAction Ignore }
# Warm-up: the data set's native copy and the JIT, outside the measured call.
$model | Invoke-Training -Dataset $data -Epochs 0 | Out-Null
$start = Start-PeakMemory
$model | Invoke-Training -Dataset $data -Epochs 1 -BatchSize $BatchSize -Seed 2 | Out-Null
$m = Stop-PeakMemory $start
$note = $model.History[-1].Note
[pscustomobject]@{ peakAdded = $m.PeakAdded; peak = $m.Peak; note = $note } | ConvertTo-Json -Compress
