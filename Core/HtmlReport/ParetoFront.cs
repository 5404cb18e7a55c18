namespace SparsePrune;

/// <summary>The points no other point beats on both axes: higher is better on each.</summary>
internal static class ParetoFront
{
    /// <summary>For each point, whether it is on the front (ties on both axes are all kept).</summary>
    public static bool[] Of(IReadOnlyList<(double X, double Y)> points)
    {
        var front = new bool[points.Count];
        for (int i = 0; i < points.Count; i++)
        {
            var p = points[i];
            front[i] = !points.Any(q => q.X >= p.X && q.Y >= p.Y && (q.X > p.X || q.Y > p.Y));
        }
        return front;
    }
}
