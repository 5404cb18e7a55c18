using System.Buffers.Binary;
using System.IO.Compression;
using Xunit;
using Xunit.Abstractions;

namespace SparsePrune.Tests.Fuzz;

/// <summary>
/// DatasetLoader.FromIdxFolder over folders of damaged IDX files: one or two of the four files
/// mutated (magic, counts and image sizes set to extremes, images moved, truncation), sometimes
/// both image files given the same lie, so that the folder still agrees with itself; some
/// folders gzip-compressed (.gz), some of those with the compressed bytes damaged. A case's
/// bytes are the four files, each after its int32 length, behind a byte saying gzip or not.
/// </summary>
public class IdxFuzzTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Names = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" };

    private readonly string _dir = TestKit.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Images(int n, int rows, int cols, int seed)
    {
        var file = new byte[16 + n * rows * cols];
        BinaryPrimitives.WriteInt32BigEndian(file, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4), n);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(12), cols);
        new Random(seed).NextBytes(file.AsSpan(16));
        return file;
    }

    private static byte[] Labels(int n, int classes, int seed)
    {
        var file = new byte[8 + n];
        BinaryPrimitives.WriteInt32BigEndian(file, 0x801);
        BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4), n);
        var rng = new Random(seed);
        for (int i = 0; i < n; i++) file[8 + i] = (byte)rng.Next(classes);
        return file;
    }

    private static FuzzSeed ImageSeed(string name, byte[] file, int imageBytes) => new(name, file,
        new[] { FuzzField.Int32BigEndian(0), FuzzField.Int32BigEndian(4), FuzzField.Int32BigEndian(8), FuzzField.Int32BigEndian(12) },
        Enumerable.Range(0, (file.Length - 16) / imageBytes).Select(k => (16 + k * imageBytes, imageBytes)).ToArray());

    private static FuzzSeed LabelSeed(string name, byte[] file) => new(name, file,
        new[] { FuzzField.Int32BigEndian(0), FuzzField.Int32BigEndian(4), new FuzzField(8, 1) }, new[] { (8, file.Length - 8) });

    private static readonly FuzzSeed[] Files =
    {
        ImageSeed(Names[0], Images(12, 3, 3, 1), 9),
        LabelSeed(Names[1], Labels(12, 4, 2)),
        ImageSeed(Names[2], Images(5, 3, 3, 3), 9),
        LabelSeed(Names[3], Labels(5, 4, 4)),
    };

    private static byte[] MakeCase(Random rng)
    {
        var files = Files.Select(f => f.Bytes).ToArray();
        int mutated = rng.Next(4);
        files[mutated] = ByteMutator.Mutate(Files[mutated], rng);
        if (rng.Next(5) == 0)
        {
            int other = rng.Next(4);
            files[other] = ByteMutator.Mutate(Files[other], rng);
        }
        if (rng.Next(6) == 0)
        {
            // The same header lies (one or two fields) in both image files, a lie about the
            // number of images in the label files too: a folder that agrees with itself.
            files = Files.Select(f => f.Bytes.ToArray()).ToArray();
            for (int lies = rng.Next(1, 3); lies > 0; lies--)
            {
                var field = Files[0].Fields[rng.Next(Files[0].Fields.Count)];
                long value = ByteMutator.Interesting(ByteMutator.Read(Files[0].Bytes, field), 32, rng);
                foreach (var k in field.Offset == 4 ? new[] { 0, 1, 2, 3 } : new[] { 0, 2 })
                    ByteMutator.Write(files[k], field, value);
            }
        }
        bool gzip = rng.Next(7) == 0;
        if (gzip)
            for (int k = 0; k < 4; k++)
            {
                files[k] = Gzip(files[k]);
                if (rng.Next(8) == 0) files[k] = ByteMutator.Mutate(FuzzSeed.Opaque("gz", files[k]), rng);
            }
        var container = new List<byte> { gzip ? (byte)1 : (byte)0 };
        foreach (var f in files)
        {
            container.AddRange(BitConverter.GetBytes(f.Length));
            container.AddRange(f);
        }
        return container.ToArray();
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest)) z.Write(bytes);
        return gz.ToArray();
    }

    /// <summary>Unpacks the case into its folder (plain/ or gz/, so that one form never hides the other) and loads it.</summary>
    private long Read(byte[] container, Random rng)
    {
        bool gzip = container[0] == 1;
        var folder = Path.Combine(_dir, gzip ? "gz" : "plain");
        Directory.CreateDirectory(folder);
        int at = 1;
        foreach (var name in Names)
        {
            int length = BitConverter.ToInt32(container, at);
            File.WriteAllBytes(Path.Combine(folder, gzip ? name + ".gz" : name), container.AsSpan(at + 4, length).ToArray());
            at += 4 + length;
        }
        DatasetLoader.FromIdxFolder(folder, new DatasetOptions { Seed = 1, Task = rng.Next(10) == 0 ? TaskKind.Regression : null });
        return 0;
    }

    [Fact]
    public void DamagedIdxFoldersLoadOrAreRefused()
    {
        var summary = new FuzzRunner("idx", MakeCase, Read).Run(output);
        Assert.True(summary.Loaded > summary.Cases / 20, "fewer than 5 % of the cases loaded");
        Assert.True(summary.Refused.GetValueOrDefault("InvalidIdxFile") > summary.Cases / 10, "fewer than 10 % of the cases were refused as invalid IDX files");
        Assert.True(summary.Refused.Count >= 3, "the cases reached fewer than three of the loader's error ids");
    }
}
