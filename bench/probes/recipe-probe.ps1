#!/usr/bin/env pwsh
<#
.SYNOPSIS
    A quick look at pruning recipes against each other before the accuracy bench runs them.
.DESCRIPTION
    LeNet-300-100 on Fashion-MNIST, the shared recipe (pruning-recipe.psd1): per seed a dense
    pre-training and its dense twin (the same epochs), then each variant pruned to each target,
    every drop paired with its seed's twin. Variants: Gradual (the accuracy bench's recipe),
    GradualKD (the same, distilling from the twin), GradualRegrow (-Schedule Gradual -Regrow),
    GradualRegrowKD (regrowth and distillation), RigL, RigLKD. With -TeacherSchedule, the *KD
    variants distil from a teacher of their own: the pre-trained model trained as long as the twin
    with that learning-rate schedule (a cosine teacher is about 0.9 points better than the twin). Prints a table and writes
    recipe-probe.json to -ResultsDir. A few seeds give a direction, not a measurement: the
    accuracy bench's 5-seed intervals decide.
.EXAMPLE
    dotnet pwsh -NoProfile -File bench/probes/recipe-probe.ps1 -Targets 0.99,0.995 -Seeds 0,1
#>
param(
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/SparsePrune/SparsePrune.psd1'),
    [string] $ResultsDir = (Join-Path $PSScriptRoot '../results'),
    [double[]] $Targets = @(0.99, 0.995),
    [int[]] $Seeds = @(0, 1),
    [ValidateSet('Gradual', 'GradualKD', 'GradualRegrow', 'GradualRegrowKD', 'RigL', 'RigLKD')] [string[]] $Variants = @('Gradual', 'GradualKD', 'RigL', 'RigLKD'),
    [double] $Temperature = 4,
    [double] $DistillationWeight = 0.9,
    [double] $RegrowFraction = 0.3,
    # RigL's own update interval and ramp (default: the recipe's, as Gradual uses them).
    [int] $RigLUpdateEvery = 0,
    [double] $RigLRampFraction = 0,
    # Recipe overrides for the twin and every variant alike (0/empty: the shared recipe's).
    [int] $PruneEpochs = 0,
    [string] $LearningRateSchedule = '',
    [double] $LearningRate = 0,
    [double] $RampFraction = 0,
    [int] $UpdateEvery = 0,
    [ValidateSet('Connection', 'Neuron')] [string] $Structure = 'Connection',
    [string] $Criterion = 'L1',
    [string] $Scope = 'ERK',
    # Above 0: every variant first deletes this fraction of each hidden layer's neurons (one shot,
    # by L1 row norm), so the connections left spread over fewer, denser neurons.
    [double] $NeuronFirst = 0,
    # The *KD variants' teacher: empty, the twin; else the pre-trained model trained as long with this schedule.
    [ValidateSet('', 'Constant', 'Cosine', 'Step')] [string] $TeacherSchedule = ''
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
Import-Module $ModulePath -Force
$recipe = (Import-PowerShellDataFile (Join-Path (Split-Path $PSScriptRoot) 'shared/pruning-recipe.psd1')).Full
if ($PruneEpochs -gt 0) { $recipe.PruneEpochs = $PruneEpochs }
if ($LearningRateSchedule) { $recipe.LearningRateSchedule = $LearningRateSchedule }
if ($LearningRate -gt 0) { $recipe.LearningRate = $LearningRate }
if ($RampFraction -gt 0) { $recipe.RampFraction = $RampFraction }
if ($UpdateEvery -gt 0) { $recipe.UpdateEvery = $UpdateEvery }
$data = Get-Dataset FashionMnist
$train = @{ Dataset = $data; BatchSize = $recipe.BatchSize; LearningRate = $recipe.LearningRate }

$rows = foreach ($seed in $Seeds) {
    $start = New-Mlp -Layers $recipe.Widths -Seed $seed | Invoke-Training @train -Epochs $recipe.DenseEpochs
    $twin = $start | Copy-Mlp | Invoke-Training @train -Epochs $recipe.PruneEpochs -LearningRateSchedule $recipe.LearningRateSchedule
    $twinAccuracy = ($twin | Get-CompressionReport -Dataset $data).Metric
    $teacher = $twin
    if ($TeacherSchedule) {
        $teacher = $start | Copy-Mlp | Invoke-Training @train -Epochs $recipe.PruneEpochs -LearningRateSchedule $TeacherSchedule
        Write-Host ('seed {0} teacher ({1}) {2:P2}, twin {3:P2}' -f $seed, $TeacherSchedule, ($teacher | Get-CompressionReport -Dataset $data).Metric, $twinAccuracy)
    }
    foreach ($target in $Targets) {
        foreach ($variant in $Variants) {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $prune = @{
                Dataset = $data; Ratio = $target; Structure = $Structure; Criterion = $Criterion; Scope = $Scope
                LearningRateSchedule = $recipe.LearningRateSchedule; BatchSize = $recipe.BatchSize; Epochs = $recipe.PruneEpochs
                UpdateEvery = $recipe.UpdateEvery; RampFraction = $recipe.RampFraction; FineTuneLearningRate = $recipe.LearningRate
                Schedule = if ($variant -like 'RigL*') { 'RigL' } else { 'Gradual' }
            }
            if ($variant -like 'GradualRegrow*') { $prune.Regrow = $true; $prune.RegrowFraction = $RegrowFraction }
            if ($variant -like 'RigL*') {
                $prune.RegrowFraction = $RegrowFraction
                if ($RigLUpdateEvery -gt 0) { $prune.UpdateEvery = $RigLUpdateEvery }
                if ($RigLRampFraction -gt 0) { $prune.RampFraction = $RigLRampFraction }
            }
            if ($variant -like '*KD') { $prune.Teacher = $teacher; $prune.Temperature = $Temperature; $prune.DistillationWeight = $DistillationWeight }
            $copy = $start | Copy-Mlp
            if ($NeuronFirst -gt 0) { $copy = $copy | Invoke-Pruning -Structure Neuron -Ratio $NeuronFirst -Criterion L1 }
            $pruned = $copy | Invoke-Pruning @prune
            $accuracy = ($pruned | Get-CompressionReport -Dataset $data).Metric
            $row = [pscustomobject]@{ Seed = $seed; Target = $target; Variant = $variant; Accuracy = $accuracy; Twin = $twinAccuracy; DropPt = 100 * ($twinAccuracy - $accuracy); Seconds = $clock.Elapsed.TotalSeconds }
            Write-Host ('seed {0} {1} {2,-10} {3:P2} (twin {4:P2}) drop {5:0.00} pt, {6:0} s' -f $seed, $target, $variant, $accuracy, $twinAccuracy, $row.DropPt, $row.Seconds)
            $row
        }
    }
}
$summary = $rows | Group-Object Target, Variant | ForEach-Object {
    [pscustomobject]@{
        Target = $_.Group[0].Target; Variant = $_.Group[0].Variant
        MeanDropPt = ($_.Group.DropPt | Measure-Object -Average).Average
        PerSeed = ($_.Group | ForEach-Object { '{0:0.00}' -f $_.DropPt }) -join ' '
    }
}
$summary | Format-Table @{ n = 'Target'; e = { '{0:0.###}' -f $_.Target } }, Variant, MeanDropPt, PerSeed | Out-String | Write-Host
New-Item -ItemType Directory -Force $ResultsDir | Out-Null
[ordered]@{ date = (Get-Date).ToUniversalTime().ToString('o'); seeds = $Seeds; recipe = $recipe; temperature = $Temperature; distillation_weight = $DistillationWeight; regrow_fraction = $RegrowFraction; rigl_update_every = $RigLUpdateEvery; rigl_ramp_fraction = $RigLRampFraction; teacher_schedule = $TeacherSchedule; structure = $Structure; neuron_first = $NeuronFirst; criterion = $Criterion; scope = $Scope; rows = @($rows); summary = @($summary) } |
    ConvertTo-Json -Depth 5 | Set-Content (Join-Path $ResultsDir 'recipe-probe.json')
