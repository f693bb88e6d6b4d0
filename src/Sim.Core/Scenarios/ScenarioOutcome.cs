namespace Sim.Core.Scenarios;

/// <summary>
/// How one participant ended: its exit code (−9 killed, −15 terminated), whether a fault of the scenario hit it,
/// whether the run ended it on purpose (a daemon at the end), and what it reported (null if it never did).
/// </summary>
public sealed record ParticipantOutcome(ParticipantSpec Spec, int? ExitCode, bool Faulted, bool EndedByRun, ParticipantResult? Result)
{
    /// <summary>Ended badly for no reason the scenario gave: the run is not correct.</summary>
    public bool Unexpected => ExitCode != 0 && !Faulted && !EndedByRun;
}

/// <summary>What a fault did: whom it hit and when (seconds into the work phase), or why it hit nobody.</summary>
public sealed record AppliedFault(ScenarioFault Fault, string? Name, double? AtSeconds, string? Note);

/// <summary>
/// Everything a shell (real processes, or actor systems in a test) observed of one run: the participants' ends and
/// reports, the facts the coordinator's primitives recorded, the faults, the phases' times, and why the run failed if
/// it did, the first deadlock the lock manager found, if any, and the leases that ran out. The same outcome gives the
/// same report whichever shell produced it.
/// </summary>
public sealed record ScenarioOutcome(
    Scenario Scenario,
    IReadOnlyList<ParticipantOutcome> Participants,
    IReadOnlyDictionary<string, long> Facts,
    IReadOnlyList<AppliedFault> Faults,
    string? Failure,
    TimeSpan Ready,
    TimeSpan Work,
    TimeSpan Wall,
    DeadlockFound? Deadlock = null,
    IReadOnlyList<LeaseExpiry>? LeaseExpiries = null)
{
    /// <summary>When the work phase started, to place the lease expiries in it (unknown: null).</summary>
    public DateTimeOffset? ReleasedAt { get; init; }
}
