#!/usr/bin/env pwsh
<#
.SYNOPSIS
    The sparse training kernels (Core/Kernels/SparseLinear.cs) against LibTorch on one layer:
    per product (forward, input gradient, weight gradient) and for a whole forward + backward,
    against LibTorch's dense product and its sparse (COO) product, timed alternately, medians.
.DESCRIPTION
    Run by hand (the kernels are internal: reached by reflection). TorchSharp 0.107 exposes
    LibTorch's COO sparse tensors only (no CSR constructor), so "torch sparse" is torch.mm of a
    sparse_coo W (or Wᵀ) with a dense operand, which LibTorch runs through its sparse addmm.
    Prints one row per shape and density: milliseconds and ratios to the dense product.
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/SparsePrune/SparsePrune.psd1'),
    [int[]] $Shape = @(4096, 4096),
    [double[]] $Sparsity = @(0.5, 0.9, 0.95, 0.99),
    [int] $Batch = 128,
    [int] $Repeat = 7
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath -Force
$asm = [SparsePrune.Mlp].Assembly
$SL = $asm.GetType('SparsePrune.SparseLinear')
$STL = $asm.GetType('SparsePrune.SparseTrainedLayer')
$pub = [Reflection.BindingFlags]'Public,Instance'
$T = [TorchSharp.torch+Tensor]
$from = $SL.GetMethod('From')
$fwd = $SL.GetMethod('Forward', [Type[]]@($T, $T, [float[]], [int]))
$bwd = $SL.GetMethod('Backward')
$threads = [TorchSharp.torch]::get_num_threads()

function Median([double[]] $v) { $s = $v | Sort-Object; $s[[int][math]::Floor(($s.Count - 1) / 2)] }
function TimeMs([scriptblock] $work) {
    $scope = [TorchSharp.torch]::NewDisposeScope()
    try { $sw = [Diagnostics.Stopwatch]::StartNew(); & $work | Out-Null; $sw.Elapsed.TotalMilliseconds } finally { $scope.Dispose() }
}

$rows, $cols = $Shape
$results = foreach ($s in $Sparsity) {
    $outer = [TorchSharp.torch]::NewDisposeScope()
    try {
        [TorchSharp.torch]::manual_seed(1) | Out-Null
        $mask = [TorchSharp.torch]::rand([long[]]@($rows, $cols)).ge([TorchSharp.Scalar]::op_Implicit([double]$s)).to_type([TorchSharp.torch+ScalarType]::Float32)
        $w = [TorchSharp.torch]::randn([long[]]@($rows, $cols)).mul($mask)
        $b = [TorchSharp.torch]::randn([long[]]@($rows))
        $x = [TorchSharp.torch]::randn([long[]]@($Batch, $cols))
        $dy = [TorchSharp.torch]::randn([long[]]@($Batch, $rows))
        $k = $from.Invoke($null, @($mask, $w))
        $xt = [float[]]::new($cols * $Batch); $dyt = [float[]]::new($rows * $Batch); $g = [float[]]::new($k.NonZeros)
        $coo = $w.to_sparse(); $cooT = $w.transpose(0, 1).contiguous().to_sparse()
        $xTensorT = $x.transpose(0, 1).contiguous(); $dyTensorT = $dy.transpose(0, 1).contiguous()
        $fwd.Invoke($k, @($x, $b, $xt, $threads)) | Out-Null
        $sides = [ordered]@{
            'dense fwd'      = { [TorchSharp.torch+nn+functional]::linear($x, $w, $b) }
            'coo fwd'        = { [TorchSharp.torch]::mm($coo, $xTensorT) }
            'kernel fwd'     = { $fwd.Invoke($k, @($x, $b, $xt, $threads)) }
            'dense dX'       = { [TorchSharp.torch]::mm($dy, $w) }
            'coo dX'         = { [TorchSharp.torch]::mm($cooT, $dyTensorT) }
            'dense dW'       = { [TorchSharp.torch]::mm($dyTensorT, $x) }
            'kernel dX+dW+db' = { $bwd.Invoke($k, @($dy, $xt, $dyt, $true, $g, $threads)) }
        }
        $times = @{}; foreach ($n in $sides.Keys) { $times[$n] = [Collections.Generic.List[double]]::new(); TimeMs $sides[$n] | Out-Null }
        for ($r = 0; $r -lt $Repeat; $r++) { foreach ($n in $sides.Keys) { $times[$n].Add((TimeMs $sides[$n])) } }
        $m = @{}; foreach ($n in $sides.Keys) { $m[$n] = Median $times[$n] }
        $denseStep = $m['dense fwd'] + $m['dense dX'] + $m['dense dW']
        $kernelStep = $m['kernel fwd'] + $m['kernel dX+dW+db']
        [pscustomobject]@{
            Shape = "$cols->$rows"; Sparsity = $s; Batch = $Batch; Threads = $threads
            DenseFwd = [math]::Round($m['dense fwd'], 3); CooFwd = [math]::Round($m['coo fwd'], 3); KernelFwd = [math]::Round($m['kernel fwd'], 3)
            DenseDx = [math]::Round($m['dense dX'], 3); CooDx = [math]::Round($m['coo dX'], 3); DenseDw = [math]::Round($m['dense dW'], 3)
            KernelBwd = [math]::Round($m['kernel dX+dW+db'], 3)
            DenseStep = [math]::Round($denseStep, 3); KernelStep = [math]::Round($kernelStep, 3); Ratio = [math]::Round($kernelStep / $denseStep, 3)
        }
    } finally { $outer.Dispose() }
}
$results | ConvertTo-Csv -NoTypeInformation
