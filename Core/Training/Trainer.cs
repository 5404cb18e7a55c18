using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Mini-batch training with SGD or Adam (fused, <see cref="FusedAdam"/>). Masks hold through every
/// step: the weights are masked in or right after each optimizer step, so momentum cannot revive a zero.
/// </summary>
public static class Trainer
{
    private const int ProgressEveryBatches = 25;

    public static TrainingResult Train(Mlp model, Dataset data, TrainingOptions options,
        Action<WorkProgress>? progress = null, CancellationToken cancel = default) =>
        Train(model, data, options, progress, cancel, hook: null);

    internal static TrainingResult Train(Mlp model, Dataset data, TrainingOptions options,
        Action<WorkProgress>? progress, CancellationToken cancel, ITrainingHook? hook, string? note = null)
    {
        options.Validate();
        options.Distillation?.Validate(model);
        ModelInputs.CheckCompatible(model, data);
        if (data.TrainCount == 0) throw SparsePruneException.BadData("EmptyDataset", $"The data set '{data.Name}' has no training rows.");
        var before = model.Counts;
        int seed = options.Seed ?? model.NextSeed();
        // The same seeds give the same bits for the same thread count: record it.
        int threads = torch.get_num_threads();

        if (!options.Dequantize && model.State.Select(l => l.Quantization).FirstOrDefault(q => q is { Scheme.HasSharedValues: false }) is { } grid)
            throw SparsePruneException.Operation("ModelQuantized",
                $"Model '{model.Name}' is quantized on {grid.Scheme.Noun}, which training would leave; give -Dequantize to train free weights again.");

        return ModelTransaction.Run(model, () =>
        {
            // -Dequantize: the weights train freely again (their values are kept as they are).
            if (options.Dequantize) foreach (var layer in model.State) layer.Quantization = null;
            bool firstTraining = !model.History.Any(h => h.Operation is "Train" or "FineTune" or "Prune" or "Sparsify");
            var run = Run(model, data, options, seed, threads, progress, cancel, hook);
            ModelInputs.Adopt(model, data);
            if (firstTraining && options.Operation == "Train" && hook is null && !run.Stopped)
                model.Attach(new TrainingReplay(options with { Seed = seed }, data));
            var metric = Evaluator.Evaluate(model, data);
            var notes = string.Join("; ", new[] { note, run.StopNote, run.ProductNote }.Where(n => !string.IsNullOrEmpty(n)));
            model.Record(options.Operation, options.Describe().Add("Seed", seed).Add("Threads", threads).Add("Dataset", data.Name), before, metric, notes.Length == 0 ? null : notes);
            return new TrainingResult
            {
                EpochsCompleted = run.EpochsCompleted, Stopped = run.Stopped, StopNote = run.StopNote,
                FinalLoss = run.FinalLoss, Seed = seed, Metric = metric,
            };
        });
    }

    private static TrainingResult Run(Mlp model, Dataset data, TrainingOptions options, int seed, int threads,
        Action<WorkProgress>? progress, CancellationToken cancel, ITrainingHook? hook)
    {
        var layers = model.State;
        int f = data.Features, n = data.TrainCount;
        int batches = (n + options.BatchSize - 1) / options.BatchSize;
        bool classification = data.Task == TaskKind.Classification;

        // Parameters are trained copies; the layers take their values back at the end (or at a stop).
        var parameters = new List<(Parameter W, Parameter B)>();
        var keepMasks = new List<Tensor?>();
        var rng = new Random(seed);
        int epochsDone = 0;
        double lastLoss = double.NaN;
        bool stopped = false;
        string? stopNote = null;

        Tensor? allX = null, allY = null;
        bool sharedData = false;
        IStepper? optimizer = null;
        // Layers whose mask holds may train through the sparse kernels (chosen in Load).
        LayerProducts? products = null;
        string? productNote = null;
        // The teacher's outputs for every training row, once: batches index into them.
        using var teacher = options.Distillation is { } distill ? Distillation.Compute(distill, data, model.TorchDevice) : null;
        // A k-means-quantized model trains its shared values: members' gradients are summed per cluster.
        using var sharing = SharedGradients.For(model);
        try
        {
            var device = model.TorchDevice;
            List<(Tensor, Tensor)> forwardParams = new();
            // (Re)creates the trained copies, their masks and the optimizer from the layers.
            void Load()
            {
                optimizer?.Dispose();
                foreach (var (w, b) in parameters) { w.Dispose(); b.Dispose(); }
                foreach (var m in keepMasks) m?.Dispose();
                parameters.Clear();
                keepMasks.Clear();
                // The sparse path trains with Adam at the present weights; the L1 penalty and shared
                // values act on the dense weights, so those runs stay dense.
                bool maySparse = options.Optimizer == OptimizerKind.Adam && options.L1 == 0 && sharing is null
                    && device.type == DeviceType.CPU && options.Product != TrainingProduct.Dense;
                using (NewDisposeScope())
                {
                    // Temporaries (detach, to) die with this scope; what training keeps is detached from it.
                    foreach (var layer in layers)
                    {
                        var keep = layer.KeepMask();
                        // A layer that may train sparse starts as a view of the layer's own weights (see
                        // LayerProducts.ShareLayerWeights), not a dense copy; it gets its copy if it trains dense.
                        var w = maySparse && keep is not null ? layer.Weight.detach() : layer.Weight.detach().clone();
                        parameters.Add((new Parameter(w.DetachFromDisposeScope(), requires_grad: true),
                                        new Parameter(layer.Bias.detach().clone().DetachFromDisposeScope(), requires_grad: true)));
                        keepMasks.Add(keep);
                    }
                }
                var all = parameters.SelectMany(p => new[] { p.W, p.B }).ToList();
                bool fused = options.Optimizer == OptimizerKind.Adam && FusedAdam.Supports(all);
                products = fused && maySparse
                    ? LayerProducts.Choose(parameters, keepMasks, Math.Min(options.BatchSize, n), threads, options.Product)
                    : null;
                productNote = products?.Note ?? productNote;
                for (int l = 0; l < parameters.Count; l++)
                {
                    if (!maySparse || keepMasks[l] is null || products?.Kind(l) == TrainingProduct.Sparse) continue;
                    // Trains dense after all: its own copy, so that the layer keeps its weights until the write-back.
                    var view = parameters[l].W;
                    using (NewDisposeScope())
                        parameters[l] = (new Parameter(view.detach().clone().DetachFromDisposeScope(), requires_grad: true), parameters[l].B);
                    view.Dispose();
                }
                all = parameters.SelectMany(p => new[] { p.W, p.B }).ToList();
                ReleaseSparseMasks();
                // Adam in one pass per parameter, masks included, where the memory can be reached;
                // a layer trained sparse leaves its weight to the sparse Adam (layerOf: -1 for biases).
                var trained = new List<Tensor>();
                var layerOf = new List<int>();
                for (int l = 0; l < parameters.Count; l++)
                {
                    if (products?.Kind(l) != TrainingProduct.Sparse) { trained.Add(parameters[l].W); layerOf.Add(l); }
                    trained.Add(parameters[l].B); layerOf.Add(-1);
                }
                optimizer = fused
                    ? new FusedAdam(trained, options.WeightDecay, threads, k => layerOf[k] >= 0 ? keepMasks[layerOf[k]] : null)
                    : new TorchStepper(options.Optimizer == OptimizerKind.Adam
                        ? optim.Adam(all, options.EffectiveLearningRate, weight_decay: options.WeightDecay)
                        : optim.SGD(all, options.EffectiveLearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay));
                if (products is not null) optimizer = new SparseAwareStepper(optimizer, products, options.WeightDecay);
                forwardParams = parameters.Select(p => ((Tensor)p.W, (Tensor)p.B)).ToList();
            }
            // After a hook changed the layers: same shapes keep the optimizer's state, new shapes rebuild it.
            void Reload()
            {
                bool sameShapes = Enumerable.Range(0, layers.Count).All(l =>
                    layers[l].Weight.shape.SequenceEqual(parameters[l].W.shape) && layers[l].Bias.shape.SequenceEqual(parameters[l].B.shape));
                if (!sameShapes) { Load(); return; }
                using var noGrad = no_grad();
                for (int l = 0; l < layers.Count; l++)
                {
                    using var scope = NewDisposeScope();
                    parameters[l].W.copy_(layers[l].Weight);
                    parameters[l].B.copy_(layers[l].Bias);
                    keepMasks[l]?.Dispose();
                    keepMasks[l] = layers[l].KeepMask();
                    // A layer trained sparse takes the new mask's structure: no copy of the old one survives.
                    products?.Rebuild(l, keepMasks[l]);
                }
                // The hook may have given a layer new weight tensors: the sparse layers view those.
                if (products is not null)
                {
                    products.ShareLayerWeights(parameters, layers);
                    forwardParams = parameters.Select(p => ((Tensor)p.W, (Tensor)p.B)).ToList();
                }
                ReleaseSparseMasks();
            }
            // A layer trained sparse holds its structure in the kernel; its dense float mask (as large
            // as its weights) is not read again until a hook changes the mask.
            void ReleaseSparseMasks()
            {
                for (int l = 0; l < keepMasks.Count; l++)
                    if (products?.Kind(l) == TrainingProduct.Sparse) { keepMasks[l]?.Dispose(); keepMasks[l] = null; }
            }
            void WriteBack()
            {
                products?.SyncWeights();
                for (int l = 0; l < layers.Count; l++)
                {
                    using var scope = NewDisposeScope();
                    // A layer trained sparse gets its values written into its own weights.
                    if (products?.WriteBack(l, layers[l]) != true)
                        layers[l].SetWeight(parameters[l].W.detach().clone().DetachFromDisposeScope());
                    layers[l].SetBias(parameters[l].B.detach().clone().DetachFromDisposeScope());
                }
            }
            Load();
            using (NewDisposeScope())
            {
                var inputs = ModelInputs.For(model, data, data.TrainX);
                if (ReferenceEquals(inputs, data.TrainX) && device.type == DeviceType.CPU && data.KeepsNativeCopy)
                {
                    // The data set's own copy in native memory, made once and shared by every run on it.
                    (allX, allY) = data.NativeTrainSplit();
                    sharedData = true;
                }
                else
                {
                    allX = NativeCopy.Floats(inputs, new long[] { n, f }).to(device).DetachFromDisposeScope();
                    allY = (classification ? tensor(data.TrainY).to_type(ScalarType.Int64) : tensor(data.TrainY)).to(device).DetachFromDisposeScope();
                }
            }
            // Where the module's own kernels do the products (and Adam), they own the threads:
            // LibTorch's operations in between run on this thread alone (see OpenMpThreads): the
            // kernels' workers poll between loops, and LibTorch's threads waiting at their barriers
            // behind them made a sparse epoch 2-3 times slower. A run with layers trained sparse
            // goes layer by layer, its (small, or measured slower sparse) dense layers through LibTorch.
            MlpTrainingFunction.ReleaseThreadWorkspace();
            using var openMp = device.type == DeviceType.CPU && (products is not null || MlpTrainingFunction.AppliesTo(forwardParams, model.Activation)) ? OpenMpThreads.Single() : null;
            var order = new int[n];
            long totalSteps = (long)options.Epochs * batches;
            int step = 0;

            for (int epoch = 0; epoch < Math.Min(options.Epochs, options.StopAfterEpochs ?? int.MaxValue) && !stopped; epoch++)
            {
                for (int i = 0; i < n; i++) order[i] = i;
                rng.Shuffle(order);
                // The epoch's order goes to native memory once; each batch indexes a slice of it.
                Tensor epochOrder;
                using (NewDisposeScope()) epochOrder = tensor(Array.ConvertAll(order, v => (long)v)).to(device).DetachFromDisposeScope();
                using var epochOrderOwner = epochOrder;
                double epochLoss = 0;
                int seen = 0;
                for (int b = 0; b < batches; b++)
                {
                    if (cancel.IsCancellationRequested)
                    {
                        stopped = true;
                        stopNote = $"stopped in epoch {epoch + 1} after {b} of {batches} batches ({epochsDone} complete epoch(s)); the weights are those of the last finished batch";
                        break;
                    }
                    using var scope = NewDisposeScope();
                    int start = b * options.BatchSize, count = Math.Min(options.BatchSize, n - start);
                    var idx = epochOrder.narrow(0, start, count);
                    var xb = allX.index_select(0, idx);
                    var yb = allY.index_select(0, idx);
                    double learningRate = options.LearningRateAt(step, totalSteps);
                    optimizer!.ZeroGrad();
                    bool hookReads = hook is not null && hook.ReadsGradients(step + 1);
                    products?.BeginStep(hookReads);
                    var output = model.Forward(xb, forwardParams, threads, products?.Products);
                    var loss = teacher is not null
                        ? Distillation.Loss(output, yb, teacher.For(idx), data.Task, teacher.Options.Temperature, teacher.Options.Weight)
                        : classification
                            ? nn.functional.cross_entropy(output, yb)
                            : nn.functional.mse_loss(output.squeeze(1), yb);
                    var objective = loss;
                    if (options.L1 > 0)
                    {
                        Tensor penalty = parameters[0].W.abs().sum();
                        for (int l = 1; l < parameters.Count; l++) penalty = penalty + parameters[l].W.abs().sum();
                        objective = loss + penalty * options.L1;
                    }
                    objective.backward();
                    step++;
                    sharing?.Tie(parameters);
                    hook?.AfterBackward(step, parameters);
                    if (hookReads) products?.EndStep();
                    // Masked weights are zeroed again in the step (fused Adam) or right after it.
                    // Masking their gradients first would change no other weight: SGD and Adam
                    // update each weight from its own gradient and state only.
                    optimizer.Step(learningRate);
                    if (optimizer is TorchStepper)
                        using (no_grad())
                        {
                            for (int l = 0; l < parameters.Count; l++)
                                if (keepMasks[l] is { } m) parameters[l].W.mul_(m);
                        }
                    double batchLoss = loss.item<float>();
                    if (double.IsNaN(batchLoss) || double.IsInfinity(batchLoss))
                        throw SparsePruneException.Operation("TrainingDiverged",
                            $"Training diverged (loss {batchLoss}) in epoch {epoch + 1}, batch {b + 1}; the model was left as it was. Lower -LearningRate (-FineTuneLearningRate when fine-tuning after pruning).");
                    epochLoss += batchLoss * count;
                    seen += count;
                    if (hook is not null && hook.Due(step))
                    {
                        WriteBack();
                        hook.Update(step);
                        Reload();
                    }
                    if (progress is not null && (b + 1) % ProgressEveryBatches == 0 && b + 1 < batches)
                        progress(WorkProgress.Of(new TrainingProgress(epoch + 1, options.Epochs, b + 1, batches, epochLoss / seen, false)));
                }
                if (seen > 0) lastLoss = epochLoss / seen;
                if (!stopped)
                {
                    epochsDone++;
                    progress?.Invoke(WorkProgress.Of(new TrainingProgress(epoch + 1, options.Epochs, batches, batches, lastLoss, true)));
                }
            }

            products?.SyncWeights();
            using (NewDisposeScope())
            {
                // The loss is checked before each step; the last step itself must not leave NaN or infinity.
                if (parameters.Any(p => !p.W.isfinite().all().item<bool>() || !p.B.isfinite().all().item<bool>()))
                    throw SparsePruneException.Operation("TrainingDiverged",
                        "Training diverged (the weights became NaN or infinite); the model was left as it was. Lower -LearningRate (-FineTuneLearningRate when fine-tuning after pruning).");
            }
            WriteBack();
            sharing?.UpdateCodebooks(model);
        }
        finally
        {
            optimizer?.Dispose();
            optimizer = null;
            if (!sharedData)
            {
                allX?.Dispose();
                allY?.Dispose();
            }
            foreach (var (w, b) in parameters) { w.Dispose(); b.Dispose(); }
            foreach (var m in keepMasks) m?.Dispose();
        }
        return new TrainingResult { EpochsCompleted = epochsDone, Stopped = stopped, StopNote = stopNote, FinalLoss = lastLoss, Seed = seed, ProductNote = productNote };
    }
}
