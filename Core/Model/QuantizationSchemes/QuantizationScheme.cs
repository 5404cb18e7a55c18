using System.Reflection;

namespace SparsePrune;

/// <summary>
/// A way to quantize a layer's weights, one small class per scheme as the importance criteria
/// are: it fits its levels to a layer's weights, maps values to codes and codes to values (the
/// only place that grid arithmetic is written), knows its alphabet and writes and reads the few
/// numbers a file keeps for it. A code is what a .spmlp file stores per weight, 0 to
/// <see cref="Alphabet"/> − 1; every scheme codes 0 so that zeros stay zeros. Instances are
/// stateless singletons: a layer's numbers live in its <see cref="LayerQuantization"/>.
/// </summary>
internal abstract class QuantizationScheme
{
    /// <summary>Most bits a weight takes in any scheme: a code fits a byte, and a .spmlp section's bits field checks against it.</summary>
    public const int MaxBits = 8;

    private static readonly IReadOnlyList<QuantizationScheme> Registry = Discover();

    /// <summary>Every non-abstract subclass marked with <see cref="QuantizationSchemeAttribute"/>, in file-code order.</summary>
    private static List<QuantizationScheme> Discover()
    {
        var schemes = typeof(QuantizationScheme).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(QuantizationScheme).IsAssignableFrom(t) && t.GetCustomAttribute<QuantizationSchemeAttribute>() is not null)
            .Select(t => (QuantizationScheme)Activator.CreateInstance(t, nonPublic: true)!)
            .OrderBy(s => s.FileCode)
            .ToList();
        // A file's method byte and a request's name must each find one scheme.
        var clash = schemes.GroupBy(s => s.FileCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Concat(schemes.GroupBy(s => s.Name)).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new InvalidOperationException($"Two quantization schemes are registered as {clash.Key}: {string.Join(", ", clash.Select(s => s.GetType().Name))}.");
        return schemes;
    }

    protected QuantizationScheme()
    {
        var attribute = GetType().GetCustomAttribute<QuantizationSchemeAttribute>();
        Name = attribute?.Name ?? GetType().Name;
        FileCode = attribute?.FileCode ?? byte.MaxValue;
    }

    /// <summary>Every registered scheme.</summary>
    public static IReadOnlyList<QuantizationScheme> All => Registry;

    /// <summary>The scheme registered as <paramref name="name"/> (exact case, as files spell it); null when none is.</summary>
    public static QuantizationScheme? Named(string name) => Registry.FirstOrDefault(s => s.Name == name);

    /// <summary>The scheme whose .spmlp method byte is <paramref name="code"/>; null when none is.</summary>
    public static QuantizationScheme? ForFileCode(int code) => Registry.FirstOrDefault(s => s.FileCode == code);

    public string Name { get; }
    public byte FileCode { get; }

    /// <summary>Fewest bits the scheme makes sense with (the most is <see cref="MaxBits"/>).</summary>
    public abstract int MinBits { get; }

    /// <summary>Bits when the request names none.</summary>
    public abstract int DefaultBits { get; }

    /// <summary>
    /// Whether the layer's values are shared values, held in <see cref="LayerQuantization.Codebook"/>,
    /// that training can move together (Deep Compression's fine-tuning, in Training);
    /// a grid has none, and training would leave it.
    /// </summary>
    public virtual bool HasSharedValues => false;

    /// <summary>What a refusal calls a layer of this scheme ("a linear grid").</summary>
    public abstract string Noun { get; }

    /// <summary>The quantization of a layer of <paramref name="weights"/> (row-major, out × in) to <paramref name="bits"/> bits.</summary>
    public abstract LayerQuantization Fit(float[] weights, int outF, int inF, int bits);

    /// <summary>Values a present non-zero weight can take.</summary>
    public abstract int Levels(LayerQuantization q);

    /// <summary>Codes of the layer: the values a weight can take, zero included.</summary>
    public virtual int Alphabet(LayerQuantization q) => Levels(q);

    /// <summary>The code of the level nearest to <paramref name="v"/> in row <paramref name="row"/> (0 codes 0).</summary>
    public abstract int Code(LayerQuantization q, int row, float v);

    /// <summary>The value of <paramref name="code"/> in row <paramref name="row"/>.</summary>
    public abstract float Value(LayerQuantization q, int row, int code);

    /// <summary>The quantized value of <paramref name="v"/>: the value of its code.</summary>
    public float Round(LayerQuantization q, int row, float v) => Value(q, row, Code(q, row, v));

    /// <summary>Whether <paramref name="v"/> is one of row <paramref name="row"/>'s values (what a file's reader checks every weight against).</summary>
    public bool OnGrid(LayerQuantization q, int row, float v) => Round(q, row, v) == v;

    /// <summary>What a refusal says of a weight that is not on the grid ("not in its codebook").</summary>
    public abstract string OffGrid { get; }

    /// <summary>Bytes of the numbers a .spmlp file keeps for the layer (what a report counts for them).</summary>
    public abstract long ParameterBytes(LayerQuantization q);

    /// <summary>Writes those numbers (a .spmlp version-3 section, after the method and bits bytes).</summary>
    public abstract void WriteParameters(BinaryWriter w, LayerQuantization q);

    /// <summary>Reads them back for a layer of <paramref name="outF"/> rows; FormatException naming <paramref name="layer"/> ("layer 2") when they do not fit.</summary>
    public abstract LayerQuantization ReadParameters(IByteSource r, int bits, int outF, string layer);

    /// <summary>
    /// The quantization a .spmlp version-2 metadata record describes (its fields are a
    /// <see cref="LayerQuantization"/>'s), checked for <paramref name="outF"/> rows; FormatException
    /// when it does not fit. Version 2 knew KMeans and Linear only: other schemes refuse.
    /// </summary>
    public virtual LayerQuantization FromVersion2(int bits, float[]? codebook, float[]? rowScales, int[]? rowZeroPoints, int outF, string layer) =>
        throw new FormatException($"{layer} names the quantization method '{Name}', which a version 2 file cannot hold");

    /// <summary>One line for reports and history notes ("KMeans 4-bit (14 values)").</summary>
    public abstract string Describe(LayerQuantization q);

    public override string ToString() => Name;
}
