namespace SparsePrune;

/// <summary>What Compress-Mlp makes as small as it can within the accuracy budget.</summary>
public enum CompressionObjective
{
    /// <summary>The bytes Export-Mlp writes (.spmlp): pruning, weight sharing and entropy coding together.</summary>
    FileSize,
    /// <summary>The median time of one forward pass at the search's batch size, measured on this machine.</summary>
    Latency,
    /// <summary>Floating-point operations of one row's forward pass, counted (Get-CompressionReport's Flops).</summary>
    Flops,
}
