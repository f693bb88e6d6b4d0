namespace Sim.Core.Scenarios;

/// <summary>
/// Kill ends a participant at once (SIGKILL); terminate lets it say goodbye first (SIGTERM); pause stops it for a while
/// (SIGSTOP, then SIGCONT after <see cref="ScenarioFault.Duration"/>), holding whatever it holds; partition cuts it off
/// from the coordinator for <see cref="ScenarioFault.Duration"/> (nothing passes either way), then heals.
/// </summary>
public enum ScenarioFaultAction
{
    Terminate,
    Kill,
    Pause,
    Partition,
}

/// <summary>
/// A fault, <see cref="AtSeconds"/> after the work phase starts: hits the participant <see cref="Target"/>, or with
/// target <c>holder</c> whoever holds lock <see cref="Lock"/> then. With <see cref="AfterReport"/> the time counts from
/// the moment the target reported its figures instead (its work is done; e.g. a pipe end killed right after it sent
/// its last messages). Each shell maps it onto its own means (a signal to a process, stopping an actor system).
/// </summary>
public sealed record ScenarioFault(ScenarioFaultAction Action, string Target, double AtSeconds, string? Lock = null)
{
    public const string Holder = "holder";

    /// <summary>How long a pause or a partition lasts unless given.</summary>
    public static readonly TimeSpan DefaultPause = TimeSpan.FromSeconds(5);

    /// <summary>A fault that lasts a while (a pause, a partition) rather than happening once.</summary>
    public bool Lasts => Action is ScenarioFaultAction.Pause or ScenarioFaultAction.Partition;

    /// <summary>Due <see cref="AtSeconds"/> after the target has reported, rather than after the work starts.</summary>
    public bool AfterReport { get; init; }

    /// <summary>A pause's or partition's length (<see cref="DefaultPause"/> unless given); null for the other faults.</summary>
    public TimeSpan? Duration { get; init; }
}
