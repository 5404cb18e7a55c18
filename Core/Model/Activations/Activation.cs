using System.Globalization;
using System.Reflection;
using System.Text;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// The function between an MLP's layers: one small class per activation, registered by name
/// (<see cref="ActivationNameAttribute"/>) as the pruning criteria are. Each class owns its
/// forward pass, its parameters (LeakyReLU's slope, ELU's α, Softplus's β and threshold), how
/// ONNX writes and reads it, its torch.nn module for SafeTensors and its spelling in files.
/// An instance is immutable; two are equal when they are the same function with the same
/// parameters.
/// <para>
/// Spelling (files, messages, <see cref="ToString"/>): the name alone when every parameter has
/// its default (so a file's "LeakyReLU" is, as it always was, the slope 0.01), else the name and
/// the parameters up to the last one that differs: "LeakyReLU(0.2)", "Softplus(2)",
/// "Softplus(1,10)" (invariant culture, round-trip numbers).
/// </para>
/// </summary>
public abstract class Activation : IEquatable<Activation>
{
    private sealed record Registration(ActivationNameAttribute Info, Type Type);

    private static readonly IReadOnlyList<Registration> Registered = Discover();
    private static readonly Dictionary<string, Registration> ByName = Index();

    private readonly double[] _parameters;

    /// <param name="parameters">Every parameter (defaults filled in), checked by the subclass.</param>
    private protected Activation(double[] parameters) => _parameters = parameters;

    /// <summary>Every non-abstract subclass with an <see cref="ActivationNameAttribute"/>, in its order.</summary>
    private static List<Registration> Discover() =>
        typeof(Activation).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(Activation).IsAssignableFrom(t))
            .Select(t => (Type: t, Info: t.GetCustomAttribute<ActivationNameAttribute>()))
            .Where(p => p.Info is not null)
            .Select(p => new Registration(p.Info!, p.Type))
            .OrderBy(r => r.Info.Order).ThenBy(r => r.Info.Name, StringComparer.Ordinal)
            .ToList();

    private static Dictionary<string, Registration> Index()
    {
        var index = new Dictionary<string, Registration>(StringComparer.OrdinalIgnoreCase);
        foreach (var r in Registered)
            foreach (var name in r.Info.Aliases.Prepend(r.Info.Name))
                index.Add(name, r);
        return index;
    }

    // ---- the activations ---------------------------------------------------------------------

    public static Activation ReLU { get; } = Create(nameof(ReLU));
    public static Activation Tanh { get; } = Create(nameof(Tanh));
    public static Activation Sigmoid { get; } = Create(nameof(Sigmoid));
    public static Activation GELU { get; } = Create(nameof(GELU));
    /// <summary>LeakyReLU with PyTorch's default negative slope 0.01 (what the name alone always meant).</summary>
    public static Activation LeakyReLU { get; } = Create(nameof(LeakyReLU));
    /// <summary>ELU with α = 1.</summary>
    public static Activation ELU { get; } = Create(nameof(ELU));
    public static Activation SiLU { get; } = Create(nameof(SiLU));
    /// <summary>Softplus with β = 1 and threshold 20 (PyTorch's defaults).</summary>
    public static Activation Softplus { get; } = Create(nameof(Softplus));
    public static Activation Identity { get; } = Create(nameof(Identity));

    /// <summary>Every name an activation answers to: the registered names in order, then the aliases.</summary>
    public static IReadOnlyList<string> Names { get; } =
        Registered.Select(r => r.Info.Name).Concat(Registered.SelectMany(r => r.Info.Aliases)).ToArray();

    /// <summary>The registered activations with their default parameters.</summary>
    internal static IReadOnlyList<Activation> Defaults { get; } = Registered.Select(r => Create(r.Info.Name)).ToArray();

    /// <summary>
    /// The activation <paramref name="name"/> (or an alias) with <paramref name="parameters"/>
    /// (null or empty: its defaults; fewer than it has: the rest default). Errors: UnknownActivation,
    /// ActivationParameterNotApplicable (too many parameters), InvalidActivationParameter (out of range).
    /// </summary>
    public static Activation Create(string name, IReadOnlyList<double>? parameters = null)
    {
        if (!ByName.TryGetValue(name ?? "", out var r))
            throw SparsePruneException.Argument("UnknownActivation",
                $"'{name}' is not an activation SparsePrune knows; it knows {string.Join(", ", Names)}.");
        var instance = (Activation)Activator.CreateInstance(r.Type, nonPublic: true)!;
        if (parameters is null || parameters.Count == 0) return instance;
        var names = instance.ParameterNames;
        if (parameters.Count > names.Count)
            throw SparsePruneException.Argument("ActivationParameterNotApplicable", names.Count == 0
                ? $"{r.Info.Name} takes no parameter; leave out -ActivationParameter (given {Join(parameters)})."
                : $"{r.Info.Name} takes at most {names.Count} parameter{(names.Count == 1 ? "" : "s")} ({string.Join(", ", names)}); given {parameters.Count} ({Join(parameters)}).");
        var all = instance._parameters.ToArray();
        for (int i = 0; i < parameters.Count; i++) all[i] = parameters[i];
        for (int i = 0; i < all.Length; i++)
            if (instance.Check(i, all[i]) is { } why)
                throw SparsePruneException.Argument("InvalidActivationParameter",
                    $"{r.Info.Name}'s {names[i]} is {Format(all[i])}; {why}.");
        return instance.With(all);
    }

    /// <summary>
    /// What New-Mlp's -Activation and -ActivationParameter give together: <paramref name="activation"/>
    /// (null: ReLU) with <paramref name="parameters"/> (null: its own). Parameters for no named
    /// activation, or for one already spelled with parameters, are ActivationParameterNotApplicable.
    /// </summary>
    internal static Activation Resolve(Activation? activation, IReadOnlyList<double>? parameters)
    {
        if (parameters is null) return activation ?? ReLU;
        if (activation is null)
            throw SparsePruneException.Argument("ActivationParameterNotApplicable",
                $"-ActivationParameter {Join(parameters)} needs -Activation: the default ReLU takes no parameter. Name the activation it is for, e.g. -Activation LeakyReLU -ActivationParameter 0.2.");
        if (activation.ToString() != activation.Name)
            throw SparsePruneException.Argument("ActivationParameterNotApplicable",
                $"-Activation {activation} already gives its parameters; leave out -ActivationParameter, or give -Activation {activation.Name} -ActivationParameter {Join(parameters)}.");
        return Create(activation.Name, parameters);
    }

    /// <summary>
    /// Reads a spelling: "LeakyReLU", "LeakyReLU(0.2)", "softplus(2, 10)" (names case-insensitive,
    /// numbers invariant culture). PowerShell converts a string argument with it. Errors as <see cref="Create"/>,
    /// and InvalidActivation for text that is not a name with optional parameters.
    /// </summary>
    public static Activation Parse(string text)
    {
        var s = (text ?? "").Trim();
        int open = s.IndexOf('(');
        if (open < 0) return Create(s);
        if (!s.EndsWith(')'))
            throw SparsePruneException.Argument("InvalidActivation", $"'{text}' is not an activation: write a name, or a name and its parameters, e.g. LeakyReLU(0.2).");
        var inner = s[(open + 1)..^1];
        var values = new List<double>();
        foreach (var part in inner.Split(','))
        {
            if (!double.TryParse(part.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                throw SparsePruneException.Argument("InvalidActivation", $"'{text}' is not an activation: '{part.Trim()}' is not a number (invariant culture, e.g. 0.2).");
            values.Add(v);
        }
        return Create(s[..open].Trim(), values);
    }

    /// <summary>Reads a spelling as files write it: exact name (no alias, no other case), else null.</summary>
    internal static Activation? FromFile(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        int open = text.IndexOf('(');
        var name = open < 0 ? text : text[..open];
        if (!Registered.Any(r => r.Info.Name == name)) return null;
        try { return Parse(text); }
        catch (SparsePruneException) { return null; }
    }

    // ---- what each activation defines ------------------------------------------------------------

    /// <summary>The registered name.</summary>
    public string Name => GetType().GetCustomAttribute<ActivationNameAttribute>()!.Name;

    /// <summary>The parameters, in <see cref="ParameterNames"/>' order (empty for most).</summary>
    public IReadOnlyList<double> Parameters => _parameters;

    /// <summary>The parameters' names, as PyTorch calls them.</summary>
    public virtual IReadOnlyList<string> ParameterNames => Array.Empty<string>();

    /// <summary>Why <paramref name="value"/> cannot be parameter <paramref name="index"/>, or null when it can.</summary>
    private protected virtual string? Check(int index, double value) => double.IsFinite(value) ? null : "it must be a finite number";

    /// <summary>The same activation with other parameters (already checked).</summary>
    private protected virtual Activation With(double[] parameters) => this;

    /// <summary>The activation of every element (the caller owns the result; it may be <paramref name="h"/> itself).</summary>
    internal abstract Tensor Forward(Tensor h);

    /// <summary>
    /// The activation applied in place to float values, for inference through the module's own
    /// kernels (no tensor per layer); false where only LibTorch computes it, the values then
    /// untouched. Where it returns true it gives LibTorch's values bit for bit.
    /// </summary>
    internal virtual bool TryForward(Span<float> values) => false;

    /// <summary>
    /// Multiplies <paramref name="gradient"/> in place by the activation's derivative at the inputs
    /// <paramref name="inputs"/> (what LibTorch's backward of it gives), for training through the
    /// module's own kernels; false where only LibTorch differentiates it, the gradient then untouched.
    /// </summary>
    internal virtual bool TryBackward(ReadOnlySpan<float> inputs, Span<float> gradient) => false;

    /// <summary>Whether <see cref="TryForward"/> and <see cref="TryBackward"/> both have a managed form.</summary>
    internal bool HasManagedForm => TryForward(Span<float>.Empty) && TryBackward(ReadOnlySpan<float>.Empty, Span<float>.Empty);

    /// <summary>The activation of one value (folding a constant neuron into the next bias; tests).</summary>
    internal abstract double Forward(double v);

    /// <summary>Adds the nodes that compute this activation of <paramref name="x"/>; returns the name of their output.</summary>
    /// <param name="prefix">What the node names start with (one prefix per layer, so names are unique).</param>
    internal abstract string WriteOnnx(IOnnxActivationWriter graph, string x, string prefix);

    /// <summary>
    /// This activation when the nodes reading <paramref name="x"/> (<paramref name="consumers"/>)
    /// compute it, as SparsePrune or another exporter writes it, with the parameters they hold;
    /// else null. Throws <see cref="IOnnxActivationGraph.Refuse"/> for this activation's op with
    /// settings it cannot hold.
    /// </summary>
    internal abstract OnnxActivationMatch? ReadOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers);

    /// <summary>The torch.nn module class that computes it (SafeTensors metadata, the Python side).</summary>
    internal virtual string TorchModule => Name;

    /// <summary>The module's keyword arguments, PyTorch's names: every parameter.</summary>
    internal virtual IEnumerable<(string Name, double Value)> TorchArguments => ParameterNames.Zip(_parameters);

    /// <summary>
    /// The keyword arguments as a JSON object: "{}", "{\"negative_slope\": 0.01}", "{\"alpha\": 1.0}"
    /// (whole numbers with ".0", so Python reads the floats PyTorch's modules hold).
    /// </summary>
    internal string TorchKwargs => "{" + string.Join(", ", TorchArguments.Select(a => $"\"{a.Name}\": {PythonFloat(a.Value)}")) + "}";

    private static string PythonFloat(double v)
    {
        var text = Format(v);
        return text.Contains('.') || text.Contains('E') ? text : text + ".0";
    }

    // ---- ONNX: every registered activation asked in turn ---------------------------------------------

    /// <summary>
    /// The activation the nodes reading <paramref name="x"/> compute, asking every registered
    /// activation; the one that takes the most nodes wins (SiLU's Sigmoid and Mul over a lone Sigmoid).
    /// </summary>
    internal static OnnxActivationMatch? MatchOnnx(IOnnxActivationGraph graph, string x, IReadOnlyList<IOnnxActivationNode> consumers)
    {
        OnnxActivationMatch? best = null;
        foreach (var a in Defaults)
            if (a.ReadOnnx(graph, x, consumers) is { } m && (best is null || m.Nodes.Count > best.Nodes.Count))
                best = m;
        return best;
    }

    /// <summary>The one node reading <paramref name="value"/>, when it is <paramref name="op"/>.</summary>
    private protected static IOnnxActivationNode? Single(IOnnxActivationGraph graph, string value, string op)
    {
        var c = graph.ConsumersOf(value);
        return c.Count == 1 && c[0].OpType == op && c[0].Output.Length > 0 ? c[0] : null;
    }

    /// <summary>The lone consumer in <paramref name="consumers"/> when it is <paramref name="op"/> reading <paramref name="x"/> alone.</summary>
    private protected static IOnnxActivationNode? Unary(IReadOnlyList<IOnnxActivationNode> consumers, string x, string op) =>
        consumers.Count == 1 && consumers[0].OpType == op && consumers[0].Inputs.Count >= 1 && consumers[0].Inputs[0] == x && consumers[0].Output.Length > 0
            ? consumers[0] : null;

    /// <summary>A binary node's other input than <paramref name="value"/> (null when it does not read it).</summary>
    private protected static string? Other(IOnnxActivationNode node, string value) =>
        node.Inputs.Count != 2 ? null : node.Inputs[0] == value ? node.Inputs[1] : node.Inputs[1] == value ? node.Inputs[0] : null;

    private protected static bool IsScalar(IOnnxActivationGraph graph, string? value, double expected) =>
        value is not null && graph.Scalar(value) is { } v && Math.Abs(v - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected));

    /// <summary>The shortest double that rounds to <paramref name="f"/>: an ONNX attribute 0.2f reads back as 0.2.</summary>
    private protected static double FromFloat(float f) => double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    /// <summary>Writes one node <paramref name="op"/> of <paramref name="x"/> named "{prefix}.act" (the name SparsePrune always gave it).</summary>
    private protected static string WriteNode(IOnnxActivationWriter graph, string op, string x, string prefix, params (string Name, float Value)[] attributes)
    {
        string y = prefix + ".act";
        graph.Node(op, new[] { x }, y, attributes);
        return y;
    }

    private protected static OnnxActivationMatch Match(Activation a, string output, params IOnnxActivationNode[] nodes) => new(a, nodes, output);

    // ---- equality, spelling ----------------------------------------------------------------------

    public bool Equals(Activation? other) =>
        other is not null && other.GetType() == GetType() && other._parameters.SequenceEqual(_parameters);

    /// <summary>
    /// Equal as far as float32 holds the parameters: an ONNX attribute keeps 0.123456789 as
    /// 0.12345679, so a file's stated activation and its graph's agree at that precision.
    /// </summary>
    internal bool EqualsAtFloatPrecision(Activation other) =>
        other.GetType() == GetType() && other._parameters.Select(v => (float)v).SequenceEqual(_parameters.Select(v => (float)v));

    /// <summary>
    /// Whether this activation, stated in a file's metadata, agrees with <paramref name="graph"/>,
    /// what the file's ONNX graph computes (which keeps parameters as float32, and may not hold
    /// them all: see Softplus).
    /// </summary>
    internal virtual bool AgreesWithGraph(Activation graph) => EqualsAtFloatPrecision(graph);

    public override bool Equals(object? obj) => Equals(obj as Activation);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(GetType());
        foreach (var p in _parameters) hash.Add(p);
        return hash.ToHashCode();
    }

    public static bool operator ==(Activation? a, Activation? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Activation? a, Activation? b) => !(a == b);

    /// <summary>The spelling files and messages use (see the class remarks).</summary>
    public override string ToString()
    {
        var defaults = ((Activation)Activator.CreateInstance(GetType(), nonPublic: true)!)._parameters;
        int last = _parameters.Length - 1;
        while (last >= 0 && _parameters[last].Equals(defaults[last])) last--;
        if (last < 0) return Name;
        var text = new StringBuilder(Name).Append('(');
        for (int i = 0; i <= last; i++) text.Append(i > 0 ? "," : "").Append(Format(_parameters[i]));
        return text.Append(')').ToString();
    }

    private protected static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Join(IEnumerable<double> values) => string.Join(", ", values.Select(Format));
}
