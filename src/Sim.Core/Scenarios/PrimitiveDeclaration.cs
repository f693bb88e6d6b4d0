namespace Sim.Core.Scenarios;

/// <summary>The coordinator's primitives a scenario may declare (locks, semaphores and pipes also appear on first use).</summary>
public enum PrimitiveKind
{
    Lock,
    Semaphore,
    Queue,
    JoinableQueue,
    Value,
    Tickets,
    Pipe,
}

/// <summary>
/// A primitive the scenario declares before anyone starts: a queue with its maxsize, a shared value with its initial
/// value, a ticket file with its tickets, a lock or semaphore (named, so faults and facts can refer to it), a pipe.
/// <see cref="Size"/> is the queue's maxsize, the semaphore's permits, or the value's or ticket file's initial count
/// (a number or a parameter's name).
/// </summary>
public sealed record PrimitiveDeclaration(PrimitiveKind Kind, string Name, string Size = "0")
{
    /// <summary>The facts this primitive contributes after a run (names a check or figure may use).</summary>
    public IReadOnlyList<string> FactNames => Kind switch
    {
        PrimitiveKind.Lock or PrimitiveKind.Semaphore => [$"{Name}.grants"],
        PrimitiveKind.Queue or PrimitiveKind.JoinableQueue => [$"{Name}.put", $"{Name}.size", $"{Name}.redelivered"],
        PrimitiveKind.Value => [$"{Name}.value", $"{Name}.writes"],
        PrimitiveKind.Tickets => [$"{Name}.initial", $"{Name}.remaining", $"{Name}.writes", $"{Name}.unreported_writers"],
        _ => [],
    };

    public static string KindName(PrimitiveKind kind) => kind switch
    {
        PrimitiveKind.JoinableQueue => "joinable-queue",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
