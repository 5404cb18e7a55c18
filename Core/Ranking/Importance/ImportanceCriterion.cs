using System.Reflection;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// How much each connection and each hidden neuron matters: one small class per criterion, as
/// torch.nn.utils.prune has one class per method, kept apart from the structures that apply the
/// scores (as Torch-Pruning keeps importance apart from its pruners). Lower scores are pruned
/// first. An instance serves one pruning step (or one scoring pass shared by several plans) and
/// owns whatever state its scores need: the random generator, or the accumulated gradients.
/// </summary>
internal abstract class ImportanceCriterion : IDisposable
{
    private static readonly IReadOnlyDictionary<PruneCriterion, Type> Registry = Discover();

    /// <summary>Every non-abstract subclass marked with <see cref="CriterionAttribute"/>, by the value it implements.</summary>
    private static Dictionary<PruneCriterion, Type> Discover() =>
        typeof(ImportanceCriterion).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(ImportanceCriterion).IsAssignableFrom(t))
            .Select(t => (Type: t, Attribute: t.GetCustomAttribute<CriterionAttribute>()))
            .Where(p => p.Attribute is not null)
            .ToDictionary(p => p.Attribute!.Kind, p => p.Type);

    /// <summary>Every name a user may type for a criterion (its enum name and its aliases), case-insensitive.</summary>
    private static readonly IReadOnlyDictionary<string, PruneCriterion> Names = Registry
        .SelectMany(p => p.Value.GetCustomAttribute<CriterionAttribute>()!.Aliases.Select(a => (Name: a, Kind: p.Key)).Prepend((Name: p.Key.ToString(), Kind: p.Key)))
        .ToDictionary(p => p.Name, p => p.Kind, StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The criterion a user's <paramref name="name"/> means: an enum name (L1, Fisher...) or an
    /// alias (Magnitude for L1); an unknown name is refused with the list of names.
    /// </summary>
    public static PruneCriterion Parse(string name) =>
        Names.TryGetValue(name.Trim(), out var kind) ? kind
        : throw SparsePruneException.Argument("UnknownCriterion",
            $"'{name}' names no ranking criterion; use one of {string.Join(", ", Names.Keys.OrderBy(k => Names[k]).ThenBy(k => k != Names[k].ToString()))}.");

    /// <summary>The criterion <paramref name="kind"/> names; <paramref name="seed"/> seeds criteria that draw random numbers.</summary>
    public static ImportanceCriterion Create(PruneCriterion kind, int seed)
    {
        if (!Registry.TryGetValue(kind, out var type))
            throw new InvalidOperationException($"No importance criterion implements {kind}.");
        var criterion = (ImportanceCriterion)Activator.CreateInstance(type, nonPublic: true)!;
        criterion.Random = new Random(seed);
        return criterion;
    }

    /// <summary>True for the criteria that score from gradients over data (<see cref="GradientCriterion"/>).</summary>
    public static bool ScoresFromData(PruneCriterion kind) =>
        Registry.TryGetValue(kind, out var type) && typeof(GradientCriterion).IsAssignableFrom(type);

    /// <summary>The random generator of criteria that draw (seeded by <see cref="Create"/>).</summary>
    protected Random Random { get; private set; } = new(0);

    /// <summary>One score per weight of <paramref name="layer"/>, shaped like it. The caller owns the tensor.</summary>
    public abstract Tensor ConnectionScores(Mlp model, int layer);

    /// <summary>
    /// Set-Sparsity's scores: one per weight of <paramref name="layer"/> ranked as if no mask were
    /// there (Set-Sparsity's target is absolute, so a lower target brings hidden weights back),
    /// non-negative float32 shaped like the layer, owned by the caller. Null: the score is the
    /// magnitude |w| of the weights with the masks lifted, which the selection reads in place
    /// without a score tensor (and which -Threshold compares with).
    /// </summary>
    public abstract Tensor? UnmaskedConnectionScores(Mlp model, int layer);

    /// <summary>One score per output neuron of hidden layer <paramref name="layer"/> (its <see cref="NeuronGroup"/>).</summary>
    public abstract double[] NeuronScores(Mlp model, int layer);

    public virtual void Dispose() { }
}
