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

    [Parameter] public QuantizationMethod? Method { get; set; }

    /// <summary>Bits per weight: one value for all layers, or one per layer (default: the scheme's own, QuantizationSettings.Defaults).</summary>
    [Parameter(Position = 0)]
    public int[]? Bits { get; set; }

    /// <summary>Bits of each layer's own k-means codebook for its biases, one value or one per layer, 0 float32 (default: float32 biases).</summary>
    [Parameter] public int[]? BiasBits { get; set; }

    /// <summary>Epochs of training of the shared values afterwards (KMeans).</summary>
    [Parameter] public int? FineTuneEpochs { get; set; }
    [Parameter] public double? FineTuneLearningRate { get; set; }
    [Parameter] public int? BatchSize { get; set; }
    [Parameter] public Dataset? Dataset { get; set; }
    [Parameter] public int? Seed { get; set; }

    /// <summary>A model whose outputs the fine-tuning also matches (knowledge distillation); read, never changed.</summary>
    [Parameter] public Mlp? Teacher { get; set; }
    /// <summary>Distillation: the softening temperature T.</summary>
    [Parameter] public double? Temperature { get; set; }
    /// <summary>Distillation: the teacher term's weight α, 0..1.</summary>
    [Parameter] public double? DistillationWeight { get; set; }

    protected override void ProcessRecord()
    {
        // Parameters not given stay null: Core owns every default and "does not apply" rule.
        var settings = new QuantizationSettings
        {
            Method = Method, Bits = Bits, BiasBits = BiasBits, FineTuneEpochs = FineTuneEpochs, FineTuneLearningRate = FineTuneLearningRate,
            BatchSize = BatchSize, Seed = Seed, Teacher = Teacher, Temperature = Temperature, DistillationWeight = DistillationWeight,
        };
        var job = Guard(Model, settings.Resolve);
        var (request, fineTuneEpochs, training) = (job.Request, job.FineTuneEpochs, job.Training);
        if (training.Distillation is { } distillation) Guard(Model, () => distillation.Validate(Model));
        var data = DatasetFor(Model, Dataset);
        Guard(Model, () => Quantizer.CheckFineTune(request, fineTuneEpochs, data, Model));
        if (data is not null) Guard(Model, () => ModelInputs.CheckCompatible(Model, data));
        var plan = Guard(Model, () => Quantizer.Plan(Model, request));
        var description = $"Quantize ({plan.DescribeRequest()}) model '{Model.Name}':{Environment.NewLine}  "
            + string.Join(Environment.NewLine + "  ", plan.Describe())
            + (fineTuneEpochs > 0 ? $"{Environment.NewLine}  then train the shared values {fineTuneEpochs} epoch(s) on '{data!.Name}'" : "");
        if (!ShouldProcess(description, $"{description}? Quantized, the model can no longer be sparsified or pruned.", "Invoke-Quantization")) return;
        WarnIfBaselineHasNoMetric(Model, data);
        var activity = $"Fine-tuning the shared values of '{Model.Name}'";
        var result = RunWithProgress(activity, Model, progress => Quantizer.Apply(Model, plan, data, fineTuneEpochs, training, progress, StopToken));
        WriteVerbose(description);
        if (result is { Stopped: true })
        {
            WriteWarning($"Fine-tuning {result.StopNote}; the quantization itself is kept.");
            return;
        }
        WriteObject(Model);
    }
}
