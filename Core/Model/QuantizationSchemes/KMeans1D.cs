namespace SparsePrune;

/// <summary>
/// Lloyd's k-means in one dimension, as Deep Compression shares weights: centroids initialized
/// linearly over [min, max] (the paper found it keeps the large weights, which matter most),
/// then assignment to the nearest centroid and the mean of each cluster, until nothing moves.
/// In one dimension the clusters are runs of the sorted values, so each round is a merge pass.
/// </summary>
internal static class KMeans1D
{
    public const int MaxRounds = 300;

    /// <summary>
    /// Centroids (ascending) of <paramref name="values"/> for at most <paramref name="k"/> clusters;
    /// fewer when there are fewer distinct values (each then is its own centroid). An empty
    /// cluster is dropped. <paramref name="values"/> is sorted in place.
    /// </summary>
    public static float[] Centroids(float[] values, int k)
    {
        if (values.Length == 0) return Array.Empty<float>();
        Array.Sort(values);
        var distinct = Distinct(values, k + 1);
        if (distinct.Count <= k) return distinct.ToArray();
        double min = values[0], max = values[^1];
        var c = new double[k];
        for (int j = 0; j < k; j++) c[j] = min + (max - min) * j / (k - 1);
        var sums = new double[k];
        var counts = new long[k];
        for (int round = 0; round < MaxRounds; round++)
        {
            Array.Clear(sums); Array.Clear(counts);
            // Sorted values and sorted centroids: the nearest centroid only moves right.
            int j = 0;
            foreach (var v in values)
            {
                while (j + 1 < k && Math.Abs(c[j + 1] - v) < Math.Abs(c[j] - v)) j++;
                sums[j] += v; counts[j]++;
            }
            bool moved = false;
            for (int i = 0; i < k; i++)
            {
                if (counts[i] == 0) continue;
                double mean = sums[i] / counts[i];
                if (mean != c[i]) { c[i] = mean; moved = true; }
            }
            // Centroids stay sorted: each mean lies within its own run of sorted values.
            if (!moved) break;
        }
        return Enumerable.Range(0, k).Where(i => counts[i] > 0).Select(i => (float)c[i]).Distinct().OrderBy(v => v).ToArray();
    }

    /// <summary>The index of the centroid nearest to <paramref name="v"/> (ties to the lower one).</summary>
    public static int Nearest(float[] centroids, float v)
    {
        int i = Array.BinarySearch(centroids, v);
        if (i >= 0) return i;
        i = ~i;
        if (i == 0) return 0;
        if (i == centroids.Length) return centroids.Length - 1;
        return v - centroids[i - 1] <= centroids[i] - v ? i - 1 : i;
    }

    private static List<float> Distinct(float[] sorted, int atMost)
    {
        var d = new List<float>();
        foreach (var v in sorted)
        {
            if (d.Count > 0 && d[^1] == v) continue;
            d.Add(v);
            if (d.Count >= atMost) break;
        }
        return d;
    }
}
