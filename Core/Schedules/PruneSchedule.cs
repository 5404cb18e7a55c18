namespace SparsePrune;

/// <summary>
/// How Invoke-Pruning reaches its target: in one step, in rounds, during training (Gradual), as
/// a lottery ticket, or by prune-and-regrow during training at the target sparsity (RigL).
/// </summary>
public enum PruneSchedule { OneShot, Iterative, Gradual, LotteryTicket, RigL }
