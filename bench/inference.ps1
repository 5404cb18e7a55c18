#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Deployment beside ONNX Runtime: SparsePrune's forward against ONNX Runtime on the same model's
    Export-Mlp -Format Onnx file, side by side in one process; and which ONNX form of a
    connection-pruned model ONNX Runtime runs fastest.
.DESCRIPTION
    Models: LeNet-300-100 (784-300-100-10) and 4096-4096-4096-10, each dense, connection-pruned
    95 % and 99 % (Invoke-Pruning -Structure Connection: stored sparse) and neuron-pruned 50 %
    (Invoke-Pruning -Structure Neuron: the layers shrink). Each is written as .spmlp and as ONNX
    (dense initializers, the default) and handed to bench/OrtTiming (built by build.ps1 bench),
    which loads the staged SparsePrune.Core with its LibTorch natives AND ONNX Runtime in one
    process. Per batch size the model runs with the kernels Invoke-Mlp gives it (with -Optimize:
    as Optimize-Mlp -BatchSize fixes them) through -Rounds rounds, each one series of
    SparsePrune's forward (KernelTuner.MeasureLatency: the path Measure-Mlp -Latency and
    Invoke-Mlp take, whatever kernels they use) and one series of InferenceSession.Run, the side
    that goes first swapped every round. Both sides run 2 intra-op threads. Figures: the medians
    of the rounds' medians, the median of the rounds' ratios (SparsePrune / ONNX Runtime) with the
    smallest and largest round ratio, and the ratio of each side's fastest pass (what each reaches
    when nothing else on the machine interrupts it).

    The deployment question (connection-pruned 4096 model, 95 % and 99 %): the dense-initializer
    export, the module's -SparseInitializers export, and rewrites of the export that might let
    ONNX Runtime skip the zeros (com.microsoft.SparseToDenseMatMul over a sparse initializer; a
    padded-row Gather/Mul/ReduceSum form of standard operators), each checked against the dense
    export's logits and timed beside it in alternating rounds.
    Results: <ResultsDir>/inference.json and inference.md.
.PARAMETER Optimize
    Run Optimize-Mlp's choice (per layer, the kernel that timed faster at each batch size) instead
    of the model's default one. On a loaded machine its timings can choose the slower kernel.
.PARAMETER Quick
    LeNet-300-100 only, three rounds: proves every path in well under a minute; says nothing of the targets.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name inference
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [string] $TimerPath = (Join-Path $PSScriptRoot '../out/bench/OrtTiming/OrtTiming.dll'),
    [int] $Rounds = 11,
    [switch] $Optimize,
    [switch] $Quick
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force
$stage = Split-Path (Resolve-Path $ModulePath)
if (-not (Test-Path $TimerPath)) { throw "The timer is missing at $TimerPath; run 'dotnet pwsh ./build.ps1 bench -Name inference' (it builds bench/OrtTiming)." }
$threads = 2
# The timer's LibTorch threads (NativeLibraries.ApplyThreadSetting); ONNX Runtime gets the same count.
$env:SPARSEPRUNE_THREADS = "$threads"
if ($Quick) { $Rounds = 3 }
$batches = 1, 256
# Timed runs per series: enough that a series of the small model is not a single timer tick.
$shapes = @(
    @{ Name = 'LeNet-300-100'; Widths = @(784, 300, 100, 10); Repeat = @{ 1 = 30; 256 = 10 } }
    if (-not $Quick) { @{ Name = '4096-4096-4096-10'; Widths = @(4096, 4096, 4096, 10); Repeat = @{ 1 = 10; 256 = 3 } } }
)
$variants = @(
    @{ Name = 'dense'; Prune = $null }
    @{ Name = 'connections 95 %'; Prune = @{ Structure = 'Connection'; Ratio = 0.95 } }
    @{ Name = 'connections 99 %'; Prune = @{ Structure = 'Connection'; Ratio = 0.99 } }
    @{ Name = 'neurons 50 %'; Prune = @{ Structure = 'Neuron'; Ratio = 0.5 } }
)
$work = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-inference-bench-$PID"
New-Item -ItemType Directory -Force -Path $work | Out-Null

function Invoke-Timer([string[]] $Arguments) {
    $out = & dotnet $TimerPath @Arguments
    if ($LASTEXITCODE -ne 0) { throw "OrtTiming $($Arguments[0]) failed: $($out -join "`n")" }
    ($out | Select-Object -Last 1) | ConvertFrom-Json
}

$rows = [System.Collections.Generic.List[object]]::new()
$forms = [System.Collections.Generic.List[object]]::new()
try {
    foreach ($shape in $shapes) {
        $base = New-Mlp -Layers $shape.Widths -Seed 1 -Name "mlp-$($shape.Widths -join '-')"
        foreach ($v in $variants) {
            $model = $base | Copy-Mlp
            if ($v.Prune) { $prune = $v.Prune; $model = $model | Invoke-Pruning @prune -Confirm:$false -WarningAction Ignore }
            $stem = Join-Path $work ("{0}-{1}" -f ($shape.Widths -join '-'), ($v.Name -replace '\W', ''))
            $model | Export-Mlp "$stem.spmlp" -Force
            $model | Export-Mlp "$stem.onnx" -Format Onnx -Force -WarningAction Ignore
            # Both batch sizes in one process: the model and the ONNX session load once.
            $r = Invoke-Timer 'compare', $stage, "$stem.spmlp", "$stem.onnx", ($batches -join ','), "$Rounds", (($batches | ForEach-Object { $shape.Repeat[$_] }) -join ','), "$threads", $(if ($Optimize) { 'optimize' } else { 'default' })
            foreach ($x in $r.results) {
                $row = [pscustomobject]@{
                    Model = $shape.Name; Variant = $v.Name; Widths = ($model.Widths -join '-'); Batch = $x.batch
                    SparsePruneMs = [math]::Round($x.sparsePruneMs, 4); OrtMs = [math]::Round($x.ortMs, 4)
                    Ratio = [math]::Round($x.ratio, 3); RatioMin = [math]::Round($x.ratioMin, 3); RatioMax = [math]::Round($x.ratioMax, 3)
                    SparsePruneBestMs = [math]::Round($x.sparsePruneBestMs, 4); OrtBestMs = [math]::Round($x.ortBestMs, 4); RatioOfBest = [math]::Round($x.ratioOfBest, 3)
                    Kernels = $x.kernels; Optimize = $x.optimize; MaxProbabilityDifference = $x.maxProbabilityDifference
                    SparsePruneRoundMs = $x.sparsePruneRoundMs; OrtRoundMs = $x.ortRoundMs
                }
                $rows.Add($row)
                Write-Host ('{0} {1}, batch {2}: SparsePrune {3} ms, ONNX Runtime {4} ms, ratio {5} [{6}, {7}], of the fastest passes {8} ({9})' -f $row.Model, $row.Variant, $row.Batch, $row.SparsePruneMs, $row.OrtMs, $row.Ratio, $row.RatioMin, $row.RatioMax, $row.RatioOfBest, $row.Kernels)
            }
            # The deployment question, on the connection-pruned large model (LeNet under -Quick).
            if ($v.Prune -and $v.Prune.Structure -eq 'Connection' -and ($Quick -or $shape.Widths[0] -eq 4096)) {
                $model | Export-Mlp "$stem.sparse.onnx" -Format Onnx -SparseInitializers -Force
                $f = Invoke-Timer 'forms', $stage, "$stem.onnx", "$stem.sparse.onnx", ($batches -join ','), "$Rounds", "$($shape.Repeat[256])", "$threads", (Join-Path $work 'forms')
                $forms.Add([pscustomobject]@{ Model = $shape.Name; Variant = $v.Name; Forms = $f.forms; Results = $f.results })
                foreach ($fr in $f.results) {
                    $parts = foreach ($p in $fr.PSObject.Properties | Where-Object Name -Like '*OverDense') { '{0} {1:N3}x' -f ($p.Name -replace 'OverDense$'), $p.Value }
                    Write-Host ('  ONNX forms, batch {0}: dense initializers {1:N3} ms; over it: {2}' -f $fr.batch, $fr.denseMs, ($parts -join ', '))
                }
                foreach ($fi in $f.forms | Where-Object { -not $_.loads }) { Write-Host "  form $($fi.form) does not load: $($fi.loadError)" }
            }
        }
    }
}
finally { Remove-Item -Recurse -Force $work -ErrorAction Ignore }

New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$result = [ordered]@{
    Date = (Get-Date).ToUniversalTime().ToString('o'); Machine = "$([Environment]::ProcessorCount) cores"; Threads = $threads; Rounds = $Rounds
    OnnxRuntime = '1.32.0'; Rows = $rows; Forms = $forms
}
$result | ConvertTo-Json -Depth 8 | Set-Content (Join-Path $ResultsDir 'inference.json')
$md = @('| model | variant | batch | SparsePrune | ONNX Runtime | ratio (range over rounds) | fastest passes | ratio of fastest | kernels |', '|---|---|---:|---:|---:|---:|---:|---:|---|') +
    ($rows | ForEach-Object { '| {0} | {1} | {2} | {3:0.####} ms | {4:0.####} ms | {5:0.00}× ({6:0.00}–{7:0.00}) | {8:0.####} / {9:0.####} ms | {10:0.00}× | {11} |' -f $_.Model, $_.Variant, $_.Batch, $_.SparsePruneMs, $_.OrtMs, $_.Ratio, $_.RatioMin, $_.RatioMax, $_.SparsePruneBestMs, $_.OrtBestMs, $_.RatioOfBest, $_.Kernels })
$md | Set-Content (Join-Path $ResultsDir 'inference.md')
$rows | Format-Table Model, Variant, Batch, SparsePruneMs, OrtMs, Ratio, RatioMin, RatioMax, RatioOfBest, Kernels | Out-Host
