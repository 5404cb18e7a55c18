using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace OrtTiming;

/// <summary>
/// Does an ONNX form exist that ONNX Runtime runs faster than the dense-initializer export of a
/// connection-pruned model? Each Gemm whose weight is at least half zeros is rewritten:
/// <list type="bullet">
/// <item><b>s2d</b>: the weight as a sparse_initializer (COO, 2-D indices, the layout the contrib
/// kernel asks for) read by <c>com.microsoft.SparseToDenseMatMul(W, hᵀ)</c>, then Transpose and Add
/// of the bias: ONNX Runtime's one sparse kernel, if it accepts a sparse weight from the file.</item>
/// <item><b>ell</b>: standard operators only, each row's non-zero weights padded to the longest
/// row (K): <c>ReduceSum(Mul(Gather(h, columns [out, K], axis 1), values [out, K]), axis 2) + bias</c>,
/// which reads only the present weights (and makes a [batch, out, K] intermediate).</item>
/// </list>
/// Each form's outputs are compared with the export's on the same rows, then all are timed in
/// alternating rounds. A block form is not built: unstructured pruning leaves almost no all-zero
/// block (a 16×16 block at 95 % is empty with probability 0.95^256 ≈ 2e-6) for it to skip.
/// </summary>
internal static class OnnxForms
{
    /// <summary>The ell form's intermediate is batch × out × K floats a layer; past this it is not run.</summary>
    private const long MaxEllBytes = 512L << 20;

    public static Dictionary<string, object> Run(string path, string sparsePath, int[] batches, int rounds, int repeat, int threads, string work)
    {
        var original = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Directory.CreateDirectory(work);
        // dense: Export-Mlp's default; sparseinit: Export-Mlp -SparseInitializers (ONNX Runtime densifies it on load).
        var forms = new List<(string Name, string? File, string? Error, long MaxRowNonZeros)>
        {
            ("dense", path, null, 0), ("sparseinit", sparsePath, null, 0),
        };
        foreach (var name in new[] { "s2d", "ell", "ellt" })
        {
            var file = Path.Combine(work, $"{Path.GetFileNameWithoutExtension(path)}.{name}.onnx");
            var model = original.Clone();
            long k = name == "s2d" ? RewriteS2d(model) : RewriteEll(model, transposed: name == "ellt");
            File.WriteAllBytes(file, model.ToByteArray());
            forms.Add((name, file, null, k));
        }

        var sessions = new Dictionary<string, InferenceSession>();
        var info = new List<Dictionary<string, object?>>();
        foreach (var f in forms)
        {
            string? error = null;
            try { sessions[f.Name] = Bench.Session(f.File!, threads); }
            catch (Exception e) { error = e.Message.Split('\n')[0]; }
            info.Add(new Dictionary<string, object?>
            {
                ["form"] = f.Name, ["fileBytes"] = new FileInfo(f.File!).Length, ["loads"] = error is null, ["loadError"] = error,
                ["maxRowNonZeros"] = f.MaxRowNonZeros,
            });
        }

        int features = (int)original.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue;
        var rows = new List<Dictionary<string, object?>>();
        try
        {
            foreach (int batch in batches)
            {
                var x = Bench.Rows(features, batch, 11);
                var reference = Bench.RunOrt(sessions["dense"], x, batch, "logits");
                var live = new List<string> { "dense" };
                var diffs = new Dictionary<string, object?>();
                foreach (var (name, session) in sessions)
                {
                    if (name == "dense") continue;
                    long k = forms.First(f => f.Name == name).MaxRowNonZeros;
                    if (name.StartsWith("ell") && Outs(original).Max() * batch * k * 4 > MaxEllBytes)
                    {
                        diffs[name] = "not run: its intermediate would pass " + (MaxEllBytes >> 20) + " MB";
                        continue;
                    }
                    try
                    {
                        var y = Bench.RunOrt(session, x, batch, "logits");
                        double max = 0;
                        for (int i = 0; i < y.Length; i++) max = Math.Max(max, Math.Abs(y[i] - reference[i]) / Math.Max(1, Math.Abs(reference[i])));
                        diffs[name] = max;
                        live.Add(name);
                    }
                    catch (Exception e) { diffs[name] = "run failed: " + e.Message.Split('\n')[0]; }
                }
                var times = live.ToDictionary(n => n, _ => new List<double>());
                for (int r = 0; r < rounds; r++)
                {
                    // Rotate the order every round, so that no form always follows the same one.
                    for (int j = 0; j < live.Count; j++)
                    {
                        var name = live[(j + r) % live.Count];
                        times[name].Add(Bench.TimeOrt(sessions[name], x, batch, repeat, Bench.Warmup).Median);
                    }
                }
                var row = new Dictionary<string, object?> { ["batch"] = batch, ["denseMs"] = Bench.Median(times["dense"]), ["maxRelativeLogitDifference"] = diffs };
                foreach (var name in live.Skip(1))
                {
                    row[name + "Ms"] = Bench.Median(times[name]);
                    row[name + "OverDense"] = Bench.Median(times[name].Zip(times["dense"], (a, b) => a / b));
                }
                rows.Add(row);
            }
        }
        finally { foreach (var s in sessions.Values) s.Dispose(); }
        return new Dictionary<string, object>
        {
            ["onnx"] = Path.GetFileName(path), ["forms"] = info, ["rounds"] = rounds, ["repeat"] = repeat, ["ortThreads"] = threads,
            ["ortVersion"] = OrtEnv.Instance().GetVersionString(), ["results"] = rows,
        };
    }

    private static IEnumerable<long> Outs(ModelProto model) => model.Graph.Initializer.Where(t => t.Name.EndsWith(".bias")).Select(t => t.Dims[0]);

    /// <summary>The pruned Gemm layers: (node index, weight initializer, its values) for weights at least half zeros.</summary>
    private static List<(NodeProto Node, TensorProto Weight, float[] Values)> PrunedGemms(ModelProto model)
    {
        var list = new List<(NodeProto, TensorProto, float[])>();
        foreach (var node in model.Graph.Node.Where(n => n.OpType == "Gemm"))
        {
            var w = model.Graph.Initializer.FirstOrDefault(t => t.Name == node.Input[1]);
            if (w is null || w.DataType != (int)TensorProto.Types.DataType.Float) continue;
            var values = MemoryMarshal.Cast<byte, float>(w.RawData.Span).ToArray();
            if (values.Count(v => v == 0f) * 2 < values.Length) continue;
            list.Add((node, w, values));
        }
        return list;
    }

    private static long RewriteS2d(ModelProto model)
    {
        var g = model.Graph;
        foreach (var (node, w, values) in PrunedGemms(model))
        {
            long rows = w.Dims[0], cols = w.Dims[1];
            var nz = new List<float>();
            var idx = new List<long>();
            for (long i = 0; i < values.LongLength; i++)
            {
                if (values[i] == 0f) continue;
                nz.Add(values[i]);
                idx.Add(i / cols);
                idx.Add(i % cols);
            }
            g.Initializer.Remove(w);
            var v = Floats(w.Name, nz.ToArray(), nz.Count);
            var ind = new TensorProto { Name = w.Name + ".indices", DataType = (int)TensorProto.Types.DataType.Int64 };
            ind.Dims.Add(new long[] { nz.Count, 2 });
            ind.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(idx.ToArray().AsSpan()));
            var sp = new SparseTensorProto { Values = v, Indices = ind };
            sp.Dims.Add(new[] { rows, cols });
            g.SparseInitializer.Add(sp);
            // y = (W · hᵀ)ᵀ + b: the kernel's COO loop runs along a row of its dense input, so hᵀ is made contiguous first.
            string h = node.Input[0], b = node.Input[2], y = node.Output[0], p = node.Name;
            int at = g.Node.IndexOf(node);
            g.Node.RemoveAt(at);
            var nodes = new[]
            {
                Node("Transpose", p + ".ht", new[] { h }, p + ".ht", ("perm", new long[] { 1, 0 })),
                Node("SparseToDenseMatMul", p + ".s2d", new[] { w.Name, p + ".ht" }, p + ".yt", domain: "com.microsoft"),
                Node("Transpose", p + ".y", new[] { p + ".yt" }, p + ".y", ("perm", new long[] { 1, 0 })),
                Node("Add", p + ".bias", new[] { p + ".y", b }, y),
            };
            for (int i = 0; i < nodes.Length; i++) g.Node.Insert(at + i, nodes[i]);
        }
        if (!model.OpsetImport.Any(o => o.Domain == "com.microsoft")) model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        return 0;
    }

    private static long RewriteEll(ModelProto model, bool transposed)
    {
        var g = model.Graph;
        long maxK = 0;
        int opset = (int)model.OpsetImport.First(o => o.Domain == "").Version;
        foreach (var (node, w, values) in PrunedGemms(model))
        {
            int rows = (int)w.Dims[0], cols = (int)w.Dims[1];
            int k = 1;
            for (int r = 0; r < rows; r++) k = Math.Max(k, values.AsSpan(r * cols, cols).Length - values.AsSpan(r * cols, cols).Count(0f));
            maxK = Math.Max(maxK, k);
            // Padding: column 0 with weight 0 adds nothing.
            var ci = new int[rows * k];
            var cv = new float[rows * k];
            for (int r = 0; r < rows; r++)
            {
                int j = 0;
                for (int c = 0; c < cols; c++)
                {
                    float v = values[r * cols + c];
                    if (v == 0f) continue;
                    ci[r * k + j] = c;
                    cv[r * k + j++] = v;
                }
            }
            g.Initializer.Remove(w);
            var colT = new TensorProto { Name = w.Name + ".columns", DataType = (int)TensorProto.Types.DataType.Int32, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(ci.AsSpan())) };
            colT.Dims.Add(new long[] { rows, k });
            var valT = Floats(w.Name + ".values", cv, rows, k);
            var axes = new TensorProto { Name = node.Name + ".axes", DataType = (int)TensorProto.Types.DataType.Int64, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(new long[] { 2 }.AsSpan())) };
            axes.Dims.Add(1);
            g.Initializer.Add(colT);
            g.Initializer.Add(valT);
            g.Initializer.Add(axes);
            string h = node.Input[0], b = node.Input[2], y = node.Output[0], p = node.Name;
            int at = g.Node.IndexOf(node);
            g.Node.RemoveAt(at);
            if (opset < 13) throw new NotSupportedException("ReduceSum takes its axes as an input from opset 13");
            NodeProto[] nodes;
            if (!transposed)
            {
                nodes = new[]
                {
                    Node("Gather", p + ".gather", new[] { h, colT.Name }, p + ".gathered", ("axis", new long[] { 1 })),
                    Node("Mul", p + ".mul", new[] { p + ".gathered", valT.Name }, p + ".prod"),
                    Node("ReduceSum", p + ".sum", new[] { p + ".prod", axes.Name }, p + ".sum", ("keepdims", new long[] { 0 })),
                    Node("Add", p + ".bias", new[] { p + ".sum", b }, y),
                };
            }
            else
            {
                // Rows of hᵀ are gathered whole (one contiguous copy of the batch per entry): [out, K, batch].
                valT.Dims.Add(1);
                axes.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(new long[] { 1 }.AsSpan()));
                nodes = new[]
                {
                    Node("Transpose", p + ".ht", new[] { h }, p + ".ht", ("perm", new long[] { 1, 0 })),
                    Node("Gather", p + ".gather", new[] { p + ".ht", colT.Name }, p + ".gathered", ("axis", new long[] { 0 })),
                    Node("Mul", p + ".mul", new[] { p + ".gathered", valT.Name }, p + ".prod"),
                    Node("ReduceSum", p + ".sum", new[] { p + ".prod", axes.Name }, p + ".sumt", ("keepdims", new long[] { 0 })),
                    Node("Transpose", p + ".y", new[] { p + ".sumt" }, p + ".sum", ("perm", new long[] { 1, 0 })),
                    Node("Add", p + ".bias", new[] { p + ".sum", b }, y),
                };
            }
            for (int i = 0; i < nodes.Length; i++) g.Node.Insert(at + i, nodes[i]);
        }
        return maxK;
    }

    private static TensorProto Floats(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
        t.Dims.Add(dims);
        return t;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output, (string Name, long[] Ints)? attribute = null, string domain = "")
    {
        var n = new NodeProto { OpType = op, Name = name, Domain = domain };
        n.Input.Add(inputs);
        n.Output.Add(output);
        if (attribute is { } a)
        {
            var attr = a.Ints.Length == 1 && a.Name != "perm"
                ? new AttributeProto { Name = a.Name, Type = AttributeProto.Types.AttributeType.Int, I = a.Ints[0] }
                : new AttributeProto { Name = a.Name, Type = AttributeProto.Types.AttributeType.Ints };
            if (attr.Type == AttributeProto.Types.AttributeType.Ints) attr.Ints.Add(a.Ints);
            n.Attribute.Add(attr);
        }
        return n;
    }
}
