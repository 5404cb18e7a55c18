namespace SparsePrune;

/// <summary>
/// What <see cref="PruningSettings.Resolve"/> makes of Invoke-Pruning's parameters: the request,
/// the schedule, the budget (null: a ratio or pattern target), and why data is needed (null: it is not).
/// </summary>
public sealed record PruningJob(PruningRequest Request, ScheduleOptions Schedule, BudgetOptions? Budget, string? DataNeededFor);
