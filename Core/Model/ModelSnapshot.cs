using System.Collections.Immutable;

namespace SparsePrune;

/// <summary>
/// A model's state apart from its layers, as <see cref="ModelTransaction"/> takes it before a
/// change and puts it back after a failed one. Every part is immutable or replaced, never
/// changed in place, so holding the references is enough.
/// </summary>
internal sealed record ModelSnapshot(
    ModelBaseline? Baseline, Dataset? Dataset, int HistoryCount,
    string[]? FeatureNames, string[]? ClassNames, InputScaling? Scaling,
    NeuronOrigins Origins, ImmutableDictionary<Type, object> Attachments);
