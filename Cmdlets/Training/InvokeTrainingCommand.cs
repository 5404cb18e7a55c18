using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Invoke-Training: trains a model in place and emits it.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "Training", SupportsShouldProcess = true)]
[OutputType(typeof(Mlp))]
public sealed class InvokeTrainingCommand : SparsePruneCmdlet
{
    protected override bool ChangesModel => true;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    /// <summary>Default: the data set the model was last trained on.</summary>
    [Parameter]
    public Dataset? Dataset { get; set; }

    [Parameter] public int Epochs { get; set; } = 10;
    [Parameter] public int BatchSize { get; set; } = 64;
    [Parameter] public double? LearningRate { get; set; }
    [Parameter] public OptimizerKind Optimizer { get; set; } = OptimizerKind.Adam;
    [Parameter] public double Momentum { get; set; }
    [Parameter] public double WeightDecay { get; set; }
    [Parameter] public double L1 { get; set; }
    [Parameter] public LearningRateSchedule LearningRateSchedule { get; set; } = LearningRateSchedule.Constant;
    [Parameter] public int? Seed { get; set; }

    /// <summary>A quantized model: train its weights freely again (the quantization is dropped) instead of training its shared values.</summary>
    [Parameter] public SwitchParameter Dequantize { get; set; }

    /// <summary>A model whose outputs training also matches (knowledge distillation); read, never changed.</summary>
    [Parameter] public Mlp? Teacher { get; set; }
    /// <summary>Distillation: the softening temperature T (default 4).</summary>
    [Parameter] public double? Temperature { get; set; }
    /// <summary>Distillation: the teacher term's weight α, 0..1 (default 0.9).</summary>
    [Parameter] public double? DistillationWeight { get; set; }

    protected override void ProcessRecord()
    {
        var data = RequireDataset(Model, Dataset, "Invoke-Training");
        var distillation = Guard(Model, () => DistillationOptions.From(Teacher, Temperature, DistillationWeight));
        var options = new TrainingOptions
        {
            Epochs = Epochs, BatchSize = BatchSize, LearningRate = LearningRate, Optimizer = Optimizer,
            Momentum = Momentum, WeightDecay = WeightDecay, L1 = L1, Seed = Seed, LearningRateSchedule = LearningRateSchedule,
            Dequantize = Dequantize, Distillation = distillation,
        };
        Guard(Model, () => { options.Validate(); distillation?.Validate(Model); ModelInputs.CheckCompatible(Model, data); });
        if (!ShouldProcess($"model '{Model.Name}'", $"Train {Epochs} epoch(s) on '{data.Name}' ({Optimizer}, learning rate {options.EffectiveLearningRate}{(distillation is null ? "" : $", distilling from '{distillation.Teacher.Name}'")})"))
            return;
        var activity = $"Training '{Model.Name}' on '{data.Name}'";
        var result = RunWithProgress(activity, Model, progress => Trainer.Train(Model, data, options, progress, StopToken));
        if (result.Stopped)
        {
            WriteWarning($"Training {result.StopNote}.");
            return;
        }
        WriteVerbose($"Trained {result.EpochsCompleted} epoch(s): train loss {result.FinalLoss:0.#####}, {result.Metric?.Name} {result.Metric?.Value:0.#####} (seed {result.Seed}).");
        WriteObject(Model);
    }
}
