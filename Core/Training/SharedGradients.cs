using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// Training a k-means-quantized model (Deep Compression's rule): each shared value's gradient is
/// the sum of its members' gradients. After every backward pass each weight's gradient is
/// replaced by the summed gradient of its cluster, so every member takes the same step under any
/// elementwise optimizer (SGD, momentum, Adam) and the members stay equal bit for bit; weights
/// in no cluster (zeros) get none. At the end the layers' codebooks are read back from the
/// weights. The assignments never change.
/// </summary>
internal sealed class SharedGradients : IDisposable
{
    private readonly List<(int Layer, Tensor Codes, long[] FirstMember, int Clusters)> _layers = new();

    private SharedGradients() { }

    /// <summary>The tying for <paramref name="model"/>'s layers with shared values (k-means); null when it has none.</summary>
    public static SharedGradients? For(Mlp model)
    {
        var tying = new SharedGradients();
        for (int l = 0; l < model.LayerCount; l++)
        {
            if (model.State[l].Quantization is not { Scheme.HasSharedValues: true } q) continue;
            var w = new float[model.State[l].DenseWeights];
            NativeCopy.ToArray(model.State[l].Weight, w);
            int k = q.Codebook.Length;
            // A weight's cluster is the codebook value it equals; zeros take the extra slot k.
            var index = new Dictionary<float, int>();
            for (int i = 0; i < k; i++) index[q.Codebook[i]] = i;
            var codes = new long[w.Length];
            var first = Enumerable.Repeat(-1L, k).ToArray();
            for (long i = 0; i < w.Length; i++)
            {
                int c = w[i] != 0 && index.TryGetValue(w[i], out var found) ? found : k;
                codes[i] = c;
                if (c < k && first[c] < 0) first[c] = i;
            }
            using var scope = NewDisposeScope();
            tying._layers.Add((l, tensor(codes).DetachFromDisposeScope(), first, k));
        }
        if (tying._layers.Count > 0) return tying;
        tying.Dispose();
        return null;
    }

    /// <summary>Replaces each tied weight's gradient by its cluster's summed gradient (before the optimizer step).</summary>
    public void Tie(IReadOnlyList<(Parameter W, Parameter B)> parameters)
    {
        using var noGrad = no_grad();
        foreach (var (l, codes, _, k) in _layers)
        {
            using var scope = NewDisposeScope();
            if (parameters[l].W.grad is not { } g) continue;
            var sums = zeros(k + 1, g.dtype, g.device).index_add_(0, codes, g.reshape(-1), 1);
            sums[k] = 0f; // zeros are no cluster: no step
            g.copy_(sums.index_select(0, codes).reshape(g.shape));
        }
    }

    /// <summary>After training: each layer's codebook becomes the values its clusters now hold.</summary>
    public void UpdateCodebooks(Mlp model)
    {
        foreach (var (l, _, first, k) in _layers)
        {
            var layer = model.State[l];
            var w = new float[layer.DenseWeights];
            NativeCopy.ToArray(layer.Weight, w);
            var codebook = layer.Quantization!.Codebook.ToArray();
            for (int c = 0; c < k; c++) if (first[c] >= 0) codebook[c] = w[first[c]];
            layer.Quantization = layer.Quantization with { Codebook = codebook };
        }
    }

    public void Dispose()
    {
        foreach (var (_, codes, _, _) in _layers) codes.Dispose();
        _layers.Clear();
    }
}
