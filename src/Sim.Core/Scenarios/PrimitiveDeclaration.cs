namespace Sim.Core.Scenarios;

/// <summary>The coordinator's primitives a scenario may declare (locks, semaphores, events and pipes also appear on first use).</summary>
public enum PrimitiveKind
{
    Lock,
    Semaphore,
    Queue,
    JoinableQueue,
    Value,
    Tickets,
    Pipe,
    RLock,
    BoundedSemaphore,
    Condition,
    Event,
    Barrier,
}

/// <summary>
/// A primitive the scenario declares before anyone starts: a queue with its maxsize, a shared value with its initial
/// value, a ticket file with its tickets, a lock, RLock, semaphore or bounded semaphore (named, so faults and facts can
/// refer to it), a condition on its lock (<see cref="Lock"/>), an event, a barrier with its parties, a pipe.
/// <see cref="Size"/> is the queue's maxsize, the semaphore's initial value, the barrier's parties, or the value's or
/// ticket file's initial count (a number or a parameter's name).
/// </summary>
public sealed record PrimitiveDeclaration(PrimitiveKind Kind, string Name, string Size = "0", string? Lock = null)
{
    /// <summary>
    /// A lock's or semaphore's lease in ms (a number or a parameter's name; "0": none): every grant must be renewed
    /// within it, and a holder that stops renewing (paused, cut off) loses the lock to the next waiter. A joinable queue's
    /// lease is its deliveries': a consumer that stops renewing loses the items it holds back to the queue.
    /// </summary>
    public string LeaseMs { get; init; } = "0";

    /// <summary>The facts this primitive contributes after a run (names a check or figure may use).</summary>
    public IReadOnlyList<string> FactNames => Kind switch
    {
        PrimitiveKind.Lock or PrimitiveKind.RLock => [$"{Name}.grants", $"{Name}.lease_expiries"],
        PrimitiveKind.Semaphore or PrimitiveKind.BoundedSemaphore => [$"{Name}.grants", $"{Name}.value", $"{Name}.lease_expiries"],
        PrimitiveKind.Queue => [$"{Name}.put", $"{Name}.size", $"{Name}.redelivered"],
        PrimitiveKind.JoinableQueue => [$"{Name}.put", $"{Name}.size", $"{Name}.redelivered", $"{Name}.lease_expiries"],
        PrimitiveKind.Value => [$"{Name}.value", $"{Name}.writes"],
        PrimitiveKind.Tickets => [$"{Name}.initial", $"{Name}.remaining", $"{Name}.writes", $"{Name}.unreported_writers"],
        PrimitiveKind.Event => [$"{Name}.is_set", $"{Name}.waiting"],
        PrimitiveKind.Barrier => [$"{Name}.broken", $"{Name}.waiting"],
        _ => [],
    };

    /// <summary>The lock manager's kind of a declared lock or semaphore; null for the other primitives.</summary>
    public SemKind? SemKind => Kind switch
    {
        PrimitiveKind.Lock => Core.SemKind.Lock,
        PrimitiveKind.RLock => Core.SemKind.RLock,
        PrimitiveKind.Semaphore => Core.SemKind.Semaphore,
        PrimitiveKind.BoundedSemaphore => Core.SemKind.BoundedSemaphore,
        _ => null,
    };

    public static string KindName(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.JoinableQueue => "joinable-queue",
        PrimitiveKind.BoundedSemaphore => "bounded-semaphore",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
