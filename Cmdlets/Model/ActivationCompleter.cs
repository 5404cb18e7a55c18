using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace SparsePrune.Cmdlets;

/// <summary>Tab completion of -Activation: every registered name and alias (the parameter takes a class, so PowerShell lists none itself).</summary>
public sealed class ActivationCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        return Activation.Names
            .Where(n => n.StartsWith(word, StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
    }
}
