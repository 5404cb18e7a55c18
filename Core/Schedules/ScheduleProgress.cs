using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SparsePrune;

/// <summary>Progress of a schedule: where it is, and the training it is doing.</summary>
public sealed record ScheduleProgress(string Status, int Round, int Rounds, TrainingProgress? Training);
