namespace Sim.Core.Scenarios;

/// <summary>
/// The lesson's end of input: once every participant of role <see cref="AfterRole"/> has ended, the main program puts
/// one None into <see cref="Queue"/> per participant of role <see cref="PerRole"/> (each consumer stops at its own).
/// </summary>
public sealed record ScenarioSentinel(string Queue, string AfterRole, string PerRole);
