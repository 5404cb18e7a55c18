using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;

namespace SparsePrune;

/// <summary>The graph matcher's constants: initializers, Constant nodes and what folds into them, and the weights and biases read from them.</summary>
internal sealed partial class OnnxGraphMatcher
{
    /// <summary>
    /// Initializers, sparse initializers and Constant nodes; then Transpose, Identity and
    /// DequantizeLinear nodes of constants fold into constants (graph nodes are in topological
    /// order, as ONNX requires).
    /// </summary>
    private void CollectConstants()
    {
        // Each tensor's bytes are let go once decoded: a large model's file is not held twice.
        foreach (var t in _graph.Initializer)
        {
            AddConstant(t.Name, () => OnnxTensorDecoder.Dense(t, t.Name, _source), "initializer");
            ReleaseData(t);
        }
        foreach (var s in _graph.SparseInitializer)
        {
            var name = s.Values?.Name ?? "";
            AddConstant(name, () => OnnxTensorDecoder.Sparse(s, name, _source), "sparse initializer");
            if (s.Values is not null) ReleaseData(s.Values);
            if (s.Indices is not null) ReleaseData(s.Indices);
        }
        foreach (var node in _graph.Node)
        {
            bool standard = string.IsNullOrEmpty(node.Domain) || node.Domain == "ai.onnx";
            if (standard && node.OpType == "Constant")
            {
                if (node.Output.Count != 1 || string.IsNullOrEmpty(node.Output[0]))
                    throw Corrupt($"{OnnxReadErrors.Describe(node)} does not have one output");
                var name = node.Output[0];
                AddConstant(name, () => ConstantNodeValue(node, name), "Constant node");
                continue;
            }
            if (standard && node.OpType is "Transpose" or "Identity" && node.Input.Count == 1 && _constants.TryGetValue(node.Input[0], out var c)
                && node.Output.Count == 1 && !string.IsNullOrEmpty(node.Output[0]))
            {
                var name = node.Output[0];
                if (node.OpType == "Identity")
                    AddConstant(name, () => c with { Name = name }, "Identity node");
                else
                {
                    var perm = node.Attribute.FirstOrDefault(a => a.Name == "perm")?.Ints.ToArray();
                    if (c.Rank != 2 || (perm is not null && !(perm.Length == 2 && perm[0] == 1 && perm[1] == 0)))
                        throw Unsupported($"{OnnxReadErrors.Describe(node)} permutes the axes of '{c.Name}' (shape {c.Shape}) other than as a matrix transpose");
                    AddConstant(name, () => c.Transposed(name), "Transpose node");
                }
                continue;
            }
            if (standard && node.OpType == "DequantizeLinear" && node.Input.Count is 2 or 3 && node.Input.All(i => string.IsNullOrEmpty(i) || _constants.ContainsKey(i))
                && !string.IsNullOrEmpty(node.Input[0]) && !string.IsNullOrEmpty(node.Input[1]) && node.Output.Count == 1 && !string.IsNullOrEmpty(node.Output[0]))
            {
                var name = node.Output[0];
                AddConstant(name, () => Dequantized(node, name), "DequantizeLinear node");
                continue;
            }
            _computing.Add(node);
            foreach (var i in node.Input.Distinct())
            {
                if (string.IsNullOrEmpty(i)) continue;
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = new List<NodeProto>();
                list.Add(node);
            }
        }
    }

    /// <summary>
    /// DequantizeLinear of constants, folded: y = (x − zero_point) · scale, with a scale (and zero
    /// point) per tensor (one value) or per slice along <c>axis</c> (default 1; a weight [out, in]
    /// quantized per output row has axis 0). x is INT8, UINT8 or INT32; the result is float.
    /// </summary>
    private OnnxConstant Dequantized(NodeProto node, string name)
    {
        var what = OnnxReadErrors.Describe(node);
        var x = _constants[node.Input[0]];
        var scale = _constants[node.Input[1]];
        OnnxConstant? zero = node.Input.Count > 2 && !string.IsNullOrEmpty(node.Input[2]) ? _constants[node.Input[2]] : null;
        if (x.Integers is not { } codes || x.DataType is not ("INT8" or "UINT8" or "INT32"))
            throw Unsupported($"{what} dequantizes '{x.Name}' of type {x.DataType}; SparsePrune reads INT8, UINT8 or INT32 codes");
        if (scale.Values is not { } scales || scale.DataType != "FLOAT")
            throw Unsupported($"{what} has the scale '{scale.Name}' of type {scale.DataType}; SparsePrune reads FLOAT scales");
        long[] zeros;
        if (zero is null) zeros = new long[scales.Length];
        else if (zero.Integers is not { } z || zero.DataType != x.DataType)
            throw Corrupt($"{what} has the zero point '{zero.Name}' of type {zero.DataType}; it must be of the type of its input ({x.DataType})");
        else if (z.Length != scales.Length || !zero.Dims.SequenceEqual(scale.Dims))
            throw Corrupt($"{what} has a zero point of shape {zero.Shape} and a scale of shape {scale.Shape}; they must be the same");
        else zeros = z;

        var values = new float[codes.LongLength];
        if (scales.Length == 1 && scale.Rank <= 1)
        {
            for (long i = 0; i < codes.LongLength; i++) values[i] = (codes[i] - zeros[0]) * scales[0];
        }
        else
        {
            long axis = IntAttribute(node, "axis", 1);
            if (axis < 0) axis += x.Rank;
            if (scale.Rank != 1 || axis < 0 || axis >= x.Rank || x.Dims[axis] != scales.Length)
                throw Corrupt($"{what} has a scale of shape {scale.Shape} for '{x.Name}' of shape {x.Shape} along axis {IntAttribute(node, "axis", 1)}; a per-axis scale has one value per slice of that axis");
            long inner = 1;
            for (int d = (int)axis + 1; d < x.Rank; d++) inner *= x.Dims[d];
            long n = scales.Length;
            for (long i = 0; i < codes.LongLength; i++)
            {
                long k = i / inner % n;
                values[i] = (codes[i] - zeros[k]) * scales[k];
            }
        }
        foreach (var v in values)
            if (!float.IsFinite(v)) throw Corrupt($"{what} gives NaN or infinite values");
        return new OnnxConstant(name, x.Dims, "FLOAT", values, x.Present);
    }

    private static void ReleaseData(TensorProto t)
    {
        t.ClearRawData();
        t.FloatData.Clear();
        t.DoubleData.Clear();
        t.Int64Data.Clear();
        t.Int32Data.Clear();
    }

    private void AddConstant(string name, Func<OnnxConstant> make, string what)
    {
        if (string.IsNullOrEmpty(name))
            throw Corrupt($"an {what} has no name");
        if (_constants.ContainsKey(name))
            throw Corrupt($"the name '{name}' is given to two constants (the second is a {what})");
        _constants[name] = make();
    }

    private OnnxConstant ConstantNodeValue(NodeProto node, string name)
    {
        if (node.Attribute.Count != 1)
            throw Corrupt($"{OnnxReadErrors.Describe(node)} has {node.Attribute.Count} attributes; a Constant has exactly one value");
        var a = node.Attribute[0];
        return a.Name switch
        {
            "value" when a.T is not null => OnnxTensorDecoder.Dense(a.T, name, _source),
            "sparse_value" when a.SparseTensor is not null => OnnxTensorDecoder.Sparse(a.SparseTensor, name, _source),
            "value_float" => new OnnxConstant(name, Array.Empty<long>(), "FLOAT", new[] { Finite(a.F, name) }, null),
            "value_floats" => new OnnxConstant(name, new long[] { a.Floats.Count }, "FLOAT", a.Floats.Select(f => Finite(f, name)).ToArray(), null),
            "value_int" => new OnnxConstant(name, Array.Empty<long>(), "INT64", null, null),
            "value_ints" => new OnnxConstant(name, new long[] { a.Ints.Count }, "INT64", null, null),
            "value_string" or "value_strings" => new OnnxConstant(name, new long[] { Math.Max(1, a.Strings.Count) }, "STRING", null, null),
            _ => throw Corrupt($"{OnnxReadErrors.Describe(node)} has the attribute '{a.Name}' without a value"),
        };
    }

    private float Finite(float v, string name) =>
        float.IsFinite(v) ? v : throw Corrupt($"tensor '{name}' holds NaN or infinite values");

    /// <summary>A layer's weight: a floating-point constant matrix within SparsePrune's limits.</summary>
    private OnnxConstant WeightConstant(NodeProto node, string name)
    {
        if (!_constants.TryGetValue(name, out var w))
            throw Unsupported($"{OnnxReadErrors.Describe(node)} multiplies by '{name}', which is not a constant (an initializer or a Constant node)");
        if (w.Values is null)
            throw Unsupported($"{OnnxReadErrors.Describe(node)} has the weight '{name}' of type {w.DataType}; SparsePrune reads FLOAT or DOUBLE weights");
        if (w.Rank != 2)
            throw Unsupported($"{OnnxReadErrors.Describe(node)} has the weight '{name}' of shape {w.Shape}; a linear layer's weight is a matrix");
        if (w.Dims.Any(d => d < 1 || d > Mlp.MaxWidth))
            throw Corrupt($"weight '{name}' has shape {w.Shape}; every width must be 1 to {Mlp.MaxWidth}");
        return w;
    }

    /// <summary>A bias: a floating-point constant of shape [], [1], [out] or [1, out] (broadcast to [out]), times <paramref name="scale"/>.</summary>
    private float[] Bias(NodeProto node, string name, int outputs, float scale)
    {
        if (!_constants.TryGetValue(name, out var c))
            throw Unsupported($"{OnnxReadErrors.Describe(node)} adds '{name}', which is not a constant (an initializer or a Constant node)");
        if (c.Values is null)
            throw Unsupported($"{OnnxReadErrors.Describe(node)} has the bias '{name}' of type {c.DataType}; SparsePrune reads FLOAT or DOUBLE biases");
        bool perOutput = (c.Rank == 1 && c.Dims[0] == outputs) || (c.Rank == 2 && c.Dims[0] == 1 && c.Dims[1] == outputs);
        bool broadcasts = c.Rank == 0 || (c.Rank <= 2 && c.Dims[^1] is 1) || c.Dims[^1] == outputs;
        if (!broadcasts)
            throw Corrupt($"{OnnxReadErrors.Describe(node)} adds the bias '{name}' of shape {c.Shape} to a layer of {outputs} outputs: the shapes do not broadcast");
        if (!perOutput && !(c.IsScalar && c.Rank <= 2))
            throw Unsupported($"{OnnxReadErrors.Describe(node)} has the bias '{name}' of shape {c.Shape}; a layer with {outputs} outputs takes [{outputs}], [1, {outputs}] or one value");
        var bias = perOutput ? c.Values.ToArray() : Enumerable.Repeat(c.Values[0], outputs).ToArray();
        for (int i = 0; i < bias.Length; i++) bias[i] *= scale;
        return bias;
    }

    private static long IntAttribute(NodeProto node, string name, long fallback)
    {
        var a = node.Attribute.FirstOrDefault(a => a.Name == name);
        return a is null ? fallback : a.I;
    }

    private static float FloatAttribute(NodeProto node, string name, float fallback)
    {
        var a = node.Attribute.FirstOrDefault(a => a.Name == name);
        return a is null ? fallback : a.F;
    }

    private static string StringAttribute(NodeProto node, string name, string fallback)
    {
        var a = node.Attribute.FirstOrDefault(a => a.Name == name);
        return a is null || a.Type is not (AttributeType.String or AttributeType.Undefined) ? fallback : a.S.ToStringUtf8();
    }
}
