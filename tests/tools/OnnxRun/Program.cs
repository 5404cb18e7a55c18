using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// OnnxRun <model.onnx> <rows.json>: rows.json is a JSON array of float arrays (one row each).
// Prints one JSON object: every output of the graph by name, as an array of rows. Errors go to
// stderr with exit code 1, so that a Pester test can tell ONNX Runtime's refusal from a result.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: OnnxRun <model.onnx> <rows.json>");
    return 2;
}
try
{
    var rows = JsonSerializer.Deserialize<float[][]>(File.ReadAllText(args[1])) ?? throw new InvalidDataException("no rows");
    int features = rows.Length == 0 ? 0 : rows[0].Length;
    var input = new DenseTensor<float>(rows.SelectMany(r => r).ToArray(), new[] { rows.Length, features });
    using var session = new InferenceSession(args[0]);
    var name = session.InputMetadata.Keys.Single();
    using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor(name, input) });
    var outputs = new Dictionary<string, float[][]>();
    foreach (var r in results)
    {
        var t = r.AsTensor<float>();
        int n = t.Dimensions[0], width = t.Dimensions.Length > 1 ? t.Dimensions[1] : 1;
        outputs[r.Name] = Enumerable.Range(0, n).Select(i => Enumerable.Range(0, width).Select(j => t.Dimensions.Length > 1 ? t[i, j] : t[i]).ToArray()).ToArray();
    }
    Console.WriteLine(JsonSerializer.Serialize(outputs, new JsonSerializerOptions { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
