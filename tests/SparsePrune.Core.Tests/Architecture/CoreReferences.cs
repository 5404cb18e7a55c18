using System.Reflection.PortableExecutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace SparsePrune.Tests;

/// <summary>A place in one Core source file that names a type declared in another Core file.</summary>
internal sealed record TypeReference(string FromFile, int Line, string TypeName, string TypeFile);

/// <summary>
/// Which Core types each Core source file names, found by compiling the sources with Roslyn
/// and asking the semantic model what every name binds to: a type named directly, or the type
/// whose member is called or read. Doc comments are not looked into (a cref is no dependency).
/// Core has one namespace, so a text search could not tell a type from a property of the same
/// name; the compiler can.
/// </summary>
internal static class CoreReferences
{
    public static List<TypeReference> Find(IReadOnlyDictionary<string, string> sources)
    {
        var trees = sources.Select(s => CSharpSyntaxTree.ParseText(s.Value,
            new CSharpParseOptions(LanguageVersion.Latest), path: s.Key)).ToList();
        var compilation = CSharpCompilation.Create("CoreLayering", trees, References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
        var found = new List<TypeReference>();
        foreach (var tree in trees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var name in tree.GetRoot().DescendantNodes().OfType<SimpleNameSyntax>())
            {
                var info = model.GetSymbolInfo(name);
                var symbol = info.Symbol ?? info.CandidateSymbols.FirstOrDefault();
                var type = symbol switch
                {
                    INamedTypeSymbol t => t,
                    IMethodSymbol { MethodKind: MethodKind.ReducedExtension } m => m.ReducedFrom?.ContainingType,
                    { ContainingType: { } owner } => owner,
                    _ => null,
                };
                var declared = type?.OriginalDefinition.DeclaringSyntaxReferences.FirstOrDefault();
                if (declared is null || declared.SyntaxTree == tree) continue;
                found.Add(new TypeReference(tree.FilePath, name.GetLocation().GetLineSpan().StartLinePosition.Line + 1,
                    type!.OriginalDefinition.Name, declared.SyntaxTree.FilePath));
            }
        }
        return found;
    }

    /// <summary>
    /// What Core compiles against: the running framework and every managed assembly beside the
    /// tests (TorchSharp and the rest), except Core itself, whose sources are compiled instead.
    /// </summary>
    private static readonly Lazy<List<MetadataReference>> References = new(() =>
    {
        var framework = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var names = new HashSet<string>(framework.Select(Path.GetFileName)!, StringComparer.OrdinalIgnoreCase);
        var beside = Directory.GetFiles(AppContext.BaseDirectory, "*.dll")
            .Where(p => !names.Contains(Path.GetFileName(p)) && Path.GetFileName(p) != "SparsePrune.Core.dll" && IsManaged(p));
        return framework.Where(IsManaged).Concat(beside)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
    });

    private static bool IsManaged(string path)
    {
        try
        {
            using var reader = new PEReader(File.OpenRead(path));
            return reader.HasMetadata;
        }
        catch (BadImageFormatException) { return false; }
    }
}
