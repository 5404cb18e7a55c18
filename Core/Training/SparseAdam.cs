using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SparsePrune;

/// <summary>
/// Adam at a layer's present connections only: the weights, their gradients and both moment
/// estimates are arrays of one value per present connection, so the optimizer's memory follows
/// the density. The update is <see cref="FusedAdam"/>'s, term for term (the same constants,
/// the same order of operations), so a layer trained here takes the steps the fused Adam takes
/// on the dense weights with the keep mask: there a masked weight and its moments stay 0, here
/// they have no place at all. Elementwise, so the result does not depend on the thread count.
/// </summary>
internal sealed class SparseAdam
{
    public SparseAdam(int count)
    {
        M = new float[count];
        V = new float[count];
    }

    /// <summary>The first and second moment estimates, one per present connection.</summary>
    public float[] M { get; private set; }
    public float[] V { get; private set; }

    /// <summary>Whether the update uses 8-wide vectors (tests turn it off to run the scalar path).</summary>
    public bool Vectorized { get; set; } = Vector256.IsHardwareAccelerated;

    /// <summary>
    /// Moves the moments to a new structure: a connection present before and after keeps its
    /// estimates, a new one starts at 0 (the fused Adam's masked moments are 0 too).
    /// <paramref name="oldPositions"/> and <paramref name="newPositions"/> are the connections'
    /// dense positions, each ascending.
    /// </summary>
    public void Remap(long[] oldPositions, long[] newPositions)
    {
        var m = new float[newPositions.Length];
        var v = new float[newPositions.Length];
        int i = 0;
        for (int j = 0; j < newPositions.Length; j++)
        {
            while (i < oldPositions.Length && oldPositions[i] < newPositions[j]) i++;
            if (i < oldPositions.Length && oldPositions[i] == newPositions[j]) { m[j] = M[i]; v[j] = V[i]; }
        }
        M = m; V = v;
    }

    /// <summary>
    /// One Adam step (step number <paramref name="t"/>, 1-based) of <paramref name="weights"/>
    /// by <paramref name="gradients"/>, L2 decay added to the gradient as torch.optim.Adam does.
    /// </summary>
    public void Step(float[] weights, float[] gradients, long t, double learningRate, double weightDecay, int threads)
    {
        if (weights.Length != M.Length || gradients.Length != M.Length)
            throw new ArgumentException($"Adam holds {M.Length} moments; got {weights.Length} weights and {gradients.Length} gradients.");
        double bc1 = 1 - Math.Pow(FusedAdam.Beta1, t), bc2 = 1 - Math.Pow(FusedAdam.Beta2, t);
        float stepSize = (float)(learningRate / bc1), bc2Root = (float)Math.Sqrt(bc2);
        float b1 = (float)FusedAdam.Beta1, b2 = (float)FusedAdam.Beta2, eps = (float)FusedAdam.Epsilon, wd = (float)weightDecay;
        float[] mp = M, vp = V;
        bool vectorized = Vectorized;
        void Range(int start, int end)
        {
            int i = start;
            if (vectorized)
            {
                var vb1 = Vector256.Create(b1); var vb2 = Vector256.Create(b2);
                var vc1 = Vector256.Create(1 - b1); var vc2 = Vector256.Create(1 - b2);
                var vwd = Vector256.Create(wd); var veps = Vector256.Create(eps);
                var vroot = Vector256.Create(bc2Root); var vstep = Vector256.Create(stepSize);
                ref float pp = ref MemoryMarshal.GetArrayDataReference(weights);
                ref float gp = ref MemoryMarshal.GetArrayDataReference(gradients);
                ref float mr = ref MemoryMarshal.GetArrayDataReference(mp);
                ref float vr = ref MemoryMarshal.GetArrayDataReference(vp);
                for (; i + 8 <= end; i += 8)
                {
                    var param = Vector256.LoadUnsafe(ref pp, (nuint)i);
                    var grad = Vector256.LoadUnsafe(ref gp, (nuint)i);
                    if (wd != 0) grad += vwd * param;
                    var m = vb1 * Vector256.LoadUnsafe(ref mr, (nuint)i) + vc1 * grad;
                    var v = vb2 * Vector256.LoadUnsafe(ref vr, (nuint)i) + vc2 * grad * grad;
                    var updated = param - vstep * (m / (Vector256.Sqrt(v) / vroot + veps));
                    m.StoreUnsafe(ref mr, (nuint)i);
                    v.StoreUnsafe(ref vr, (nuint)i);
                    updated.StoreUnsafe(ref pp, (nuint)i);
                }
            }
            for (; i < end; i++)
            {
                float grad = wd != 0 ? gradients[i] + wd * weights[i] : gradients[i];
                float m = b1 * mp[i] + (1 - b1) * grad;
                float v = b2 * vp[i] + (1 - b2) * grad * grad;
                mp[i] = m; vp[i] = v;
                weights[i] = weights[i] - stepSize * (m / (MathF.Sqrt(v) / bc2Root + eps));
            }
        }
        int n = weights.Length;
        int parts = (int)Math.Clamp(n / 65536, 1, Math.Max(1, threads));
        if (parts == 1) Range(0, n);
        else KernelThreads.For(parts, part => Range((int)((long)n * part / parts), (int)((long)n * (part + 1) / parts)));
    }
}
