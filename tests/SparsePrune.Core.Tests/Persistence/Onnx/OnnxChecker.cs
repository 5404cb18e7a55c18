using System.Diagnostics;
using Xunit;

namespace SparsePrune.Tests;

/// <summary>onnx.checker.check_model(path, full_check=True) through /usr/bin/python3, many files per process.</summary>
internal static class OnnxChecker
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> _unavailable = new(() =>
    {
        if (!File.Exists(Python)) return $"{Python} is missing: install python3-onnx (tools/Install-Prerequisites.ps1) to run onnx.checker";
        var (code, _, err) = Exec("-c \"import onnx.checker\"");
        return code == 0 ? null : $"python3-onnx is not installed ({err.Trim()}): install it (tools/Install-Prerequisites.ps1) to run onnx.checker";
    });

    public static string? Unavailable => _unavailable.Value;

    public sealed record Verdict(string Path, bool Ok, string Message);

    // "full:<path>": check_model(full_check=True), i.e. the structural check and strict shape
    // inference. "sparse:<path>", for files with sparse_initializer entries: ONNX's shape inference
    // (1.12 and later alike) types a sparse initializer as sparse_tensor(float), which no standard
    // operator accepts, so strict inference refuses even a Gemm fed by one that onnx.helper itself
    // made; ONNX Runtime densifies them on load. For those files: the structural check (which
    // validates the sparse tensors: INT64 indices, ascending, in range) and non-strict inference.
    private const string Script = """
        import sys, onnx
        from onnx import shape_inference
        for arg in sys.argv[1:]:
            mode, path = arg.split(":", 1)
            try:
                if mode == "full":
                    onnx.checker.check_model(path, full_check=True)
                else:
                    onnx.checker.check_model(path, full_check=False)
                    shape_inference.infer_shapes(onnx.load(path), check_type=False, strict_mode=False)
                print("OK\t" + path)
            except Exception as e:
                print("FAIL\t" + path + "\t" + " ".join(str(e).split()))
        """;

    /// <summary>Checks each file; <c>Sparse</c>: the file has sparse initializers (see the script).</summary>
    public static List<Verdict> Check(IEnumerable<(string Path, bool Sparse)> files)
    {
        var paths = files.Select(f => (f.Sparse ? "sparse:" : "full:") + f.Path).ToList();
        var dir = TestKit.TempDir();
        try
        {
            var script = Path.Combine(dir, "check.py");
            File.WriteAllText(script, Script);
            var (code, output, err) = Exec(string.Join(" ", new[] { script }.Concat(paths).Select(p => "\"" + p + "\"")));
            Assert.True(code == 0, $"python3 exited with {code}: {err}");
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
            {
                var parts = line.Split('\t');
                return new Verdict(parts[1], parts[0] == "OK", parts.Length > 2 ? parts[2] : "");
            }).ToList();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    private static (int Code, string Output, string Error) Exec(string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo(Python, arguments)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        })!;
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, output.Result, error.Result);
    }
}
