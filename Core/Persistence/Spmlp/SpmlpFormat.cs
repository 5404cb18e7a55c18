using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>
/// The .spmlp file format, version 4 (versions 1 to 3 are still read). A model with biases on
/// codebooks (Invoke-Quantization -BiasBits) is written as version 4; one with a quantized layer
/// and float32 biases as version 3, whose layout is version 4 without the bias-coded flag; any
/// other model as version 2, version 3 without the quantized flag, so that files of models that
/// do not use a newer feature stay as they were and earlier releases read them. An earlier
/// release refuses a version-4 file by its version ("reads versions 1 to 3"), never misreads it:
/// <code>
///   magic    8 bytes   89 'S' 'P' 'M' 'L' 'P' 0D 0A
///   version  uint16 LE (2, 3 or 4), then 2 reserved bytes
///   length   uint64 LE: payload bytes
///   reserved 4 bytes
///   payload  (integers little-endian)
///     preamble, plain (version 2, and version 3 where compressing does not pay):
///       metadata  int32 byte count, UTF-8 JSON (name, activation, task, seed, names, baseline, history)
///       offset    int32 count (-1: none), float32 values: the input normalization
///       scale     the same
///     preamble, compressed (version 3): int32 −(stream bytes), uint32 the plain preamble's bytes
///               (at most 64 MiB), then a Brotli stream that decodes to exactly the plain preamble
///     layers    int32 count, then per layer:
///       out, in   int32, int32
///       flags     byte: 1 masked (Set-Sparsity), 2 pruned (connections deleted, stored sparse),
///                 4 quantized (version 3 and later), 8 biases coded (version 4)
///       weights   not pruned: out × in float32, row-major;
///                 pruned: a position list of the present weights, then their float32 values in order;
///                 quantized: the position list if pruned, then a quantized section instead of the values
///       bias      out float32; biases coded (version 4): levels uint16 (1..256), levels float32 (the
///                 layer's bias codebook), coder byte (as a quantized section's), length uint32, then
///                 the out codes, code k being codebook[k], entropy-coded
///       mask      if masked: a position list of the masked weights, then the float32 values behind the mask
///   sha256   32 bytes over the payload
///
///   quantized section (version 3):
///     method    byte: the scheme's (<see cref="QuantizationScheme"/>): 0 KMeans, 1 Linear, 2 PowerOfTwo
///               (2 came later in version 3: an earlier reader refuses it as an unknown method)
///     bits      byte, 1..8
///     parameters, as the scheme writes them:
///     KMeans:   levels uint16 (at most 2^bits), then levels float32: the codebook
///     Linear:   out float32 row scales (finite, ≥ 0), then out int8 row zero points (in the bits' range)
///     PowerOfTwo: int8, the largest exponent E: the values are 0 and ±2^e for the 2^(bits−1) − 1
///               exponents e ≤ E (those ≥ −149)
///     coder     byte: 1 Huffman, 2 Deflate, 3 Brotli (see <see cref="CodeCoding"/>)
///     length    uint32: bytes of the coded stream
///     stream    the codes of the stored weights (pruned: the present ones, in the order of the
///               position list; otherwise all, row-major), entropy-coded.
///               KMeans code 0 is a zero weight, code k is codebook[k − 1] (alphabet levels + 1);
///               Linear code c is the level c − 2^(bits−1), the weight (level − zero point) × scale;
///               PowerOfTwo code c is the c-th of its values in ascending order (−2^E first).
///               A zero weight has a code rather than a zero-position list: dense and masked layers
///               hold many zeros the coder makes cheap, and a pruned layer whose present weights are
///               all non-zero never uses the code, so Huffman gives it no bits at all.
///     The metadata then carries no quantization (version 2 kept codebook and grids there, and
///     version 2 files that do still load, their weights checked against it).
///
///   position list:
///     count     uint32: positions listed
///     width     byte: bits 0..4 the code width, 1..16; bits 5..7 the coder, 0 in version 2:
///               0 packed, 1 Huffman, 2 Deflate, 3 Brotli (widths up to 8; see <see cref="PositionStream"/>)
///     codes     uint32: codes in the stream (listing codes and fillers)
///     length    coded only: uint32, bytes of the stream
///     stream    packed: ceil(codes × bits / 8) bytes, the relative index coding of <see cref="PositionCoding"/>;
///               coded: those codes as symbols 0..2^bits − 1, entropy-coded as a quantized layer's codes are
/// </code>
/// Weights are stored as their exact float32 bits (a quantized layer's as the codes of values that
/// decode to exactly those bits), so a round trip gives bit-identical outputs;
/// the positions not in a pruned layer's list are its deleted connections, exactly.
/// <see cref="LayerWeightBytes(Mlp)"/> gives each layer's weight bytes, which the compression
/// report calls StoredBytes.
/// </summary>
public static partial class SpmlpFormat
{
    public static readonly byte[] Magic = { 0x89, (byte)'S', (byte)'P', (byte)'M', (byte)'L', (byte)'P', 0x0D, 0x0A };
    /// <summary>The newest version: what <see cref="ToBytes"/> writes for a model whose biases are on codebooks.</summary>
    public const ushort FormatVersion = 4;
    /// <summary>What <see cref="ToBytes"/> writes for a model with a quantized layer and float32 biases.</summary>
    public const ushort QuantizedVersion = 3;
    /// <summary>What <see cref="ToBytes"/> writes for a model without quantized layers.</summary>
    public const ushort UnquantizedVersion = 2;
    /// <summary>The oldest version <see cref="FromBytes"/> reads.</summary>
    public const ushort OldestReadableVersion = 1;
    private const int HeaderSize = 24;
    private const int HashSize = 32;
    private const byte MaskedFlag = 1, PrunedFlag = 2, QuantizedFlag = 4, BiasCodedFlag = 8;
    // A metric can be infinite (a diverging regression): write it as "Infinity" rather than fail.
    // Null fields are left out (a reader of any release takes a missing field as null): 16 to 60
    // bytes of a compressed preamble, the history's null notes and metrics most of them.
    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        Converters = { new FixedWidthTimeConverter() },
    };

    /// <summary>
    /// Per layer, the bytes a model file spends on the layer's live weights: the weight values
    /// (4 bytes each: every weight of a dense layer, the present ones of a pruned layer), the
    /// position list's code stream of a pruned layer, and 4 bytes per bias. A quantized layer
    /// counts, instead of the values, its codebook (4 bytes a value) or grid (5 bytes a row) and
    /// its coded stream (a Huffman table included). Not counted: the fixed fields of each layer
    /// (shape and flags, 9 bytes; a position list's count, width and code count, 9 bytes; a
    /// quantized section's method, bits, level count, coder and length, 9 bytes at most), the mask section of a masked layer (a reversible mask saves nothing:
    /// the live weights are all still there), the metadata and the file header and checksum.
    /// These are the numbers <see cref="ToBytes"/> writes.
    /// </summary>
    public static long[] LayerWeightBytes(Mlp model)
    {
        bool coded = VersionFor(model) >= 3;
        return model.State.Select(l => LayerWeightBytes(l, coded)).ToArray();
    }

    /// <summary>The version <see cref="ToBytes"/> writes the model as.</summary>
    private static ushort VersionFor(Mlp model) =>
        model.State.Any(l => CodedBias(l) is not null) ? FormatVersion
        : model.State.Any(l => l.Quantization is not null) ? QuantizedVersion : UnquantizedVersion;

    /// <param name="coded">The file is version 3, whose position lists may be entropy-coded.</param>
    internal static long LayerWeightBytes(LayerState layer, bool coded)
    {
        long bias = CodedBias(layer) is { } cb ? 4L * cb.Codebook.Length + cb.Stream.Length : 4L * layer.OutFeatures;
        var present = layer.Deleted is null ? null : PositionCoding.PositionsOf(Bools(layer.Deleted), false);
        long positions = present is null ? 0 : PositionStream.Choose(present, coded).Stream.Length;
        // Weights changed behind a quantization's back cannot be coded (ToBytes refuses them); reported, they cost float32.
        if (layer.Quantization is { } q)
            try { return positions + q.Scheme.ParameterBytes(q) + Quantized(layer, Floats(layer.Weight), present, null).Stream.Length + bias; }
            catch (InvalidOperationException) { }
        return positions + 4L * (present?.Length ?? layer.DenseWeights) + bias;
    }

    public static byte[] ToBytes(Mlp model) => ToBytes(model, null);

    /// <summary>
    /// As <see cref="ToBytes(Mlp)"/>; <paramref name="coder"/> forces the coder of quantized layers' codes (null: the smallest).
    /// <paramref name="compact"/> false writes a version-3 file as the first ones were: plain metadata, packed positions (still read).
    /// </summary>
    internal static byte[] ToBytes(Mlp model, CodeCoder? coder, bool compact = true) => ToBytes(model, coder, compact, null);

    /// <summary>
    /// The model's bytes with a fixed save time: one model gives the same bytes in every process
    /// (a sweep's fingerprint, which its shards must agree on, is taken over them).
    /// </summary>
    internal static byte[] CanonicalBytes(Mlp model) => ToBytes(model, null, true, DateTime.UnixEpoch);

    private static byte[] ToBytes(Mlp model, CodeCoder? coder, bool compact, DateTime? saved)
    {
        ushort version = VersionFor(model);
        bool coded = version >= 3 && compact;
        using var payload = new MemoryStream();
        WritePayload(payload, model, coder, coded, saved, count: null);
        var body = payload.ToArray();
        var result = new byte[HeaderSize + body.Length + HashSize];
        Magic.CopyTo(result, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), version);
        BinaryPrimitives.WriteUInt64LittleEndian(result.AsSpan(12), (ulong)body.Length);
        body.CopyTo(result, HeaderSize);
        SHA256.HashData(body).CopyTo(result, HeaderSize + body.Length);
        return result;
    }

    /// <summary>
    /// The length of <see cref="ToBytes(Mlp)"/>'s result, counted by the same writer without the
    /// float32 values themselves (their length is known) or the checksum: a report of a model of
    /// tens of millions of weights need not copy them all to learn its file's size.
    /// </summary>
    internal static long CountBytes(Mlp model)
    {
        using var count = new CountingStream();
        WritePayload(count, model, null, VersionFor(model) >= 3, null, count);
        return HeaderSize + count.Length + HashSize;
    }

    /// <summary>
    /// Writes the payload (everything between the header and the checksum) to <paramref name="payload"/>;
    /// with <paramref name="count"/> (the same stream) float32 sections are counted, not written.
    /// </summary>
    private static void WritePayload(Stream payload, Mlp model, CodeCoder? coder, bool coded, DateTime? saved, CountingStream? count)
    {
        using (var w = new BinaryWriter(payload, Encoding.UTF8, leaveOpen: true))
        {
            void Floats32(float[]? values, int[]? positions, Func<float[]> read, long n)
            {
                if (count is null) WriteFloatsAt(w, values ?? read(), positions);
                else { w.Flush(); count.Advance(4 * n); }
            }
            WritePreamble(w, model, coded, saved);
            w.Write(model.LayerCount);
            foreach (var layer in model.State)
            {
                w.Write(layer.OutFeatures);
                w.Write(layer.InFeatures);
                var codedBias = CodedBias(layer);
                w.Write((byte)((layer.Keep is null ? 0 : MaskedFlag) | (layer.Deleted is null ? 0 : PrunedFlag) | (layer.Quantization is null ? 0 : QuantizedFlag) | (codedBias is null ? 0 : BiasCodedFlag)));
                // A quantized layer's codes are coded from the values, counted or not.
                var weights = count is null || layer.Quantization is not null ? Floats(layer.Weight) : null;
                int[]? present = null;
                if (layer.Deleted is not null)
                {
                    present = PositionCoding.PositionsOf(Bools(layer.Deleted), false);
                    WritePositions(w, present, coded);
                }
                if (layer.Quantization is { } q) WriteQuantized(w, q, Quantized(layer, weights!, present, coder));
                else Floats32(weights, present, () => Floats(layer.Weight), present?.Length ?? layer.DenseWeights);
                if (codedBias is not null) WriteCodedBias(w, codedBias);
                else Floats32(null, null, () => Floats(layer.Bias), layer.OutFeatures);
                if (layer.Keep is not null)
                {
                    // Read as bool whatever the mask's dtype: true keeps, false masks.
                    var masked = PositionCoding.PositionsOf(Bools(layer.Keep), false);
                    WritePositions(w, masked, coded);
                    Floats32(null, masked, () => Floats(layer.MaskedValues!), masked.Length);
                }
            }
        }
    }

    /// <summary>Writes atomically (temporary file, then rename); refuses to replace a file unless <paramref name="force"/>.</summary>
    public static void Save(Mlp model, string path, bool force)
    {
        var full = ModelFile.CheckTarget(path, force, model.Name + ".spmlp");
        var bytes = ToBytes(model);
        ModelFile.WriteAtomically(full, force, s => s.Write(bytes));
    }

    public static Mlp Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new SparsePruneException("ModelFileNotFound", ErrorKind.ObjectNotFound, $"There is no model file '{full}'.");
        return FromBytes(File.ReadAllBytes(full), full);
    }

    public static Mlp FromBytes(byte[] bytes, string source = "the data")
    {
        if (bytes.Length < Magic.Length && bytes.Length > 0 && Magic.AsSpan(0, bytes.Length).SequenceEqual(bytes))
            throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated: it ends inside the file signature.");
        if (bytes.Length < Magic.Length || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw SparsePruneException.BadData("NotAModelFile", $"{source} is not a SparsePrune model file (its first bytes are not the .spmlp signature).");
        if (bytes.Length < HeaderSize)
            throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated: it ends inside the header.");
        var version = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        if (version < OldestReadableVersion || version > FormatVersion)
            throw new SparsePruneException("UnsupportedModelVersion", ErrorKind.NotSupported,
                $"{source} has format version {version}; this SparsePrune reads versions {OldestReadableVersion} to {FormatVersion}. Use the SparsePrune version that wrote it.");
        var length = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(12));
        if (length > (ulong)bytes.Length || (ulong)bytes.Length < HeaderSize + length + HashSize)
            throw SparsePruneException.BadData("TruncatedModelFile", $"{source} is truncated: {bytes.Length} bytes, the header promises {HeaderSize + (decimal)length + HashSize}.");
        if ((ulong)bytes.Length > HeaderSize + length + HashSize)
            throw SparsePruneException.BadData("CorruptModelFile", $"{source} has {bytes.Length - (long)(HeaderSize + (long)length + HashSize)} bytes after its end.");
        var body = new ArraySegment<byte>(bytes, HeaderSize, (int)length);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(HeaderSize + (int)length, HashSize)))
            throw SparsePruneException.BadData("CorruptModelFile", $"{source} is damaged: its checksum does not match its contents.");
        try
        {
            return Parse(new SpmlpCursor(body), version);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException or NullReferenceException or OverflowException or IndexOutOfRangeException)
        {
            throw new SparsePruneException("CorruptModelFile", ErrorKind.InvalidData, $"{source} passed its checksum but could not be read: {e.Message}", e);
        }
    }

    private static Mlp Parse(SpmlpCursor r, ushort version)
    {
        var (meta, offset, scale) = ReadPreamble(r, version);
        int count = r.Count("the layer count");
        var layers = new List<LayerState>();
        try
        {
            long total = 0;
            for (int i = 0; i < count; i++)
            {
                int outF = r.Int32(), inF = r.Int32();
                if (outF <= 0 || inF <= 0 || outF > Mlp.MaxWidth || inF > Mlp.MaxWidth) throw new FormatException($"layer {i} has shape {outF}x{inF}");
                if (i > 0 && layers[i - 1].OutFeatures != inF) throw new FormatException($"layer {i} takes {inF} inputs but layer {i - 1} has {layers[i - 1].OutFeatures} outputs");
                long n = (long)outF * inF;
                total += n;
                if (total > Mlp.MaxWeights) throw new FormatException($"the layers up to layer {i} hold {total} weights, more than the limit of {Mlp.MaxWeights}");
                // A pruned layer's file bytes grow with its present weights only, so a small file can
                // describe large layers: check the memory they take before allocating it (about 18
                // bytes a weight while reading: the values, the deletions, a mask, the values behind
                // it and the tensors made from them), so that loading fails with a message instead
                // of the process being killed for memory.
                long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
                if (available > 0 && total > available / 18)
                    throw new SparsePruneException("ModelTooLarge", ErrorKind.InvalidData,
                        $"The model file describes {total} weights up to layer {i}; reading them takes about {total * 18 / (1 << 20)} MiB and this process can use {available / (1 << 20)} MiB.");
                byte flags = r.Byte();
                if ((flags & ~(MaskedFlag | PrunedFlag | (version >= 3 ? QuantizedFlag : 0) | (version >= 4 ? BiasCodedFlag : 0))) != 0) throw new FormatException($"layer {i} has unknown flags {flags}");
                var layer = version == 1 ? ReadLayerV1(r, i, outF, inF, flags) : ReadLayer(r, i, outF, inF, flags, version);
                layers.Add(layer);
            }
            if (r.Remaining != 0) throw new FormatException($"{r.Remaining} bytes follow the last layer");
            if (layers.Count == 0) throw new FormatException("no layers");
            if ((offset?.Length ?? layers[0].InFeatures) != layers[0].InFeatures || (scale?.Length ?? layers[0].InFeatures) != layers[0].InFeatures
                || (offset is null) != (scale is null) || (scale is not null && !scale.All(v => float.IsFinite(v) && v != 0)))
                throw new FormatException("the input normalization does not fit the first layer");
            if (meta.Baseline is { } b && (b.LayerWeights.Length != layers.Count || b.LayerNeurons.Length != layers.Count))
                throw new FormatException($"the baseline describes {b.LayerWeights.Length} layers, the file has {layers.Count}");
            var activation = Activation.FromFile(meta.Activation) ?? throw new FormatException($"it names the activation '{meta.Activation}', which this SparsePrune does not know");
            var model = new Mlp(meta.Name, activation, Enum.Parse<TaskKind>(meta.Task), meta.Seed, layers)
            {
                FeatureNames = meta.FeatureNames,
                ClassNames = meta.ClassNames,
                Scaling = offset is null ? null : new InputScaling(Enum.Parse<Normalization>(meta.InputNormalization), offset, scale!),
                Baseline = meta.Baseline,
                DatasetNameFromFile = meta.DatasetName,
            };
            if (meta.Kernels is { } kernels)
            {
                if (kernels.Length != layers.Count) throw new FormatException($"the kernel choices describe {kernels.Length} layers, the file has {layers.Count}");
                for (int i = 0; i < kernels.Length; i++)
                    layers[i].Kernel = Enum.TryParse<LayerKernel>(kernels[i], out var k) && Enum.IsDefined(k) && !int.TryParse(kernels[i], out _)
                        ? k : throw new FormatException($"layer {i} names an unknown kernel '{kernels[i]}'");
            }
            if (meta.Quantization is not null && version >= 3)
                throw new FormatException("the metadata describes a quantization; a version 3 file keeps it in the layer sections");
            if (meta.Quantization is { } quantization)
            {
                if (quantization.Length != layers.Count) throw new FormatException($"the quantization describes {quantization.Length} layers, the file has {layers.Count}");
                for (int i = 0; i < quantization.Length; i++)
                {
                    if (quantization[i] is not { } record) continue;
                    var w = new float[layers[i].DenseWeights];
                    NativeCopy.ToArray(layers[i].Weight, w);
                    layers[i].Quantization = record.ToQuantization(i, w, layers[i].OutFeatures, layers[i].InFeatures);
                }
            }
            if (meta.NeuronOrigins is { } origins)
            {
                if (origins.Length != layers.Count) throw new FormatException($"the neuron origins describe {origins.Length} layers, the file has {layers.Count}");
                for (int i = 0; i < origins.Length; i++)
                    if (origins[i] is { } o && (o.Length != layers[i].OutFeatures || o.Any(v => v < 0) || (meta.Baseline is { } bl && o.Any(v => v >= bl.LayerNeurons[i]))))
                        throw new FormatException($"the neuron origins of layer {i} do not fit its {layers[i].OutFeatures} neurons");
                model.Origins = new NeuronOrigins { Layers = origins };
            }
            model.RestoreHistory(meta.History);
            return model;
        }
        catch
        {
            foreach (var l in layers) l.Dispose();
            throw;
        }
    }

    /// <summary>Versions 2 and 3: dense or position-coded weights (in version 3 maybe quantized), the bias, the position-coded mask.</summary>
    private static LayerState ReadLayer(SpmlpCursor r, int i, int outF, int inF, byte flags, ushort version)
    {
        long n = (long)outF * inF;
        float[] weights;
        int[]? present = null;
        LayerQuantization? quantization = null;
        if ((flags & PrunedFlag) != 0) present = ReadPositions(r, n, $"layer {i}'s list of present weights", version);
        if ((flags & QuantizedFlag) != 0) (weights, quantization) = ReadQuantized(r, i, outF, inF, present);
        else if (present is not null)
        {
            weights = new float[n];
            ReadFloatsAt(r, weights, present, $"layer {i}'s weights");
        }
        else
        {
            weights = new float[r.Fits(n, 4, $"layer {i}'s weights")];
            ReadFloatsAt(r, weights, null, $"layer {i}'s weights");
        }
        float[] bias;
        float[]? biasCodebook = null;
        if ((flags & BiasCodedFlag) != 0) (bias, biasCodebook) = ReadCodedBias(r, i, outF);
        else
        {
            bias = new float[r.Fits(outF, 4, $"layer {i}'s biases")];
            ReadFloatsAt(r, bias, null, $"layer {i}'s biases");
        }
        if (!weights.All(float.IsFinite) || !bias.All(float.IsFinite)) throw new FormatException($"layer {i} holds NaN or infinite values");
        int[]? masked = null;
        float[]? hidden = null;
        if ((flags & MaskedFlag) != 0)
        {
            masked = ReadPositions(r, n, $"layer {i}'s list of masked weights", version);
            hidden = new float[n];
            ReadFloatsAt(r, hidden, masked, $"layer {i}'s values behind the mask");
            if (!hidden.All(float.IsFinite)) throw new FormatException($"layer {i} holds NaN or infinite values behind its mask");
        }
        var layer = BuildLayer(outF, inF, weights, bias, AllBut(n, present), AllBut(n, masked), hidden);
        layer.Quantization = quantization;
        layer.BiasCodebook = biasCodebook;
        return layer;
    }

    /// <summary>n flags, all true but at <paramref name="positions"/> (null when there is no list).</summary>
    private static bool[]? AllBut(long n, int[]? positions)
    {
        if (positions is null) return null;
        var flags = new bool[n];
        Array.Fill(flags, true);
        foreach (var p in positions) flags[p] = false;
        return flags;
    }

    /// <summary>Version 1: bitmaps of deleted and masked weights.</summary>
    private static LayerState ReadLayerV1(SpmlpCursor r, int i, int outF, int inF, byte flags)
    {
        long n = (long)outF * inF;
        bool[]? deleted = (flags & PrunedFlag) != 0 ? ReadBits(r, n, $"layer {i}'s deletions") : null;
        var present = deleted is null ? null : PositionCoding.PositionsOf(deleted, false);
        var weights = new float[deleted is null ? r.Fits(n, 4, $"layer {i}'s weights") : n];
        ReadFloatsAt(r, weights, present, $"layer {i}'s weights");
        var bias = new float[r.Fits(outF, 4, $"layer {i}'s biases")];
        ReadFloatsAt(r, bias, null, $"layer {i}'s biases");
        if (!weights.All(float.IsFinite) || !bias.All(float.IsFinite)) throw new FormatException($"layer {i} holds NaN or infinite values");
        bool[]? keep = null;
        float[]? hidden = null;
        if ((flags & MaskedFlag) != 0)
        {
            var masked = ReadBits(r, n, $"layer {i}'s mask");
            hidden = new float[n];
            ReadFloatsAt(r, hidden, PositionCoding.PositionsOf(masked, true), $"layer {i}'s values behind the mask");
            keep = masked.Select(m => !m).ToArray();
        }
        return BuildLayer(outF, inF, weights, bias, deleted, keep, hidden);
    }

    private static LayerState BuildLayer(int outF, int inF, float[] weights, float[] bias, bool[]? deleted, bool[]? keep, float[]? hidden)
    {
        var shape = new long[] { outF, inF };
        if (keep is not null)
        {
            // What Set-Sparsity relies on when it moves values behind a mask and back: a masked
            // weight reads 0 and is not deleted, a weight not masked has nothing behind it.
            for (int k = 0; k < keep.Length; k++)
            {
                if (!keep[k] && (weights[k] != 0f || deleted?[k] == true))
                    throw new FormatException($"weight {k} of the {outF}x{inF} layer is masked but {(weights[k] != 0f ? "not zero" : "deleted")}");
                if (keep[k] && hidden![k] != 0f)
                    throw new FormatException($"weight {k} of the {outF}x{inF} layer is not masked but has a value behind the mask");
            }
        }
        using var scope = NewDisposeScope();
        var layer = new LayerState(tensor(weights, shape).DetachFromDisposeScope(), tensor(bias, new long[] { outF }).DetachFromDisposeScope());
        if (deleted is not null) layer.SetDeleted(tensor(deleted, shape).DetachFromDisposeScope());
        if (keep is not null)
            layer.SetMask(tensor(keep, shape).to_type(LayerState.MaskType).DetachFromDisposeScope(), tensor(hidden!, shape).DetachFromDisposeScope());
        return layer;
    }

    /// <summary>A tensor's values as float32, copied to managed memory.</summary>
    private static float[] Floats(Tensor t) { using var scope = NewDisposeScope(); return t.detach().to_type(ScalarType.Float32).cpu().contiguous().data<float>().ToArray(); }

    /// <summary>A tensor's values as bool (non-zero is true), whatever its dtype.</summary>
    private static bool[] Bools(Tensor t) { using var scope = NewDisposeScope(); return t.detach().to_type(ScalarType.Bool).cpu().contiguous().data<bool>().ToArray(); }

    /// <summary>Writes the float32 bits of <paramref name="values"/> at <paramref name="positions"/> (all when null), little-endian.</summary>
    private static void WriteFloatsAt(BinaryWriter w, float[] values, int[]? positions)
    {
        int count = positions?.Length ?? values.Length;
        var buffer = new byte[4L * count];
        for (int k = 0; k < count; k++)
            BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * k), values[positions is null ? k : positions[k]]);
        w.Write(buffer);
    }

    /// <summary>Fills <paramref name="values"/> at <paramref name="positions"/> (all when null) from the file; the rest stay 0.</summary>
    private static void ReadFloatsAt(SpmlpCursor r, float[] values, int[]? positions, string what)
    {
        int count = positions?.Length ?? values.Length;
        var bytes = r.Bytes(4L * count, what);
        for (int k = 0; k < count; k++)
            values[positions is null ? k : positions[k]] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * k));
    }

    private static void WriteOptionalFloats(BinaryWriter w, float[]? values)
    {
        w.Write(values?.Length ?? -1);
        if (values is null) return;
        foreach (var v in values) w.Write(v);
    }

    private static float[]? ReadOptionalFloats(SpmlpCursor r, string what)
    {
        int n = r.Int32();
        if (n < 0) return null;
        var values = new float[r.Fits(n, 4, what)];
        ReadFloatsAt(r, values, null, what);
        return values;
    }

}
