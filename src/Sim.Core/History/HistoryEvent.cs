namespace Sim.Core.History;

/// <summary>Jepsen's event types: an operation is invoked, then it completed ok, failed, or its outcome is unknown (info).</summary>
public enum HistoryType : byte
{
    Invoke = 0,
    Ok = 1,
    Fail = 2,
    Info = 3,
}

/// <summary>
/// Who wrote an event down: the participant that made the call (its own clock), the coordinator's primitive that
/// processed it (in its processing order), or the launcher (faults, process exits).
/// </summary>
public enum HistorySite : byte
{
    Process = 0,
    Coordinator = 1,
    Launcher = 2,
}

/// <summary>
/// One event of a run's history. <see cref="Kind"/> and <see cref="Key"/> name the primitive (lock tickets, queue q,
/// value counter, tickets tickets), <see cref="F"/> the operation (acquire, release, read, write, put, get, task_done,
/// add, cas; grant on the coordinator; kill, terminate, exit from the launcher). <see cref="Values"/> is the operation's
/// value (a count, item ids), <see cref="Token"/> its fencing token (0: none). <see cref="TimeUs"/> is microseconds of
/// the Unix epoch on the clock of the host that wrote it (one clock per host). <see cref="Op"/> links a process's invoke
/// to its completion; <see cref="Seq"/> is the order in which the coordinator's log took the event (for coordinator
/// events: the order the primitives processed them).
/// </summary>
public sealed record HistoryEvent(
    HistorySite Site,
    HistoryType Type,
    string Process,
    string Kind,
    string Key,
    string F,
    IReadOnlyList<long> Values,
    long Token,
    long TimeUs,
    long Op,
    string? Note = null)
{
    public long Seq { get; init; }

    /// <summary>Now, in microseconds of the Unix epoch (the realtime clock every process of a host shares).</summary>
    public static long NowUs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    public override string ToString() =>
        $"{Site} {Type} {Process} {F} {Kind} {Key} [{string.Join(",", Values.Take(8))}{(Values.Count > 8 ? ",…" : "")}]" +
        $"{(Token != 0 ? $" token {Token}" : "")}{(Note is null ? "" : $" ({Note})")}";
}
