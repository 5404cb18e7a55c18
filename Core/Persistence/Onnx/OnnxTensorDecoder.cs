using System.Buffers.Binary;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace SparsePrune;

/// <summary>
/// Turns ONNX tensors (dense <c>TensorProto</c>, <c>SparseTensorProto</c>) into
/// <see cref="OnnxConstant"/>s. Every size is checked against the data the file holds before
/// anything is allocated; data kept outside the file is refused.
/// </summary>
internal static class OnnxTensorDecoder
{
    /// <summary>A dense tensor. Floating point data (FLOAT, DOUBLE) becomes floats; other types are checked and kept without values.</summary>
    public static OnnxConstant Dense(TensorProto t, string name, string source)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External || t.ExternalData.Count > 0)
        {
            var file = t.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value;
            throw OnnxReadErrors.Unsupported(source,
                $"tensor '{name}' keeps its data in an external file{(file is null ? "" : $" ('{file}')")} (data_location EXTERNAL); SparsePrune reads only tensors stored inside the .onnx file " +
                "(in Python: onnx.save_model(onnx.load(path), path2, save_as_external_data=False))");
        }
        if (t.Segment is not null)
            throw OnnxReadErrors.Unsupported(source, $"tensor '{name}' is one segment of a larger tensor; SparsePrune reads whole tensors only");
        var dims = t.Dims.ToArray();
        long count = ElementCount(dims, name, source);
        var type = TypeName(t.DataType);
        bool hasRaw = t.HasRawData;

        switch ((DataType)t.DataType)
        {
            case DataType.Float:
            {
                CheckCount(name, source, count, hasRaw, t.RawData.Length, 4, t.FloatData.Count, "float_data");
                float[] v;
                if (hasRaw)
                {
                    var raw = t.RawData.Span;
                    v = new float[count];
                    for (long i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice((int)(4 * i), 4));
                }
                else v = t.FloatData.ToArray();
                return Finite(new OnnxConstant(name, dims, type, v, null), source);
            }
            case DataType.Double:
            {
                CheckCount(name, source, count, hasRaw, t.RawData.Length, 8, t.DoubleData.Count, "double_data");
                var v = new float[count];
                if (hasRaw)
                {
                    var raw = t.RawData.Span;
                    for (long i = 0; i < count; i++) v[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice((int)(8 * i), 8));
                }
                else
                    for (int i = 0; i < v.Length; i++) v[i] = (float)t.DoubleData[i];
                return Finite(new OnnxConstant(name, dims, type, v, null), source);
            }
            case DataType.Int64:
            {
                CheckCount(name, source, count, hasRaw, t.RawData.Length, 8, t.Int64Data.Count, "int64_data");
                long[] v;
                if (hasRaw)
                {
                    var raw = t.RawData.Span;
                    v = new long[count];
                    for (long i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt64LittleEndian(raw.Slice((int)(8 * i), 8));
                }
                else v = t.Int64Data.ToArray();
                return new OnnxConstant(name, dims, type, null, null) { Integers = v };
            }
            case DataType.Int32:
            {
                CheckCount(name, source, count, hasRaw, t.RawData.Length, 4, t.Int32Data.Count, "int32_data");
                var v = new long[count];
                if (hasRaw)
                {
                    var raw = t.RawData.Span;
                    for (long i = 0; i < count; i++) v[i] = BinaryPrimitives.ReadInt32LittleEndian(raw.Slice((int)(4 * i), 4));
                }
                else
                    for (int i = 0; i < v.Length; i++) v[i] = t.Int32Data[i];
                return new OnnxConstant(name, dims, type, null, null) { Integers = v };
            }
            case DataType.String:
            {
                if (hasRaw)
                    throw OnnxReadErrors.Corrupt(source, $"tensor '{name}' is a STRING tensor with raw_data; strings are stored in string_data");
                if (t.StringData.Count != count)
                    throw OnnxReadErrors.Corrupt(source, $"tensor '{name}' has {t.StringData.Count} values in string_data, but its shape needs {count}");
                return new OnnxConstant(name, dims, type, null, null) { Strings = t.StringData.Select(b => b.ToStringUtf8()).ToArray() };
            }
            case DataType.Uint64:
                CheckCount(name, source, count, hasRaw, t.RawData.Length, 8, t.Uint64Data.Count, "uint64_data");
                break;
            case DataType.Int16 or DataType.Int8 or DataType.Uint16 or DataType.Uint8 or DataType.Bool:
            {
                var dt = (DataType)t.DataType;
                int size = ByteSize(dt);
                CheckCount(name, source, count, hasRaw, t.RawData.Length, size, t.Int32Data.Count, "int32_data");
                var v = new long[count];
                var raw = t.RawData.Span;
                for (int i = 0; i < v.Length; i++)
                    v[i] = !hasRaw ? t.Int32Data[i] : dt switch
                    {
                        DataType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(raw.Slice(2 * i, 2)),
                        DataType.Uint16 => BinaryPrimitives.ReadUInt16LittleEndian(raw.Slice(2 * i, 2)),
                        DataType.Int8 => (sbyte)raw[i],
                        _ => raw[i],
                    };
                return new OnnxConstant(name, dims, type, null, null) { Integers = v };
            }
            case DataType.Float16 or DataType.Bfloat16:
                CheckCount(name, source, count, hasRaw, t.RawData.Length, 2, t.Int32Data.Count, "int32_data");
                break;
            case DataType.Undefined:
                throw OnnxReadErrors.Corrupt(source, $"tensor '{name}' has no data type");
            default:
                // complex numbers, unsigned 32-bit, types newer than onnx 1.12: never an MLP's weights.
                break;
        }
        return new OnnxConstant(name, dims, type, null, null);
    }

    /// <summary>
    /// A sparse tensor, densified: zeros where the file lists nothing, <see cref="OnnxConstant.Present"/>
    /// marking the listed positions. Indices come in either ONNX form: [NNZ] linear positions or
    /// [NNZ, rank] coordinates.
    /// </summary>
    public static OnnxConstant Sparse(SparseTensorProto s, string name, string source)
    {
        if (s.Values is null)
            throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}' has no values");
        var values = Dense(s.Values, name, source);
        var dims = s.Dims.ToArray();
        long count = ElementCount(dims, name, source);
        if (values.Values is null)
            return new OnnxConstant(name, dims, values.DataType, null, null);
        if (values.Rank != 1)
            throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}' has values of shape {values.Shape}; they must be a list [NNZ]");
        long nnz = values.Values.LongLength;
        if (nnz > count)
            throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}' lists {nnz} values for a shape {Dense(dims)} of {count} elements");
        // The dense copy is the only allocation not bounded by the file's size: the same limits as a model's layers.
        if (count > Mlp.MaxWeights || count > Array.MaxLength)
            throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}' has shape {Dense(dims)}, {count} elements; the limit is {Mlp.MaxWeights}");

        long[] positions;
        if (nnz == 0 && s.Indices is null) positions = Array.Empty<long>();
        else
        {
            if (s.Indices is null) throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}' has {nnz} values but no indices");
            var index = Int64s(s.Indices, name, source);
            var indexDims = s.Indices.Dims.ToArray();
            if (indexDims.Length == 1 && indexDims[0] == nnz)
                positions = index;
            else if (indexDims.Length == 2 && indexDims[0] == nnz && indexDims[1] == dims.Length)
            {
                positions = new long[nnz];
                for (long k = 0; k < nnz; k++)
                {
                    long at = 0;
                    for (int d = 0; d < dims.Length; d++)
                    {
                        long c = index[k * dims.Length + d];
                        if (c < 0 || c >= dims[d])
                            throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}': value {k} has coordinate {c} on axis {d}, outside its shape {Dense(dims)}");
                        at = at * dims[d] + c;
                    }
                    positions[k] = at;
                }
            }
            else
                throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}' has indices of shape {Dense(indexDims)}; with {nnz} values they must be [{nnz}] or [{nnz}, {dims.Length}]");
        }

        var dense = new float[count];
        var present = new bool[count];
        for (long k = 0; k < nnz; k++)
        {
            long p = positions[k];
            if (p < 0 || p >= count)
                throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}': value {k} is at position {p}, outside its {count} elements");
            if (present[p])
                throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}' lists position {p} twice");
            present[p] = true;
            dense[p] = values.Values[k];
        }
        return new OnnxConstant(name, dims, values.DataType, dense, present);
    }

    /// <summary>The values of an INT64 tensor (sparse indices).</summary>
    private static long[] Int64s(TensorProto t, string name, string source)
    {
        if ((DataType)t.DataType != DataType.Int64)
            throw OnnxReadErrors.Corrupt(source, $"sparse tensor '{name}' has indices of type {TypeName(t.DataType)}; ONNX requires INT64");
        return Dense(t, name + " (indices)", source).Integers!;
    }

    /// <summary>The number of elements of <paramref name="dims"/>, refusing negative sizes and overflow.</summary>
    private static long ElementCount(long[] dims, string name, string source)
    {
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0) throw OnnxReadErrors.Corrupt(source, $"tensor '{name}' has shape {Dense(dims)}, with a negative size");
            try { count = checked(count * d); }
            catch (OverflowException) { throw OnnxReadErrors.Corrupt(source, $"tensor '{name}' has shape {Dense(dims)}, too many elements to count"); }
        }
        return count;
    }

    /// <summary>The data present must be exactly what the shape needs: raw bytes or the typed field, not both.</summary>
    private static void CheckCount(string name, string source, long count, bool hasRaw, int rawBytes, int elementSize, int typedCount, string typedField)
    {
        if (hasRaw && typedCount > 0)
            throw OnnxReadErrors.Corrupt(source, $"tensor '{name}' has both raw_data and {typedField}");
        if (hasRaw && (rawBytes % elementSize != 0 || rawBytes / elementSize != count))
            throw OnnxReadErrors.Corrupt(source, $"tensor '{name}' has {rawBytes} bytes of raw_data, but its shape needs {count} elements of {elementSize} bytes");
        if (!hasRaw && typedCount != count)
            throw OnnxReadErrors.Corrupt(source, $"tensor '{name}' has {typedCount} values in {typedField}, but its shape needs {count}");
    }

    private static OnnxConstant Finite(OnnxConstant c, string source)
    {
        foreach (var v in c.Values!)
            if (!float.IsFinite(v))
                throw OnnxReadErrors.Corrupt(source, $"tensor '{c.Name}' holds NaN or infinite values{(c.DataType == "DOUBLE" ? " (or doubles beyond the float range)" : "")}");
        return c;
    }

    private static int ByteSize(DataType t) => t switch
    {
        DataType.Int32 => 4,
        DataType.Int16 or DataType.Uint16 or DataType.Float16 or DataType.Bfloat16 => 2,
        _ => 1,
    };

    public static string TypeName(int dataType) =>
        Enum.IsDefined(typeof(DataType), dataType) ? ((DataType)dataType).ToString().ToUpperInvariant() : $"type {dataType}";

    private static string Dense(long[] dims) => "[" + string.Join(", ", dims) + "]";
}
