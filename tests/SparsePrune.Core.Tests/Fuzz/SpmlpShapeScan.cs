using System.Buffers.Binary;
using System.Numerics;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// A lenient walk over a .spmlp file's layer headers, versions 1 to 3, damaged or not: where
/// each layer starts and how many weights the shapes it reaches declare. Unlike
/// <see cref="SpmlpReferenceReader.Parse"/> it decodes nothing and trusts every count, and it stops quietly
/// where the bytes end: it finds a version 1 seed's fields, and the weights a damaged file
/// may make the reader allocate for.
/// </summary>
internal static class SpmlpShapeScan
{
    public sealed record Layout(int LayerCountOffset, int[] LayerStarts, long DeclaredWeights);

    public static Layout Scan(byte[] file)
    {
        var starts = new List<int>();
        long total = 0, at = SpmlpReferenceReader.Header, end = file.Length - SpmlpReferenceReader.Hash;
        int countAt = -1;
        ReadOnlySpan<byte> Take(long n)
        {
            if (n < 0 || at + n > end) throw new IndexOutOfRangeException();
            var span = file.AsSpan((int)at, (int)n);
            at += n;
            return span;
        }
        int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        long U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        byte B() => Take(1)[0];
        long Bitmap(long n)
        {
            long set = 0;
            foreach (var b in Take((n + 7) / 8)) set += BitOperations.PopCount(b);
            return set;
        }
        long List()
        {
            long count = U32();
            int width = B();
            long codes = U32();
            Take(width >> 5 == 0 ? (codes * (width & 0x1F) + 7) / 8 : U32());
            return count;
        }
        try
        {
            if (file.Length < SpmlpReferenceReader.Header + SpmlpReferenceReader.Hash) return new Layout(-1, Array.Empty<int>(), 0);
            int version = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
            int meta = I32();
            if (meta < 0) Take(4 + -(long)meta);
            else
            {
                Take(meta);
                for (int k = 0; k < 2; k++) Take(4L * Math.Max(0, I32()));
            }
            countAt = (int)at;
            int count = I32();
            for (int i = 0; i < count && at < end; i++)
            {
                starts.Add((int)at);
                long outF = I32(), inF = I32();
                byte flags = B();
                if (outF <= 0 || inF <= 0) break;
                long n = outF * inF;
                total += n;
                long values = n;
                if ((flags & 2) != 0) values = version == 1 ? n - Bitmap(n) : List();
                if ((flags & 4) != 0)
                {
                    int method = B();
                    B();
                    Take(method == 0 ? 4L * BinaryPrimitives.ReadUInt16LittleEndian(Take(2)) : 5 * outF);
                    B();
                    Take(U32());
                }
                else Take(4 * values);
                Take(4 * outF);
                if ((flags & 1) != 0) Take(4 * (version == 1 ? Bitmap(n) : List()));
            }
        }
        catch (IndexOutOfRangeException) { /* the bytes end: what was reached is the answer */ }
        return new Layout(countAt, starts.ToArray(), total);
    }
}
