#!/usr/bin/env pwsh
<#
.SYNOPSIS
    Deep Compression end to end: how small a LeNet-300-100 file gets, and what it costs in accuracy.
.DESCRIPTION
    LeNet-300-100 (784-300-100-10, ReLU, Adam) on Fashion-MNIST, for each seed:
      - a dense model is pre-trained, then pruned to 90, 95 and 98 % overall sparsity with the
        accuracy bench's recipe (bench/accuracy.ps1: gradual pruning, L1, ERK);
      - each pruned model is quantized with Invoke-Quantization -Method KMeans at 6, 5, 4, 3 and
        2 bits with fine-tuning of the shared values, at 3 bits also without it, and with
        -Method Linear at 8 bits; the dense model gets Linear 8-bit too;
      - every model is saved with Export-Mlp (.spmlp) and the file is measured on disk.
    Every model is compared with its dense twin: the same pre-trained model trained through the
    same calls for the same total epochs (fine-tuning epochs included) with nothing pruned or
    quantized. Figures are means over the seeds; spread = largest minus smallest drop.

    The peer, in the same run: PyTorch 1.13's dynamic int8 quantization (quantize_dynamic on the
    Linear layers) of the same dense model, exported as SafeTensors and loaded in PyTorch
    (bench/shared/peer_quantize.py): the size of its torch.save'd state dict and its accuracy. Using our
    model rather than one trained in PyTorch compares the quantizers alone, on the same weights.
    The peer takes the input normalization back out of the first layer (exactly: the float
    model's outputs do not change), its best setting: folded in, the near-constant pixels' huge
    columns set its per-tensor int8 range (the JSON keeps that accuracy too).

    Writes compression.json and compression.md to -ResultsDir, with the issue's five targets
    marked met or missed.

    -Quick runs every path once on Digits (one seed, a few epochs, a few settings) in about a
    minute and checks the output's shape: build.ps1 test runs it.
.EXAMPLE
    dotnet pwsh ./build.ps1 bench -Name compression
.EXAMPLE
    dotnet pwsh -NoProfile -Command "& ./bench/compression.ps1 -Quick"
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot 'results'),
    [switch] $Quick,
    [int[]] $Seeds = @(0, 1, 2),
    [string] $FashionMnistPath = '/usr/share/datasets/fashion-mnist',
    # How the pixels are scaled. Standard (the module's default, and the accuracy bench's) keeps
    # 784 means and 784 deviations in every file: about 5.6 KB that no coder shrinks, which alone
    # caps a LeNet-300-100 file near 190x whatever the weights cost. MinMax maps the pixels to
    # [0, 1] as Deep Compression fed MNIST and its statistics compress to a few bytes, but
    # magnitude pruning ranks unstandardized inputs' weights worse: on seed 0, 98 % pruning lost
    # 1.5 points against the twin instead of about 0.3.
    [ValidateSet('Standard', 'MinMax', 'None')] [string] $Normalize = 'Standard',
    # Epochs of training of the shared values after k-means (the twins get as many more).
    [int] $FineTuneEpochs = 5
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force

# ---- the recipe ----------------------------------------------------------------------------
# Pruning: bench/accuracy.ps1's recipe, its best for connections at every target (ERK, L1,
# gradual cubic ramp over the first half of the pruning epochs, constant learning rate).
$recipes = Import-PowerShellDataFile (Join-Path $PSScriptRoot 'shared/pruning-recipe.psd1')
$recipe = if ($Quick) { $recipes.Quick } else { $recipes.Full }
$recipe.FineTuneEpochs = $FineTuneEpochs
$sparsities = @(0.9, 0.95, 0.98)
# Quantization of each pruned model: Deep Compression's k-means sweep, 3 bits with and without
# fine-tuning (target 4), and the linear int8 grid the runtimes use.
$quantizations = @(
    foreach ($b in 6, 5, 4, 3, 2) { @{ Method = 'KMeans'; Bits = $b; FineTune = $true } }
    @{ Method = 'KMeans'; Bits = 3; FineTune = $false }
    @{ Method = 'Linear'; Bits = 8; FineTune = $false }
)
$python = '/usr/bin/python3'
$peer = Join-Path $PSScriptRoot 'shared/peer_quantize.py'

if ($Quick) {
    $data = Get-Dataset Digits -Seed 1 -Normalize $Normalize
    # The Digits file the module embeds (the same rows as Get-Dataset Digits).
    $peerData = @('--csv', (Join-Path $PSScriptRoot '../Core/Data/Embedded/digits.csv.gz'))
    $recipe.FineTuneEpochs = 1
    $Seeds = @($Seeds[0])
    $sparsities = @(0.9)
    $quantizations = @(
        @{ Method = 'KMeans'; Bits = 4; FineTune = $true }
        @{ Method = 'KMeans'; Bits = 3; FineTune = $true }
        @{ Method = 'KMeans'; Bits = 3; FineTune = $false }
        @{ Method = 'Linear'; Bits = 8; FineTune = $false }
    )
}
else {
    if (-not (Test-Path (Join-Path $FashionMnistPath 'train-images-idx3-ubyte.gz'))) {
        throw "Fashion-MNIST is not in ${FashionMnistPath}: install it (apt-get install dataset-fashion-mnist; build.ps1 bench does) or give -FashionMnistPath."
    }
    $data = Get-Dataset FashionMnist -Path $FashionMnistPath -Normalize $Normalize
    $peerData = @('--idx-folder', $FashionMnistPath)
}
# The peer reads the Digits file itself in -Quick (the module's test split is not exposed), so
# there it evaluates every row: its drop is still float32 against int8 on the same rows.
$hasPeer = (Test-Path $python) -and (Test-Path $peerData[1]) -and $null -ne (& $python -c 'import torch; print(torch.__version__)' 2>$null)
if (-not $hasPeer) { Write-Warning 'PyTorch (Debian python3-torch) is not importable from /usr/bin/python3, or the peer has no data: the peer row is left out.' }

$work = Join-Path ([IO.Path]::GetTempPath()) "sparseprune-compression-$PID"
New-Item -ItemType Directory -Force -Path $work | Out-Null

function Invoke-Recipe {
    <# The pruning phase of the recipe on $Model; with -Dense the twin's same calls, nothing pruned. #>
    param($Model, [double] $Ratio, [switch] $Dense)
    if ($Dense) {
        return $Model | Invoke-Training -Dataset $data -Epochs $recipe.PruneEpochs -BatchSize $recipe.BatchSize -LearningRate $recipe.LearningRate -LearningRateSchedule $recipe.LearningRateSchedule
    }
    $Model | Invoke-Pruning -Dataset $data -Ratio $Ratio -Structure Connection -Criterion L1 -Scope ERK -Schedule Gradual `
        -Epochs $recipe.PruneEpochs -UpdateEvery $recipe.UpdateEvery -RampFraction $recipe.RampFraction `
        -BatchSize $recipe.BatchSize -LearningRateSchedule $recipe.LearningRateSchedule -FineTuneLearningRate $recipe.LearningRate
}

function Get-TestAccuracy($Model) { ($Model | Get-CompressionReport -Dataset $data).Metric }

function Measure-File($Model) {
    <# Bytes of the model's .spmlp file on disk, and its present weights. #>
    $path = Join-Path $work 'model.spmlp'
    $Model | Export-Mlp -Path $path -Force
    [pscustomobject]@{ Bytes = (Get-Item $path).Length; Weights = $Model.Weights }
}

function Invoke-Quantize($Model, [hashtable] $Q, [int] $Seed) {
    <# Quantizes $Model in place per $Q; returns the seconds the cmdlet call took. #>
    $a = @{ Method = $Q.Method; Bits = $Q.Bits; Dataset = $data }
    if ($Q.FineTune) {
        $a += @{ FineTuneEpochs = $recipe.FineTuneEpochs; FineTuneLearningRate = $recipe.LearningRate; BatchSize = $recipe.BatchSize; Seed = $Seed }
    }
    $w = [Diagnostics.Stopwatch]::StartNew()
    $null = $Model | Invoke-Quantization @a
    $w.Elapsed.TotalSeconds
}

$watch = [Diagnostics.Stopwatch]::StartNew()
$rows = [Collections.Generic.List[object]]::new()
$peers = [Collections.Generic.List[object]]::new()
$timings = [Collections.Generic.List[double]]::new()
function Add-Row($Seed, $Sparsity, $Q, $Model, $Twin, $Seconds) {
    $f = Measure-File $Model
    $rows.Add([pscustomobject]@{
            Seed = $Seed; Sparsity = $Sparsity
            Method = if ($Q) { $Q.Method } else { 'None' }; Bits = if ($Q) { $Q.Bits } else { 32 }
            FineTune = [bool]($Q -and $Q.FineTune)
            Bytes = $f.Bytes; Weights = $f.Weights; StoredBits = ($Model | Get-CompressionReport).BitsPerWeight
            Accuracy = Get-TestAccuracy $Model; Twin = $Twin; Seconds = $Seconds
        })
    $r = $rows[-1]
    Write-Host ("seed {0} sparsity {1:P0} {2} {3}-bit{4}: {5:N0} B, {6:P2} (twin {7:P2}), quantized in {8:0.000} s" -f $Seed, $Sparsity, $r.Method, $r.Bits, $(if ($r.FineTune) { ' +FT' } else { '' }), $r.Bytes, $r.Accuracy, $Twin, $Seconds)
}

foreach ($seed in $Seeds) {
    Write-Host "seed ${seed}: dense pre-training ($($recipe.DenseEpochs) epochs)"
    $m = New-Mlp -Layers $recipe.Widths -Seed $seed |
        Invoke-Training -Dataset $data -Epochs $recipe.DenseEpochs -BatchSize $recipe.BatchSize -LearningRate $recipe.LearningRate
    # Two twins: the recipe's epochs, and as many more as the k-means fine-tuning takes.
    $dense = Invoke-Recipe ($m | Copy-Mlp -Name "dense-twin-$seed") -Dense
    $twin = Get-TestAccuracy $dense
    $denseFt = $dense | Copy-Mlp | Invoke-Training -Dataset $data -Epochs $recipe.FineTuneEpochs -BatchSize $recipe.BatchSize -LearningRate $recipe.LearningRate -LearningRateSchedule $recipe.LearningRateSchedule
    $twinFt = Get-TestAccuracy $denseFt
    Add-Row $seed 0.0 $null $dense $twin 0

    # The dense model quantized: linear int8 (target 3), and k-means 5-bit timed (target 5).
    $q = @{ Method = 'Linear'; Bits = 8; FineTune = $false }
    $copy = $dense | Copy-Mlp
    Add-Row $seed 0.0 $q $copy $twin (Invoke-Quantize $copy $q $seed)
    $q = @{ Method = 'KMeans'; Bits = 5; FineTune = $false }
    $copy = $dense | Copy-Mlp
    $seconds = Invoke-Quantize $copy $q $seed
    $timings.Add($seconds)
    Add-Row $seed 0.0 $q $copy $twin $seconds

    if ($hasPeer) {
        $st = Join-Path $work 'dense.safetensors'
        $dense | Export-Mlp -Path $st -Force
        $out = & $python $peer $st @peerData --threads 2
        if ($LASTEXITCODE -ne 0) { throw "bench/shared/peer_quantize.py failed (exit code $LASTEXITCODE)." }
        $p = $out | Select-Object -Last 1 | ConvertFrom-Json
        $p | Add-Member Seed $seed
        $peers.Add($p)
        Write-Host ("seed {0} PyTorch dynamic int8: {1:N0} B, {2:P2} (float32 {3:P2})" -f $seed, $p.int8_state_dict_bytes, $p.int8_accuracy, $p.float_accuracy)
    }

    foreach ($s in $sparsities) {
        $pruned = Invoke-Recipe ($m | Copy-Mlp) $s
        Add-Row $seed $s $null $pruned $twin 0
        foreach ($q in $quantizations) {
            $copy = $pruned | Copy-Mlp
            $seconds = Invoke-Quantize $copy $q $seed
            Add-Row $seed $s $q $copy $(if ($q.FineTune) { $twinFt } else { $twin }) $seconds
        }
    }
}

# ---- summary over seeds ------------------------------------------------------------------------
$denseBytes = @{}
foreach ($r in $rows | Where-Object { $_.Sparsity -eq 0 -and $_.Method -eq 'None' }) { $denseBytes[$r.Seed] = $r.Bytes }
$runs = foreach ($g in $rows | Group-Object Sparsity, Method, Bits, FineTune) {
    $g0 = $g.Group[0]
    $drops = $g.Group | ForEach-Object { 100 * ($_.Twin - $_.Accuracy) }
    $ratios = $g.Group | ForEach-Object { $denseBytes[$_.Seed] / $_.Bytes }
    $bytes = ($g.Group.Bytes | Measure-Object -Average).Average
    $weights = ($g.Group.Weights | Measure-Object -Average).Average
    [pscustomobject][ordered]@{
        sparsity = $g0.Sparsity
        method = $g0.Method
        bits = $g0.Bits
        fine_tune_epochs = if ($g0.FineTune) { $recipe.FineTuneEpochs } else { 0 }
        file_bytes = $bytes
        ratio = ($ratios | Measure-Object -Average).Average
        present_weights = $weights
        # The whole file over the present weights (metadata included), and Get-CompressionReport's
        # BitsPerWeight: the file's weight and bias bytes alone (codes, positions, codebook).
        bits_per_weight = 8 * $bytes / $weights
        stored_bits_per_weight = ($g.Group.StoredBits | Measure-Object -Average).Average
        accuracy = ($g.Group.Accuracy | Measure-Object -Average).Average
        dense_same_epochs_accuracy = ($g.Group.Twin | Measure-Object -Average).Average
        drop_pt = ($drops | Measure-Object -Average).Average
        spread_pt = ($drops | Measure-Object -Maximum).Maximum - ($drops | Measure-Object -Minimum).Minimum
        epochs = $recipe.DenseEpochs + $recipe.PruneEpochs + $(if ($g0.FineTune) { $recipe.FineTuneEpochs } else { 0 })
        quantize_seconds = ($g.Group.Seconds | Measure-Object -Average).Average
    }
}
$peerRun = if ($peers.Count) {
    $d = $peers | ForEach-Object { 100 * ($_.float_accuracy - $_.int8_accuracy) }
    [ordered]@{
        torch = $peers[0].torch; engine = $peers[0].engine; rows = $peers[0].rows
        int8_state_dict_bytes = ($peers.int8_state_dict_bytes | Measure-Object -Average).Average
        float_state_dict_bytes = ($peers.float_state_dict_bytes | Measure-Object -Average).Average
        ratio = ($peers | ForEach-Object { $denseBytes[$_.Seed] / $_.int8_state_dict_bytes } | Measure-Object -Average).Average
        float_accuracy = ($peers.float_accuracy | Measure-Object -Average).Average
        # quantize_dynamic on the file as exported, normalization folded into the first layer.
        folded_int8_accuracy = ($peers.folded_int8_accuracy | Measure-Object -Average).Average
        accuracy = ($peers.int8_accuracy | Measure-Object -Average).Average
        drop_pt = ($d | Measure-Object -Average).Average
        spread_pt = ($d | Measure-Object -Maximum).Maximum - ($d | Measure-Object -Minimum).Minimum
        quantize_seconds = ($peers.quantize_seconds | Measure-Object -Average).Average
    }
}

# ---- the issue's targets ---------------------------------------------------------------------
function Get-Label($r) {
    $s = if ($r.sparsity -gt 0) { '{0:0} %' -f (100 * $r.sparsity) } else { 'dense' }
    $q = if ($r.method -eq 'None') { 'float32' } else { "$($r.method) $($r.bits)-bit$(if ($r.fine_tune_epochs) { ' +FT' })" }
    "$s, $q"
}
# What a missed size target is limited by: how the best file within the drop splits into the
# weights' bytes (StoredBytes: values or codes, positions, codebooks, biases) and the rest
# (header, metadata and the input normalization's statistics).
$formatNote = 'the bits each stored weight still costs in the .spmlp file (codes, their positions and the codebook; the weight bits/weight column)'
function Get-SizeLimit($r) {
    $weightBytes = $r.stored_bits_per_weight * $r.present_weights / 8
    $rest = $r.file_bytes - $weightBytes
    $features = $recipe.Widths[0]
    $what = if ($Normalize -eq 'Standard') { "metadata and the input normalization ($features means and $features deviations, $('{0:N0}' -f (8 * $features)) B that no coder shrinks much)" } else { 'metadata and the input normalization' }
    "limit: of its $('{0:N0}' -f $r.file_bytes) B, $('{0:N0}' -f $weightBytes) B are the weights (codes, positions, codebooks, biases: $('{0:0.0}' -f $r.stored_bits_per_weight) bits each) and $('{0:N0}' -f $rest) B the rest of the file: header, $what"
}
function Test-SizeTarget([double] $MinRatio, [double] $MaxDrop) {
    $ok = @($runs | Where-Object { $_.ratio -ge $MinRatio -and $_.drop_pt -le $MaxDrop } | Sort-Object ratio -Descending)
    if ($ok) { return @{ met = $true; detail = "$(Get-Label $ok[0]): $('{0:0.0}' -f $ok[0].ratio)×, drop $('{0:0.00}' -f $ok[0].drop_pt) pt" } }
    $best = @($runs | Where-Object { $_.drop_pt -le $MaxDrop } | Sort-Object ratio -Descending)
    $detail = if ($best) { "best within the drop: $(Get-Label $best[0]) at $('{0:0.0}' -f $best[0].ratio)×; $(Get-SizeLimit $best[0])" } else { 'no model within the drop' }
    @{ met = $false; detail = $detail }
}
$targets = [ordered]@{}
$targets['1'] = @{ text = '≥ 40× smaller file at a drop ≤ 0.3 pt' } + (Test-SizeTarget 40 0.3)
$targets['2'] = @{ text = '≥ 100× smaller file at a drop ≤ 1.0 pt' } + (Test-SizeTarget 100 1.0)
$lin = $runs | Where-Object { $_.sparsity -eq 0 -and $_.method -eq 'Linear' }
$fraction = 1 / $lin.ratio
$failed3 = @(
    if ($lin.drop_pt -gt 0.1) { "drop $('{0:0.00}' -f $lin.drop_pt) pt > 0.1" }
    if ($fraction -gt 0.26) { "file $('{0:0.000}' -f $fraction)× the float32 file > 0.26×" }
    if ($peerRun -and $lin.file_bytes -gt $peerRun.int8_state_dict_bytes) { "file $('{0:N0}' -f $lin.file_bytes) B > PyTorch's $('{0:N0}' -f $peerRun.int8_state_dict_bytes) B" }
    if (-not $peerRun) { 'no PyTorch peer to compare with' }
)
$targets['3'] = @{
    text = 'Linear 8-bit, dense: drop ≤ 0.1 pt, file ≤ 0.26× float32 and ≤ PyTorch dynamic int8 state dict'
    met = $failed3.Count -eq 0
    detail = "drop $('{0:0.00}' -f $lin.drop_pt) pt, $('{0:0.000}' -f $fraction)× the float32 file, $('{0:N0}' -f $lin.file_bytes) B against PyTorch's $(if ($peerRun) { '{0:N0}' -f $peerRun.int8_state_dict_bytes } else { '?' }) B" +
        $(if ($failed3) { "; missed: $($failed3 -join '; ')$(if ($fraction -gt 0.26) { "; limit: $formatNote" })" })
}
$pairs = foreach ($s in $sparsities) {
    $ft = $runs | Where-Object { $_.sparsity -eq $s -and $_.method -eq 'KMeans' -and $_.bits -eq 3 -and $_.fine_tune_epochs -gt 0 }
    $no = $runs | Where-Object { $_.sparsity -eq $s -and $_.method -eq 'KMeans' -and $_.bits -eq 3 -and $_.fine_tune_epochs -eq 0 }
    [pscustomobject]@{ Sparsity = $s; Ft = $ft; No = $no }
}
$targets['4'] = @{
    text = 'k-means 3-bit: fine-tuned beats not fine-tuned (drop against its twin, every sparsity)'
    met = @($pairs | Where-Object { $_.Ft.drop_pt -ge $_.No.drop_pt }).Count -eq 0
    detail = ($pairs | ForEach-Object { '{0:0} %: {1:0.00} pt with, {2:0.00} pt without' -f (100 * $_.Sparsity), $_.Ft.drop_pt, $_.No.drop_pt }) -join '; '
}
$meanTime = ($timings | Measure-Object -Average).Average
$targets['5'] = @{
    text = 'k-means 5-bit, no fine-tuning, on the dense LeNet-300-100: the cmdlet call takes < 2 s'
    met = $meanTime -lt 2
    detail = "$('{0:0.000}' -f $meanTime) s (mean; $(($timings | ForEach-Object { '{0:0.000}' -f $_ }) -join ', ') s)"
}

$result = [ordered]@{
    date = (Get-Date).ToUniversalTime().ToString('o')
    dataset = $data.Name
    normalize = $Normalize
    quick = [bool]$Quick
    recipe = $recipe
    seeds = @($Seeds)
    runs = @($runs)
    peer = $peerRun
    targets = $targets
    total_seconds = $watch.Elapsed.TotalSeconds
}

$denseRun = $runs | Where-Object { $_.sparsity -eq 0 -and $_.method -eq 'None' }
$md = @(
    "LeNet-300-100 on $($data.Name)$(if ($Quick) { ' (quick run: Digits, one seed, few epochs; the targets are only indicative)' }): pruned with bench/accuracy.ps1's recipe ($($recipe.DenseEpochs) dense + $($recipe.PruneEpochs) pruning epochs), then quantized; k-means rows marked +FT trained their shared values $($recipe.FineTuneEpochs) more epochs. Each model is compared with its dense twin trained the same total epochs; mean over seeds $($Seeds -join ', '); spread = largest minus smallest drop. Inputs scaled with -Normalize $Normalize. File = Export-Mlp .spmlp on disk; ratio = dense float32 file ($('{0:N0}' -f $denseRun.file_bytes) B) / file; file bits/weight = 8 × file bytes / present weights; weight bits/weight = Get-CompressionReport's BitsPerWeight (the weight and bias bytes alone).",
    '',
    '| sparsity | quantization | file (B) | ratio | present weights | file bits/weight | weight bits/weight | accuracy | dense, same epochs | drop (pt) | spread (pt) | quantize (s) |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
) + ($runs | Sort-Object sparsity, @{ Expression = { $_.method -eq 'None' }; Descending = $true }, method, @{ Expression = 'bits'; Descending = $true }, @{ Expression = 'fine_tune_epochs'; Descending = $true } | ForEach-Object {
        $q = if ($_.method -eq 'None') { 'none (float32)' } else { "$($_.method) $($_.bits)-bit$(if ($_.fine_tune_epochs) { " +FT $($_.fine_tune_epochs) ep" })" }
        '| {0} | {1} | {2:N0} | {3:0.0}× | {4:N0} | {5:0.00} | {6:0.00} | {7:0.00} % | {8:0.00} % | {9:0.00} | {10:0.00} | {11:0.000} |' -f $(if ($_.sparsity) { '{0:0} %' -f (100 * $_.sparsity) } else { 'dense' }), $q,
        $_.file_bytes, $_.ratio, $_.present_weights, $_.bits_per_weight, $_.stored_bits_per_weight, (100 * $_.accuracy), (100 * $_.dense_same_epochs_accuracy), $_.drop_pt, $_.spread_pt, $_.quantize_seconds
    })
if ($peerRun) {
    $md += '| dense | PyTorch $($peerRun.torch) quantize_dynamic int8 (state dict) | {0:N0} | {1:0.0}× | | | | {2:0.00} % | {3:0.00} % (float32 in PyTorch) | {4:0.00} | {5:0.00} | {6:0.000} |' -f $peerRun.int8_state_dict_bytes, $peerRun.ratio, (100 * $peerRun.accuracy), (100 * $peerRun.float_accuracy), $peerRun.drop_pt, $peerRun.spread_pt, $peerRun.quantize_seconds
    $md[-1] = $md[-1].Replace('$($peerRun.torch)', $peerRun.torch)
    $md += ''
    $md += "PyTorch row: the same dense model (SafeTensors export), normalization taken back out of the first layer, evaluated on the same test rows$(if ($Quick) { ' (in -Quick: every row of the Digits file)' }); its drop is against its own float32 accuracy. Quantized as exported (normalization folded in) it reaches $('{0:0.00} %' -f (100 * $peerRun.folded_int8_accuracy))."
}
$md += ''
$md += '| # | target | result | detail |'
$md += '|---|---|---|---|'
foreach ($k in $targets.Keys) { $md += "| $k | $($targets[$k].text) | $(if ($targets[$k].met) { 'met' } else { '**missed**' }) | $($targets[$k].detail) |" }
$md += ''
$md += "Total: $('{0:0}' -f $result.total_seconds) s."

New-Item -ItemType Directory -Force -Path $ResultsDir | Out-Null
$result | ConvertTo-Json -Depth 6 | Set-Content (Join-Path $ResultsDir 'compression.json')
$md | Set-Content (Join-Path $ResultsDir 'compression.md')
$md | Write-Host
Remove-Item -Recurse -Force -ErrorAction Ignore $work

# The output's shape is checked in every mode: a missing figure or a model that did not reach
# its sparsity fails the run.
$problems = @(
    foreach ($r in $rows) {
        if ($null -eq $r.Accuracy -or $null -eq $r.Twin) { "$($r.Method) $($r.Bits)-bit at $($r.Sparsity) has no accuracy" }
        if ($r.Bytes -le 0) { "$($r.Method) $($r.Bits)-bit at $($r.Sparsity) has no file" }
    }
    foreach ($s in $sparsities) {
        $w = ($rows | Where-Object { $_.Sparsity -eq $s -and $_.Method -eq 'None' } | Select-Object -First 1).Weights
        $full = ($rows | Where-Object { $_.Sparsity -eq 0 -and $_.Method -eq 'None' } | Select-Object -First 1).Weights
        if ($w -gt (1 - $s + 0.01) * $full) { "sparsity $s kept $w of $full weights" }
    }
    if ($hasPeer -and -not $peerRun) { 'no PyTorch peer row' }
    if ($targets.Count -ne 5) { 'not every target was evaluated' }
)
if ($problems) { $problems | ForEach-Object { Write-Host "FAIL: $_" }; exit 1 }
exit 0
