using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;
using Onnx;

namespace SparsePrune;

/// <summary>
/// Builds the ONNX ModelProto of an MLP (see <see cref="OnnxFormat"/>), a graph that ONNX Runtime
/// runs as it is:
/// <code>
///   input [batch, features] float32, raw rows (the input normalization is folded into layer 0,
///         exactly as the SafeTensors export folds it: SafeTensorsFormat.FoldedParameters)
///   per layer i:  Gemm(h, layer{i}.weight [out, in], layer{i}.bias [out], transB = 1)
///   between layers: the activation's own nodes (Activation.WriteOnnx): Relu | Tanh | Sigmoid |
///                   LeakyRelu(alpha) | Elu(alpha) | SiLU: Mul(x, Sigmoid(x)) | Softplus |
///                   GELU: Gelu (opset ≥ 20) or x · 0.5 · (1 + Erf(x · 1/√2)) below | none (Identity)
///   outputs: classification  logits [batch, classes], probabilities = Softmax(logits, axis 1)
///            regression      output [batch, outputs]
/// </code>
/// A layer quantized on a linear grid (Invoke-Quantization -Method Linear, 8 bits or fewer) goes
/// out as int8: <c>DequantizeLinear(layer{i}.weight_quantized int8 [out, in], layer{i}.weight_scale
/// float [out], layer{i}.weight_zero_point int8 [out], axis 0)</c> gives <c>layer{i}.weight</c>, which
/// the Gemm reads as before (about a quarter of the float32 bytes; the values are the model's,
/// bit for bit). Folding the normalization into such a first layer would move its weights off the
/// grid, so then the graph normalizes the raw input itself first, as the model does:
/// <c>Div(Sub(input, input.offset), input.scale)</c>. An int8 layer stays dense with
/// <see cref="OnnxExportOptions.SparseInitializers"/>: a sparse tensor's absent entries are code 0,
/// which is not the value 0 unless the row's zero point is 0.
/// Layers of the other schemes (KMeans, PowerOfTwo: shared values, powers of two) have no int8
/// form ONNX computes exactly, and go out as their float32 values, as an unquantized layer does.
/// Float data goes out as raw_data (little-endian float32), wrapped without a copy: the only
/// copies of the weights are the folded values and the serialized bytes. With
/// <see cref="OnnxExportOptions.SparseInitializers"/>, connection-pruned layers' weights are
/// <c>sparse_initializer</c> entries: the non-zero values (raw_data) and their linearized
/// row-major indices, shape [NNZ], INT64 in int64_data (varints: 2–4 bytes an index for the
/// usual layer sizes, where raw_data would spend 8).
/// </summary>
internal static class OnnxWriter
{
    public const string ProducerName = "SparsePrune";
    /// <summary>With an int8 first layer: the normalization's constants and the normalized input (see <see cref="Write"/>).</summary>
    public const string InputOffsetName = "input.offset", InputScaleName = "input.scale", NormalizedName = "input.normalized";
    public const string InputName = "input", LogitsName = "logits", ProbabilitiesName = "probabilities", OutputName = "output";
    /// <summary>The symbolic batch dimension of the input and outputs.</summary>
    public const string BatchDimension = "batch";

    /// <summary>Protobuf messages cannot exceed 2 GB; ONNX's external data is not written here.</summary>
    private const long MaxFileBytes = int.MaxValue - (16L << 20);

    private static readonly JsonSerializerOptions ArrayJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal static string Version => typeof(OnnxWriter).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>The IR version that goes with an opset (the ONNX release that introduced it).</summary>
    internal static long IrVersionFor(int opset) => opset switch
    {
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };

    /// <summary>
    /// Whether a layer goes out as int8 codes: its scheme is an affine grid per row (<see cref="IAffineRows"/>,
    /// the linear grid; it stays dense even with sparse initializers). Other schemes go out as their float32 values.
    /// </summary>
    internal static bool WritesInt8(LayerState layer) => layer.Quantization?.Scheme is IAffineRows;

    /// <summary>
    /// At least how many bytes <see cref="OnnxExportOptions.SparseInitializers"/> saves on this
    /// model's file, and how many layers it changes: per connection-pruned float layer, the dense
    /// tensor's 4 bytes per weight less what its non-zero entries cost as a sparse initializer
    /// (4 value bytes each, and each row-major index as the varint it is written as) and
    /// <see cref="SparseTensorOverhead"/> for the second tensor's name, type and shapes. The
    /// overhead is counted from above, so the saving is never overstated.
    /// </summary>
    internal static (long Bytes, int Layers) SparseInitializerSaving(Mlp model)
    {
        long saving = 0;
        int layers = 0;
        foreach (var l in model.State)
        {
            if (l.Stored != LayerStorage.Sparse || WritesInt8(l)) continue;
            using var scope = TorchSharp.torch.NewDisposeScope();
            var flat = l.Weight.reshape(-1);
            long n = l.DenseWeights, sparse = SparseTensorOverhead, start = 0;
            // A varint takes 1 byte below 2^7, 2 below 2^14, ...: count the non-zero entries per width.
            for (int width = 1; start < n; width++)
            {
                long end = Math.Min(n, 1L << (7 * width));
                sparse += (4 + width) * flat.slice(0, start, end, 1).count_nonzero().item<long>();
                start = end;
            }
            saving += 4 * n - sparse;
            layers++;
        }
        return (Math.Max(0, saving), layers);
    }

    /// <summary>What a sparse initializer adds to a dense one besides its entries: the index tensor's name ("layer{i}.weight.indices"), type, shapes and the fields' tags and lengths.</summary>
    internal const int SparseTensorOverhead = 64;

    public static byte[] Write(Mlp model, OnnxExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var state = model.State;
        var sparse = state.Select(l => options.SparseInitializers && l.Stored == LayerStorage.Sparse).ToArray();
        // Layers on an affine grid (linear, at most 8 bits) can go out as int8 codes: decided from the live weights.
        var candidates = state.Select(WritesInt8).ToArray();
        CheckSize(model, sparse, candidates);

        // The counts before the folding: a cheap pass; it reads the live tensors only.
        var counts = CompressionCounts.Total(CompressionCounts.OfLayers(model, SpmlpFormat.LayerWeightBytes(model)));
        var layers = SafeTensorsFormat.FoldedParameters(model, foldNormalization: false);
        var int8 = new Int8Weights?[layers.Count];
        for (int i = 0; i < layers.Count; i++)
            if (candidates[i]) int8[i] = Int8Weights.Of(state[i].Quantization!, layers[i]);
        // Layer 0 as int8 keeps the model's own weights (the folding would move them off the grid):
        // the normalization is then a Sub and a Div of the raw input before it, as Mlp.NormalizeInputs computes it.
        // (An identity normalization, as an imported model has, folds exactly and needs no nodes.)
        bool normalizeNode = model.FeatureOffset is { } o && model.FeatureScale is { } sc && int8[0] is not null
            && !(o.All(v => v == 0f) && sc.All(v => v == 1f));
        if (!normalizeNode && model.FeatureOffset is { } offset && model.FeatureScale is { } scale)
            SafeTensorsFormat.Fold(layers[0], offset, scale, model.Name);

        var graph = new GraphProto { Name = model.Name, DocString = $"{ProducerName} MLP [{string.Join(",", model.Widths)}] {model.Task}, {model.Activation}; takes raw rows." };
        graph.Input.Add(TensorValue(InputName, model.InputFeatures));

        string h = InputName;
        if (normalizeNode)
        {
            graph.Initializer.Add(Floats(InputOffsetName, model.FeatureOffset!, new long[] { model.InputFeatures }));
            graph.Initializer.Add(Floats(InputScaleName, model.FeatureScale!, new long[] { model.InputFeatures }));
            graph.Node.Add(Node("Sub", "input.center", new[] { InputName, InputOffsetName }, "input.centered"));
            graph.Node.Add(Node("Div", "input.normalize", new[] { "input.centered", InputScaleName }, NormalizedName));
            h = NormalizedName;
        }
        bool regression = model.Task == TaskKind.Regression;
        var activations = new ActivationWriter(graph, options.OpsetVersion);
        for (int i = 0; i < layers.Count; i++)
        {
            var l = layers[i];
            string weight = $"layer{i}.weight", bias = $"layer{i}.bias";
            if (int8[i] is { } q)
            {
                // DequantizeLinear(codes int8 [out, in], scale [out], zero point int8 [out], axis 0) = (q − zp) · scale per row.
                string codes = weight + "_quantized", scales = weight + "_scale", zeros = weight + "_zero_point";
                graph.Initializer.Add(Int8s(codes, q.Codes, new long[] { l.Out, l.In }));
                graph.Initializer.Add(Floats(scales, q.Scales, new long[] { l.Out }));
                graph.Initializer.Add(Int8s(zeros, q.ZeroPoints, new long[] { l.Out }));
                var dq = Node("DequantizeLinear", $"layer{i}.dequantize", new[] { codes, scales, zeros }, weight);
                dq.Attribute.Add(IntAttribute("axis", 0));
                graph.Node.Add(dq);
            }
            else if (sparse[i]) graph.SparseInitializer.Add(SparseFloats(weight, l.Weight, l.Out, l.In));
            else graph.Initializer.Add(Floats(weight, l.Weight, new long[] { l.Out, l.In }));
            graph.Initializer.Add(Floats(bias, l.Bias, new long[] { l.Out }));

            bool last = i + 1 == layers.Count;
            string output = last ? (regression ? OutputName : LogitsName) : $"layer{i}.linear";
            var gemm = Node("Gemm", $"layer{i}.gemm", new[] { h, weight, bias }, output);
            gemm.Attribute.Add(IntAttribute("transB", 1));
            graph.Node.Add(gemm);
            h = last ? output : model.Activation.WriteOnnx(activations, output, $"layer{i}");
        }

        graph.Output.Add(TensorValue(regression ? OutputName : LogitsName, model.Outputs));
        if (!regression)
        {
            var softmax = Node("Softmax", "softmax", new[] { LogitsName }, ProbabilitiesName);
            softmax.Attribute.Add(IntAttribute("axis", 1));
            graph.Node.Add(softmax);
            graph.Output.Add(TensorValue(ProbabilitiesName, model.Outputs));
        }

        var proto = new ModelProto
        {
            IrVersion = IrVersionFor(options.OpsetVersion),
            ProducerName = ProducerName,
            ProducerVersion = Version,
            ModelVersion = 1,
            DocString = normalizeNode
                ? "An MLP exported by SparsePrune: raw input rows, normalized by the graph's first nodes (Sub, Div) before its int8 first layer."
                : "An MLP exported by SparsePrune: raw input rows, the input normalization folded into the first layer.",
            Graph = graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.OpsetVersion });
        foreach (var (key, value) in Metadata(model, counts))
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });

        return proto.ToByteArray();
    }

    /// <summary>The metadata_props entries, in the order written.</summary>
    internal static IEnumerable<(string Key, string Value)> Metadata(Mlp model, CompressionCounts counts)
    {
        yield return (OnnxMetadataKeys.Producer, ProducerName);
        yield return (OnnxMetadataKeys.ProducerVersion, Version);
        yield return (OnnxMetadataKeys.Name, model.Name);
        yield return (OnnxMetadataKeys.Task, model.Task.ToString());
        yield return (OnnxMetadataKeys.Widths, JsonSerializer.Serialize(model.Widths));
        yield return (OnnxMetadataKeys.Activation, model.Activation.ToString());
        if (model.Activation is LeakyReLUActivation leaky) yield return (OnnxMetadataKeys.NegativeSlope, Number(leaky.NegativeSlope));
        yield return (OnnxMetadataKeys.Inputs, "raw");
        yield return (OnnxMetadataKeys.FoldedNormalization, (model.FeatureOffset is null ? Normalization.None : model.InputNormalization).ToString());
        if (model.ClassNames is { } classes) yield return (OnnxMetadataKeys.ClassNames, JsonSerializer.Serialize(classes, ArrayJson));
        if (model.FeatureNames is { } features) yield return (OnnxMetadataKeys.FeatureNames, JsonSerializer.Serialize(features, ArrayJson));
        yield return (OnnxMetadataKeys.Sparsity, Number(counts.Sparsity));
        yield return (OnnxMetadataKeys.PruningRatio, Number(counts.PruningRatio));
        yield return (OnnxMetadataKeys.OverallSparsity, Number(counts.OverallSparsity));
        // The weights-only ratio: the report's CompressionRatio is the .spmlp file's, not this file's.
        yield return (OnnxMetadataKeys.WeightCompressionRatio, Number(counts.WeightCompressionRatio));
        yield return (OnnxMetadataKeys.Seed, model.Seed.ToString(CultureInfo.InvariantCulture));
    }

    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    // ---- the graph ----------------------------------------------------------------------------

    /// <summary>The graph an activation writes its nodes into (<see cref="Activation.WriteOnnx"/>).</summary>
    private sealed class ActivationWriter : IOnnxActivationWriter
    {
        private readonly GraphProto _graph;

        public ActivationWriter(GraphProto graph, int opset) => (_graph, Opset) = (graph, opset);

        public int Opset { get; }

        public void Node(string op, IReadOnlyList<string> inputs, string output, params (string Name, float Value)[] attributes)
        {
            var node = OnnxWriter.Node(op, output, inputs.ToArray(), output);
            foreach (var (name, value) in attributes)
                node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value });
            _graph.Node.Add(node);
        }

        public string Scalar(string name, float value)
        {
            EnsureScalar(_graph, name, value);
            return name;
        }
    }

    private static void EnsureScalar(GraphProto graph, string name, float value)
    {
        if (graph.Initializer.Any(t => t.Name == name)) return;
        graph.Initializer.Add(Floats(name, new[] { value }, Array.Empty<long>()));
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output)
    {
        var node = new NodeProto { OpType = op, Name = name, Domain = "" };
        node.Input.Add(inputs);
        node.Output.Add(output);
        return node;
    }

    private static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A float32 [batch, <paramref name="width"/>] graph input or output, batch symbolic.</summary>
    private static ValueInfoProto TensorValue(string name, int width)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    // ---- tensors ------------------------------------------------------------------------------

    /// <summary>A dense float32 tensor; its raw_data views <paramref name="values"/> (no copy on little-endian machines).</summary>
    private static TensorProto Floats(string name, float[] values, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = RawBytes(values) };
        t.Dims.Add(dims);
        return t;
    }

    /// <summary>A dense INT8 tensor, raw_data one byte a value.</summary>
    private static TensorProto Int8s(string name, sbyte[] values, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.Add(dims);
        return t;
    }

    /// <summary>
    /// A layer's weights on an affine grid as int8 levels: row r's weight is (level − ZeroPoints[r]) · Scales[r],
    /// exactly the float32 product the scheme's <see cref="QuantizationScheme.Value"/> computes and DequantizeLinear
    /// computes. Levels of fewer than 8 bits fit int8 too.
    /// </summary>
    internal sealed record Int8Weights(sbyte[] Codes, float[] Scales, sbyte[] ZeroPoints)
    {
        /// <summary>
        /// The levels of <paramref name="layer"/>'s (unfolded) weights, or null when a weight is not
        /// on its row's grid or the grid does not fit int8: that layer then goes out as float32, so the
        /// file always computes what the model computes.
        /// </summary>
        public static Int8Weights? Of(LayerQuantization q, SafeTensorsFormat.LayerValues layer)
        {
            var scheme = q.Scheme;
            if (scheme is not IAffineRows grid || q.Bits < scheme.MinBits || !grid.HasRows(q, layer.Out)) return null;
            var codes = new sbyte[layer.Weight.LongLength];
            var scales = new float[layer.Out];
            var zeros = new sbyte[layer.Out];
            for (int r = 0; r < layer.Out; r++)
            {
                var (scale, zp) = grid.Row(q, r);
                if (!float.IsFinite(scale) || scale < 0 || zp is < sbyte.MinValue or > sbyte.MaxValue) return null;
                scales[r] = scale;
                zeros[r] = (sbyte)zp;
                for (int c = 0; c < layer.In; c++)
                {
                    long k = (long)r * layer.In + c;
                    float v = layer.Weight[k];
                    int code = scheme.Code(q, r, v), level = grid.Level(q, code);
                    if (level is < sbyte.MinValue or > sbyte.MaxValue || scheme.Value(q, r, code) != v) return null;
                    codes[k] = (sbyte)level;
                }
            }
            return new Int8Weights(codes, scales, zeros);
        }
    }

    /// <summary>
    /// The non-zero entries of a row-major [out, in] weight: values [NNZ] as raw_data, indices
    /// [NNZ] linearized (row · in + column), ascending, INT64.
    /// </summary>
    private static SparseTensorProto SparseFloats(string name, float[] weight, int rows, int columns)
    {
        int nnz = 0;
        foreach (var v in weight) if (v != 0f) nnz++;
        var values = new float[nnz];
        var indices = new long[nnz];
        int k = 0;
        for (int i = 0; i < weight.Length; i++)
        {
            if (weight[i] == 0f) continue;
            values[k] = weight[i];
            indices[k++] = i;
        }
        var indexTensor = new TensorProto { Name = name + ".indices", DataType = (int)TensorProto.Types.DataType.Int64 };
        indexTensor.Dims.Add(nnz);
        indexTensor.Int64Data.Add(indices);
        var sparse = new SparseTensorProto { Values = Floats(name, values, new long[] { nnz }), Indices = indexTensor };
        sparse.Dims.Add(new long[] { rows, columns });
        return sparse;
    }

    private static ByteString RawBytes(float[] values)
    {
        if (values.Length == 0) return ByteString.Empty;
        if (BitConverter.IsLittleEndian) return UnsafeByteOperations.UnsafeWrap(new FloatBytes(values).Memory);
        var bytes = new byte[4L * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i, 4), values[i]);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    /// <summary>The bytes of a float array as a <see cref="Memory{T}"/> of bytes, without a copy.</summary>
    private sealed unsafe class FloatBytes : MemoryManager<byte>
    {
        private readonly float[] _values;
        public FloatBytes(float[] values) => _values = values;
        public override Span<byte> GetSpan() => MemoryMarshal.AsBytes(_values.AsSpan());
        public override MemoryHandle Pin(int elementIndex = 0)
        {
            var handle = GCHandle.Alloc(_values, GCHandleType.Pinned);
            return new MemoryHandle((byte*)handle.AddrOfPinnedObject() + elementIndex, handle, this);
        }
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }

    /// <summary>
    /// Refuses, before anything is copied, a model whose file would pass protobuf's 2 GB limit
    /// (an upper bound: a sparse entry costs at most 4 value bytes and a 10-byte varint index).
    /// </summary>
    private static void CheckSize(Mlp model, bool[] sparse, bool[] int8)
    {
        long bytes = 0;
        for (int i = 0; i < model.State.Count; i++)
        {
            var l = model.State[i];
            bytes += int8[i] ? l.DenseWeights + 5L * l.OutFeatures : sparse[i] ? 14 * l.NonZeroWeights : 4 * l.DenseWeights;
            bytes += 4L * l.OutFeatures + 256;
        }
        if (bytes > MaxFileBytes)
            throw SparsePruneException.Operation("OnnxModelTooLarge",
                $"Model '{model.Name}' needs about {bytes >> 20} MB as an ONNX file; a protobuf file is limited to 2 GB and ONNX's external data is not written. Export it as .spmlp or SafeTensors instead" +
                (sparse.Any(s => !s) ? ", or prune it and export with sparse initializers." : "."));
    }
}
