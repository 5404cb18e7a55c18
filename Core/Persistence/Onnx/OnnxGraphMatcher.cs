using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;

namespace SparsePrune;

/// <summary>
/// Walks an ONNX graph from its one input to its output and matches the MLP forms the common
/// exporters write: <c>Gemm</c> (any transB, alpha and beta folded in) or <c>MatMul</c> with an
/// optional <c>Add</c> of a constant bias; weights from initializers, sparse initializers,
/// <c>Constant</c> nodes, or a <c>Transpose</c>/<c>Identity</c>/<c>DequantizeLinear</c> of those
/// (int8 weights, as SparsePrune writes Linear-quantized layers, become float weights); before the
/// first layer, <c>Sub</c>/<c>Add</c>/<c>Mul</c>/<c>Div</c> of constants per feature (a normalization
/// of the raw input) folded into that layer; one activation
/// kind between the layers, read by the registered <see cref="Activation"/> classes (their ops and the
/// decomposed forms exporters write: GELU's Erf form, SiLU as x · Sigmoid(x), Softplus as
/// Log(1 + Exp(x)) or with a β), or nothing between two layers (Identity);
/// a trailing <c>Softmax</c>, <c>Identity</c> or <c>Flatten</c>. Anything else fails with
/// UnsupportedOnnxGraph naming the node.
/// </summary>
internal sealed partial class OnnxGraphMatcher
{
    private readonly GraphProto _graph;
    private readonly string _source;
    private readonly long _opset;
    private readonly Dictionary<string, OnnxConstant> _constants = new(StringComparer.Ordinal);
    /// <summary>The nodes that compute (every node but Constants and what folds into a constant), by the values they read.</summary>
    private readonly Dictionary<string, List<NodeProto>> _consumers = new(StringComparer.Ordinal);
    private readonly List<NodeProto> _computing = new();
    private readonly HashSet<NodeProto> _used = new(ReferenceEqualityComparer.Instance);

    public OnnxGraphMatcher(GraphProto graph, long opset, string source)
    {
        _graph = graph;
        _opset = opset;
        _source = source;
    }

    public OnnxMlpGraph Match()
    {
        CollectConstants();
        var input = TheInput();
        int inputRank = input.Type?.TensorType?.Shape is { } shape ? shape.Dim.Count : -1;

        var layers = new List<OnnxLinearLayer>();
        Activation? activation = null;
        NodeProto? activationNode = null, lastActivationNode = null;
        bool afterLayer = false, activationSinceLayer = false, softmax = false;
        string[]? labels = null;
        // The rank of the value flowing now (-1: unknown), and whether a Flatten before the first layer made it [batch, features].
        int rank = inputRank;
        bool flattenedInput = false;
        // Values the graph may name as outputs: the last layer's and those after it (logits, probabilities).
        var outputCandidates = new HashSet<string>(StringComparer.Ordinal);
        // Sub/Add/Mul/Div of constants before the first layer (a normalization of the raw input), folded into it.
        var inputAffine = new List<(NodeProto Node, OnnxConstant Constant)>();
        string value = input.Name;

        while (true)
        {
            var consumers = ConsumersOf(value);
            if (afterLayer && consumers.Count > 0)
            {
                // skl2onnx's classifier: the label (ArgMax → ArrayFeatureExtractor → …) and ZipMap beside the probabilities.
                int outputs = layers[^1].Out;
                consumers = consumers.Where(c => !TrySideOutput(c, outputs, outputCandidates, ref labels)).ToList();
            }
            if (consumers.Count == 0) break;
            if (MatchActivation(value, consumers) is { } match)
            {
                var firstNode = Proto(match.Nodes[0]);
                SetActivation(match.Activation, firstNode, ref activation, ref activationNode, afterLayer, activationSinceLayer, softmax);
                foreach (var n in match.Nodes) _used.Add(Proto(n));
                lastActivationNode = firstNode;
                activationSinceLayer = true;
                afterLayer = false;
                outputCandidates.Clear();
                value = match.Output;
                continue;
            }
            if (consumers.Count > 1)
                throw Unsupported($"value '{value}' feeds {consumers.Count} nodes ({string.Join(", ", consumers.Select(OnnxReadErrors.Describe))}): the graph branches");
            var node = consumers[0];
            CheckDomain(node);
            if (node.Output.Count < 1 || string.IsNullOrEmpty(node.Output[0]))
                throw Corrupt($"{OnnxReadErrors.Describe(node)} has no output");
            string next;
            switch (node.OpType)
            {
                case "Gemm":
                case "MatMul":
                {
                    if (softmax) throw Unsupported($"{OnnxReadErrors.Describe(node)} follows the Softmax");
                    // A layer right after a layer: nothing between them, the Identity activation (scikit-learn's 'identity').
                    if (layers.Count > 0 && !activationSinceLayer)
                        SetActivation(Activation.Identity, node, ref activation, ref activationNode, afterLayer: true, false, softmax);
                    var (layer, output) = node.OpType == "Gemm" ? Gemm(node, value) : MatMul(node, value);
                    if (layers.Count > 0 && layer.In != layers[^1].Out)
                        throw Corrupt($"the shapes do not chain: {layer.Source} takes {layer.In} inputs but {layers[^1].Source} has {layers[^1].Out} outputs");
                    if (layers.Count == 0 && InputFeatures(input, flattenedInput) is { } features && features != layer.In)
                        throw Corrupt($"its input '{input.Name}' has {features} features but {layer.Source} takes {layer.In}");
                    if (layers.Count == 0 && inputAffine.Count > 0) layer = FoldInputAffine(layer, inputAffine);
                    if (node.OpType == "Gemm") rank = 2;
                    layers.Add(layer);
                    afterLayer = true;
                    activationSinceLayer = false;
                    outputCandidates.Clear();
                    outputCandidates.Add(output);
                    value = output;
                    continue;
                }
                case "Softmax":
                {
                    if (layers.Count == 0 || !afterLayer || softmax)
                        throw Unsupported($"{OnnxReadErrors.Describe(node)} is not at the end of the network, after its last layer");
                    long axis = IntAttribute(node, "axis", _opset >= 13 ? -1 : 1);
                    if (axis != -1 && axis != (rank > 0 ? rank : 2) - 1)
                        throw Unsupported($"{OnnxReadErrors.Describe(node)} has axis {axis}; only a Softmax over the outputs (the last axis) is a classifier's");
                    softmax = true;
                    break;
                }
                case "Sub" or "Add" or "Mul" or "Div" when layers.Count == 0:
                {
                    // x − c, x + c, x · c, x / c per feature (or one c for all) before the first layer: a
                    // normalization of the raw input, as SparsePrune writes it before an int8 first layer.
                    if (node.Input.Count != 2)
                        throw Corrupt($"{OnnxReadErrors.Describe(node)} does not have two inputs");
                    bool left = node.Input[0] == value;
                    var other = left ? node.Input[1] : node.Input[0];
                    if (!_constants.TryGetValue(other, out var c) || c.Values is null || (!left && node.OpType is "Sub" or "Div") || other == value)
                        throw Unsupported($"{OnnxReadErrors.Describe(node)} is not part of an MLP here: before the first layer only a Sub, Add, Mul or Div of the input by a float constant (a normalization) is read");
                    inputAffine.Add((node, c));
                    break;
                }
                case "Identity":
                    break;
                case "Cast":
                {
                    // skl2onnx casts its input to the type of its weights.
                    long to = IntAttribute(node, "to", 0);
                    if (to is not ((long)TensorProto.Types.DataType.Float or (long)TensorProto.Types.DataType.Double))
                        throw Unsupported($"{OnnxReadErrors.Describe(node)} casts to {OnnxTensorDecoder.TypeName((int)to)}; only a Cast to FLOAT or DOUBLE leaves an MLP's values as they are");
                    break;
                }
                case "Reshape":
                {
                    // skl2onnx's regressor reshapes its result to [-1, 1].
                    if (!afterLayer || node.Input.Count != 2 || node.Input[0] != value
                        || !_constants.TryGetValue(node.Input[1], out var target) || target.Integers is not { } targetShape
                        || !IsRowsOf(targetShape, layers[^1].Out))
                        throw Unsupported($"{OnnxReadErrors.Describe(node)} reshapes the values; only a Reshape of the network's result to [-1, outputs] can be dropped");
                    break;
                }
                case "Flatten":
                {
                    // Before the first layer, Flatten(axis 1) makes [batch, …] rows of features (nn.Flatten() of an
                    // image): the model then takes the flattened rows. Later it must leave [batch, outputs] as it is.
                    long axis = IntAttribute(node, "axis", 1);
                    bool keepsRows = axis == 1 || (axis == -1 && rank is 2 or -1);
                    if (!keepsRows || (layers.Count > 0 && rank > 2))
                        throw Unsupported($"{OnnxReadErrors.Describe(node)} flattens from axis {axis} a value of rank {(rank > 0 ? rank.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown")}; only a Flatten to [batch, features] rows can be dropped");
                    if (layers.Count == 0 && rank != 2) flattenedInput = true;
                    rank = 2;
                    break;
                }
                case "Dropout":
                {
                    // Inference: Dropout is the identity, unless told to train.
                    if (node.Input.Count > 2 && !string.IsNullOrEmpty(node.Input[2])
                        && !(_constants.TryGetValue(node.Input[2], out var training) && training.Integers is { Length: 1 } t && t[0] == 0))
                        throw Unsupported($"{OnnxReadErrors.Describe(node)} may run in training mode");
                    break;
                }
                default:
                    throw Unsupported($"{OnnxReadErrors.Describe(node)} is not part of an MLP{(node.OpType is "Add" or "Mul" or "Sub" or "Div" ? " here" : "")}");
            }
            _used.Add(node);
            next = node.Output[0];
            if (afterLayer)
                outputCandidates.Add(next);
            value = next;
        }

        if (layers.Count == 0)
            throw Unsupported($"no Gemm or MatMul layer reads the input '{input.Name}'");
        if (!afterLayer)
            throw Unsupported($"the graph ends in {OnnxReadErrors.Describe(lastActivationNode!)} after its last layer; an MLP here ends in a linear layer (logits), optionally followed by Softmax");

        foreach (var node in _computing)
            if (!_used.Contains(node))
                throw Unsupported($"{OnnxReadErrors.Describe(node)} is not on the path from the input to the output");
        if (_graph.Output.Count == 0)
            throw Corrupt("its graph has no output");
        foreach (var o in _graph.Output)
            if (!outputCandidates.Contains(o.Name))
                throw Unsupported(_constants.ContainsKey(o.Name) || o.Name == input.Name
                    ? $"graph output '{o.Name}' is not computed by the network"
                    : $"graph output '{o.Name}' is a value inside the network, not its result");
        if (labels is not null && labels.Length != layers[^1].Out)
            throw Corrupt($"its graph names {labels.Length} class labels for {layers[^1].Out} outputs");
        return new OnnxMlpGraph(input.Name, layers, activation, softmax, labels);
    }

    // ---- constants ---------------------------------------------------------------------------

    // ---- the graph's input -----------------------------------------------------------------

    private ValueInfoProto TheInput()
    {
        // Older exporters list the initializers among the inputs too: those are not inputs here.
        var inputs = _graph.Input.Where(i => !_constants.ContainsKey(i.Name)).ToList();
        if (inputs.Count == 0)
            throw Unsupported("its graph has no input (every input it lists is an initializer)");
        if (inputs.Count > 1)
            throw Unsupported($"its graph has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => $"'{i.Name}'"))}); an MLP has one");
        var input = inputs[0];
        if (string.IsNullOrEmpty(input.Name))
            throw Corrupt("its graph input has no name");
        if (input.Type is { } type)
        {
            if (type.ValueCase != TypeProto.ValueOneofCase.TensorType && type.ValueCase != TypeProto.ValueOneofCase.None)
                throw Unsupported($"its input '{input.Name}' is a {type.ValueCase}, not a tensor");
            if (type.TensorType is { HasElemType: true } tensorType
                && tensorType.ElemType is not ((int)TensorProto.Types.DataType.Float or (int)TensorProto.Types.DataType.Double))
                throw Unsupported($"its input '{input.Name}' has element type {OnnxTensorDecoder.TypeName(tensorType.ElemType)}; an MLP here takes FLOAT (or DOUBLE) inputs");
        }
        return input;
    }

    // ---- layers ------------------------------------------------------------------------------

    /// <summary>Gemm(A = the value, B constant, C constant or none): Y = alpha·A·op(B) + beta·C.</summary>
    private (OnnxLinearLayer, string) Gemm(NodeProto node, string value)
    {
        var what = OnnxReadErrors.Describe(node);
        if (node.Input.Count < 2 || node.Input[0] != value)
            throw Unsupported($"{what} does not take the previous value as its first input (A)");
        if (IntAttribute(node, "transA", 0) != 0)
            throw Unsupported($"{what} has transA 1: it transposes the batch");
        var b = WeightConstant(node, node.Input[1]);
        if (IntAttribute(node, "transB", 0) == 0) b = b.Transposed(b.Name);
        b = b.Scaled(FloatAttribute(node, "alpha", 1f));
        int outputs = (int)b.Dims[0], inputs = (int)b.Dims[1];
        float[] bias = node.Input.Count > 2 && !string.IsNullOrEmpty(node.Input[2])
            ? Bias(node, node.Input[2], outputs, FloatAttribute(node, "beta", 1f))
            : new float[outputs];
        var layer = new OnnxLinearLayer(what, outputs, inputs, b.Values!, bias, b.Present);
        _used.Add(node);
        return (layer, node.Output[0]);
    }

    /// <summary>MatMul(the value, B constant [in, out]), then an Add of a constant bias when one follows.</summary>
    private (OnnxLinearLayer, string) MatMul(NodeProto node, string value)
    {
        var what = OnnxReadErrors.Describe(node);
        if (node.Input.Count != 2 || node.Input[0] != value)
            throw Unsupported($"{what} does not multiply the previous value from the left (value × weight)");
        var w = WeightConstant(node, node.Input[1]).Transposed(node.Input[1]);
        int outputs = (int)w.Dims[0], inputs = (int)w.Dims[1];
        _used.Add(node);
        string output = node.Output[0];
        float[] bias = new float[outputs];
        var consumers = ConsumersOf(output);
        if (consumers.Count == 1 && consumers[0].OpType == "Add" && IsStandard(consumers[0]))
        {
            var add = consumers[0];
            if (add.Input.Count != 2 || add.Output.Count < 1)
                throw Corrupt($"{OnnxReadErrors.Describe(add)} does not have two inputs");
            var other = add.Input[0] == output ? add.Input[1] : add.Input[0];
            if (!_constants.ContainsKey(other))
                throw Unsupported($"{OnnxReadErrors.Describe(add)} adds '{other}', which is not a constant (an initializer or a Constant node): not a bias");
            bias = Bias(add, other, outputs, 1f);
            _used.Add(add);
            what += " + " + OnnxReadErrors.Describe(add);
            output = add.Output[0];
        }
        return (new OnnxLinearLayer(what, outputs, inputs, w.Values!, bias, w.Present), output);
    }

    /// <summary>
    /// Folds x' = a ⊙ x + b (the composed Sub/Add/Mul/Div of the input, per feature) into the first
    /// layer: W'[r, c] = W[r, c] · a[c], bias'[r] = bias[r] + Σ_c W[r, c] · b[c] (in double).
    /// </summary>
    private OnnxLinearLayer FoldInputAffine(OnnxLinearLayer layer, List<(NodeProto Node, OnnxConstant Constant)> ops)
    {
        int n = layer.In;
        var a = Enumerable.Repeat(1.0, n).ToArray();
        var b = new double[n];
        foreach (var (node, c) in ops)
        {
            var v = c.Values!;
            bool perFeature = v.Length == n && (c.Rank == 1 || (c.Rank == 2 && c.Dims[0] == 1));
            if (!perFeature && !(v.Length == 1 && c.Rank <= 2))
                throw Unsupported($"{OnnxReadErrors.Describe(node)} uses '{c.Name}' of shape {c.Shape} before {layer.Source} with {n} inputs; only one value per feature ([{n}] or [1, {n}]) or one value for all is read");
            for (int f = 0; f < n; f++)
            {
                double x = v[perFeature ? f : 0];
                switch (node.OpType)
                {
                    case "Sub": b[f] -= x; break;
                    case "Add": b[f] += x; break;
                    case "Mul": a[f] *= x; b[f] *= x; break;
                    default:
                        if (x == 0) throw Corrupt($"{OnnxReadErrors.Describe(node)} divides by 0");
                        a[f] /= x; b[f] /= x;
                        break;
                }
            }
        }
        var weight = new float[layer.Weight.LongLength];
        var bias = layer.Bias.ToArray();
        for (int r = 0; r < layer.Out; r++)
        {
            double shift = 0;
            for (int f = 0; f < n; f++)
            {
                long k = (long)r * n + f;
                double w = layer.Weight[k];
                weight[k] = (float)(w * a[f]);
                shift += w * b[f];
            }
            bias[r] = (float)(bias[r] + shift);
        }
        if (!weight.All(float.IsFinite) || !bias.All(float.IsFinite))
            throw Corrupt($"folding the input's {string.Join(", ", ops.Select(o => o.Node.OpType))} into {layer.Source} gives values beyond the float range");
        return layer with { Source = string.Join(" + ", ops.Select(o => OnnxReadErrors.Describe(o.Node)).Append(layer.Source)), Weight = weight, Bias = bias };
    }

    /// <summary>The features per row the input declares (after a leading Flatten, all its dimensions but the first), or null when not all are known.</summary>
    private static long? InputFeatures(ValueInfoProto input, bool flattened)
    {
        if (input.Type?.TensorType?.Shape is not { Dim.Count: > 0 } shape) return null;
        var dims = flattened ? shape.Dim.Skip(1).ToList() : new List<TensorShapeProto.Types.Dimension> { shape.Dim[^1] };
        if (dims.Count == 0 || dims.Any(d => !d.HasDimValue)) return null;
        return dims.Aggregate(1L, (a, d) => a * d.DimValue);
    }

    // ---- skl2onnx's label outputs ------------------------------------------------------------------

    /// <summary>Whether <paramref name="shape"/> (a Reshape target) keeps [batch, outputs] as it is: [-1, n], [0, n], or [-1] for one output.</summary>
    private static bool IsRowsOf(long[] shape, int outputs) =>
        (shape.Length == 2 && shape[0] is -1 or 0 && shape[1] == outputs) || (shape.Length == 1 && shape[0] == -1 && outputs == 1);

    /// <summary>
    /// A branch beside the network's result that only reports it another way, as skl2onnx writes
    /// a classifier: ZipMap (probabilities per label) or ArgMax, optionally ArrayFeatureExtractor of a
    /// constant list of labels, then Reshape/Cast/Identity, ending in a graph output. Its nodes are
    /// dropped, its output allowed, its labels kept as class names.
    /// </summary>
    private bool TrySideOutput(NodeProto node, int outputs, HashSet<string> allowedOutputs, ref string[]? labels)
    {
        var graphOutputs = _graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var nodes = new List<NodeProto> { node };
        string[]? found = null;
        if (node.OpType == "ZipMap" && node.Domain == "ai.onnx.ml" && node.Output.Count == 1)
        {
            var strings = node.Attribute.FirstOrDefault(a => a.Name == "classlabels_strings");
            var ints = node.Attribute.FirstOrDefault(a => a.Name == "classlabels_int64s");
            found = strings is { Strings.Count: > 0 } ? strings.Strings.Select(b => b.ToStringUtf8()).ToArray()
                : ints is { Ints.Count: > 0 } ? ints.Ints.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray() : null;
        }
        else if (node.OpType == "ArgMax" && IsStandard(node) && node.Output.Count == 1)
        {
            long axis = IntAttribute(node, "axis", 0);
            if (axis != 1 && axis != -1) return false;
        }
        else return false;

        string value = node.Output[0];
        bool extracted = node.OpType == "ZipMap";
        while (true)
        {
            var next = ConsumersOf(value);
            if (next.Count == 0) break;
            if (next.Count != 1) return false;
            var n = next[0];
            if (n.Output.Count != 1) return false;
            if (!extracted && n.OpType == "ArrayFeatureExtractor" && n.Domain == "ai.onnx.ml" && n.Input.Count == 2 && n.Input[1] == value
                && _constants.TryGetValue(n.Input[0], out var classes))
            {
                found = classes.Strings ?? classes.Integers?.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                if (found is null) return false;
                extracted = true;
            }
            else if (!(IsStandard(n) && n.OpType is "Reshape" or "Cast" or "Identity" or "Squeeze" or "Flatten" && n.Input[0] == value))
                return false;
            nodes.Add(n);
            value = n.Output[0];
        }
        if (!graphOutputs.Contains(value)) return false;
        foreach (var n in nodes) _used.Add(n);
        allowedOutputs.Add(value);
        if (found is not null)
        {
            if (labels is not null && !labels.SequenceEqual(found))
                throw Corrupt($"its graph names the class labels [{string.Join(", ", labels)}] in one place and [{string.Join(", ", found)}] in another");
            labels = found;
        }
        return true;
    }

    // ---- helpers ---------------------------------------------------------------------------------

    private List<NodeProto> ConsumersOf(string value) =>
        _consumers.TryGetValue(value, out var list) ? list.Where(n => !_used.Contains(n)).ToList() : new List<NodeProto>();

    private static bool IsStandard(NodeProto node) => string.IsNullOrEmpty(node.Domain) || node.Domain == "ai.onnx";

    private void CheckDomain(NodeProto node)
    {
        if (!IsStandard(node))
            throw Unsupported($"{OnnxReadErrors.Describe(node)} is an operator of the domain '{node.Domain}', not of standard ONNX");
    }

    private SparsePruneException Unsupported(string what) => OnnxReadErrors.Unsupported(_source, what);
    private SparsePruneException Corrupt(string what) => OnnxReadErrors.Corrupt(_source, what);
}
