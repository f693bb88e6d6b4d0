namespace Sim.Core.Scenarios;

/// <summary>What a deadlock found by the lock manager does to a run (<c>--on-deadlock</c>, <c>on-deadlock</c> in a scenario file).</summary>
public enum DeadlockPolicy
{
    /// <summary>The run ends at once, failed, with the cycle printed, instead of waiting for its timeout.</summary>
    Fail,

    /// <summary>The cycle is reported (printed, in the JSON) and the run goes on: roles whose waits time out may recover.</summary>
    Continue,
}

/// <summary>A deadlock ended the run (<see cref="DeadlockPolicy.Fail"/>).</summary>
public sealed class DeadlockException(DeadlockFound found) : Exception(found.ToString())
{
    public DeadlockFound Found { get; } = found;
}
