using System.Management.Automation;

namespace SparsePrune.Cmdlets;

/// <summary>Invoke-Quantization: k-means weight sharing or a per-row linear grid, then optional fine-tuning of the shared values.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "Quantization", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(Mlp))]
public sealed class InvokeQuantizationCommand : SparsePruneCmdlet
{
    protected override bool ChangesModel => true;

    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public Mlp Model { get; set; } = null!;

    [Parameter] public QuantizationMethod Method { get; set; } = QuantizationMethod.KMeans;

    /// <summary>Bits per weight: one value for all layers, or one per layer (default 5 for KMeans, 8 for Linear).</summary>
    [Parameter(Position = 0)]
    public int[]? Bits { get; set; }

    /// <summary>Epochs of training of the shared values afterwards (KMeans).</summary>
    [Parameter] public int FineTuneEpochs { get; set; }
    [Parameter] public double? FineTuneLearningRate { get; set; }
    [Parameter] public int BatchSize { get; set; } = 64;
    [Parameter] public Dataset? Dataset { get; set; }
    [Parameter] public int? Seed { get; set; }

    /// <summary>A model whose outputs the fine-tuning also matches (knowledge distillation); read, never changed.</summary>
    [Parameter] public Mlp? Teacher { get; set; }
    /// <summary>Distillation: the softening temperature T (default 4).</summary>
    [Parameter] public double? Temperature { get; set; }
    /// <summary>Distillation: the teacher term's weight α, 0..1 (default 0.9).</summary>
    [Parameter] public double? DistillationWeight { get; set; }

    protected override void ProcessRecord()
    {
        var request = new QuantizationRequest { Method = Method, Bits = Bits };
        var distillation = Guard(Model, () => DistillationOptions.From(Teacher, Temperature, DistillationWeight));
        if (distillation is not null && FineTuneEpochs == 0)
            Fail("ParameterNotApplicable", ErrorKind.InvalidArgument, "-Teacher distils into the fine-tuning of the shared values: give -FineTuneEpochs too.", Model);
        if (distillation is not null) Guard(Model, () => distillation.Validate(Model));
        Guard(Model, () => Quantizer.CheckFineTune(request, FineTuneEpochs, DatasetFor(Model, Dataset), Model));
        var data = DatasetFor(Model, Dataset);
        if (data is not null) Guard(Model, () => ModelInputs.CheckCompatible(Model, data));
        var plan = Guard(Model, () => Quantizer.Plan(Model, request));
        var description = $"Quantize ({plan.DescribeRequest()}) model '{Model.Name}':{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", plan.Describe())
            + (FineTuneEpochs > 0 ? $"{Environment.NewLine}  then train the shared values {FineTuneEpochs} epoch(s) on '{data!.Name}'" : "");
        if (!ShouldProcess(description, $"{description}? Quantized, the model can no longer be sparsified or pruned.", "Invoke-Quantization")) return;
        WarnIfBaselineHasNoMetric(Model, data);
        var training = new TrainingOptions { LearningRate = FineTuneLearningRate, BatchSize = BatchSize, Seed = Seed, Distillation = distillation };
        var activity = $"Fine-tuning the shared values of '{Model.Name}'";
        var result = RunWithProgress(activity, Model, progress => Quantizer.Apply(Model, plan, data, FineTuneEpochs, training, progress, StopToken));
        WriteVerbose(description);
        if (result is { Stopped: true })
        {
            WriteWarning($"Fine-tuning {result.StopNote}; the quantization itself is kept.");
            return;
        }
        WriteObject(Model);
    }
}
