namespace SparsePrune;

/// <summary>
/// Everything Set-Sparsity can be told, exactly as given: null means "not given". Defaults come
/// from <see cref="SparsityRequest"/> (defined there once); the "does not apply" rules live here,
/// once, in <see cref="Resolve"/>. Values, not bound names: -Scope Layer with -Threshold changes
/// nothing, so it is no conflict.
/// </summary>
public sealed record SparsitySettings
{
    /// <summary>The cmdlet whose parameters these are (the help test finds its help by it).</summary>
    public const string Cmdlet = "Set-Sparsity";

    private static readonly SparsityRequest Base = new();

    /// <summary>Each parameter's default, keyed by parameter name, as help's "Default value:" shows it.</summary>
    public static IReadOnlyDictionary<string, object> Defaults { get; } = new Dictionary<string, object>
    {
        ["Scope"] = Base.Scope,
        ["Method"] = Base.Method,
    };

    /// <summary>Target fraction of zero weights in scope (or <see cref="Threshold"/>).</summary>
    public double? Sparsity { get; init; }
    /// <summary>Weights with |w| below this are masked (or <see cref="Sparsity"/>).</summary>
    public double? Threshold { get; init; }
    public PruneScope? Scope { get; init; }
    public PruneCriterion? Method { get; init; }
    public int[]? Layers { get; init; }
    public int? Seed { get; init; }
    public double? MaxLayerSparsity { get; init; }

    /// <summary>Checks which settings combine, fills in the defaults and returns the request to plan.</summary>
    public SparsityRequest Resolve()
    {
        if ((Sparsity is null) == (Threshold is null))
            throw SparsePruneException.Argument("SparsityTargetRequired", "Give one target: -Sparsity (a fraction of the weights) or -Threshold (a magnitude).");
        var scope = Scope ?? Base.Scope;
        if (Threshold is not null && scope != PruneScope.Layer)
            throw SparsePruneException.Argument("ParameterNotApplicable", "-Threshold compares every weight with one value, so -Scope changes nothing: leave it out, or give -Sparsity with -Scope.");
        // -Seed with magnitude masks is harmless (and a session may set it for every cmdlet): no error.
        return new SparsityRequest
        {
            Sparsity = Sparsity, Threshold = Threshold, Scope = scope, Method = Method ?? Base.Method,
            Layers = Layers, Seed = Seed, MaxLayerSparsity = MaxLayerSparsity,
        };
    }
}
