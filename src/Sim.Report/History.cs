using Sim.Core.History;

namespace Sim.Report;

/// <summary>
/// One operation of a participant on a primitive, as both sides saw it: its invocation and completion on the
/// participant's clock, its value and token, and where the coordinator's primitive processed it (its place in the
/// coordinator's order and its time). <see cref="CoordinatorOnly"/>: the participant's own record never arrived (it was
/// killed before sending it), so only the coordinator's is known, and the outcome at the participant is unknown (info).
/// </summary>
public sealed record Operation(
    int Index,
    string Process,
    string Kind,
    string Key,
    string F,
    HistoryType Type,
    IReadOnlyList<long> InvokeValues,
    IReadOnlyList<long> Values,
    long Token,
    long InvokeUs,
    long? CompleteUs,
    long? CoordinatorSeq,
    long? CoordinatorUs,
    string? Note,
    bool CoordinatorOnly = false)
{
    public bool IsOk => Type == HistoryType.Ok;

    /// <summary>The single value of the answer (a count read, a count written), if it has one.</summary>
    public long? Value => Values.Count == 1 ? Values[0] : null;

    public override string ToString() =>
        $"{Process} {F} {Kind} {Key}{(Values.Count == 0 ? "" : " " + string.Join(",", Values.Take(6)) + (Values.Count > 6 ? ",…" : ""))}" +
        $" -> {Type.ToString().ToLowerInvariant()}{(Token != 0 ? $", token {Token}" : "")}{(Note is null ? "" : $" ({Note})")}";
}

/// <summary>A fault or an exit the launcher saw: kill, terminate, exit (with the exit code).</summary>
public sealed record ProcessEvent(string Process, string F, long TimeUs, IReadOnlyList<long> Values);

/// <summary>
/// A run's history: every operation (both sides joined), the coordinator's records in its processing order (what the
/// checkers read: the lock manager's order, the store's order, the queue's order), faults and exits, the participants,
/// and the run's origin (the moment the start barrier let everyone go: time 0 of the pictures and the JSON Lines file).
/// </summary>
public sealed class History
{
    private History(IReadOnlyList<Operation> operations, IReadOnlyList<HistoryEvent> coordinator, IReadOnlyList<ProcessEvent> processEvents,
        IReadOnlyList<string> processes, long originUs, long dropped)
    {
        Operations = operations;
        Coordinator = coordinator;
        ProcessEvents = processEvents;
        Processes = processes;
        OriginUs = originUs;
        Dropped = dropped;
    }

    public IReadOnlyList<Operation> Operations { get; }
    public IReadOnlyList<HistoryEvent> Coordinator { get; }
    public IReadOnlyList<ProcessEvent> ProcessEvents { get; }
    public IReadOnlyList<string> Processes { get; }
    public long OriginUs { get; }

    /// <summary>Events the coordinator's log could not keep (it was full).</summary>
    public long Dropped { get; }

    /// <summary>Seconds from the origin.</summary>
    public double Seconds(long us) => (us - OriginUs) / 1e6;

    /// <summary>The coordinator's records of one primitive, in its order.</summary>
    public IEnumerable<HistoryEvent> CoordinatorOf(string kind, string key) => Coordinator.Where(e => e.Kind == kind && e.Key == key);

    public IEnumerable<Operation> OperationsOf(string kind, string key) => Operations.Where(o => o.Kind == kind && o.Key == key);

    /// <summary>Processes a kill or terminate hit, or that exited with a non-zero code.</summary>
    public IReadOnlySet<string> Faulted =>
        ProcessEvents.Where(e => e.F is "kill" or "terminate" || (e.F == "exit" && e.Values is [not 0])).Select(e => e.Process).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Joins the raw events of a run: each process's invoke with its completion (an invoke without one ended with its
    /// process: info), each completed operation with the coordinator's record of it (the n-th of that process, primitive
    /// and operation on both sides), and the coordinator's records that no process recorded as operations of their own.
    /// </summary>
    public static History Build(IEnumerable<HistoryEvent> raw, IReadOnlyList<string> processes, long originUs, long dropped = 0)
    {
        var events = raw.ToList();
        var known = processes.ToHashSet(StringComparer.Ordinal);
        var coordinator = events.Where(e => e.Site == HistorySite.Coordinator).OrderBy(e => e.Seq).ToList();
        var pending = coordinator.Where(e => known.Contains(e.Process))
            .GroupBy(e => (e.Process, e.Kind, e.Key, e.F, e.Type))
            .ToDictionary(g => g.Key, g => new Queue<HistoryEvent>(g));
        var operations = new List<Operation>();
        foreach (var process in events.Where(e => e.Site == HistorySite.Process).GroupBy(e => e.Process))
        {
            var completions = process.Where(e => e.Type != HistoryType.Invoke).GroupBy(e => e.Op).ToDictionary(g => g.Key, g => g.First());
            foreach (var invoke in process.Where(e => e.Type == HistoryType.Invoke).OrderBy(e => e.TimeUs).ThenBy(e => e.Op))
            {
                completions.TryGetValue(invoke.Op, out var done);
                var type = done?.Type ?? HistoryType.Info;
                HistoryEvent? seen = null;
                if (type is HistoryType.Ok or HistoryType.Fail && pending.TryGetValue((invoke.Process, invoke.Kind, invoke.Key, invoke.F, type), out var queue))
                    queue.TryDequeue(out seen);
                operations.Add(new Operation(0, invoke.Process, invoke.Kind, invoke.Key, invoke.F, type, invoke.Values, done?.Values ?? invoke.Values,
                    done?.Token is { } t && t != 0 ? t : seen?.Token ?? invoke.Token, invoke.TimeUs, done?.TimeUs, seen?.Seq, seen?.TimeUs,
                    done is null ? "no completion recorded: the process ended first" : done.Note));
            }
        }
        var ended = events.Where(e => e.Site == HistorySite.Launcher && (e.F is "kill" or "terminate" || (e.F == "exit" && e.Values is not [0])))
            .GroupBy(e => e.Process).ToDictionary(g => g.Key, g => g.Min(e => e.TimeUs), StringComparer.Ordinal);
        foreach (var left in pending.Values.SelectMany(q => q))
        {
            // What the coordinator did for a process that had ended (or its own record of which died with it), or did on
            // its behalf without a call of its own (a condition's wait gives the lock up and takes it back).
            var died = ended.TryGetValue(left.Process, out var at) && at <= left.TimeUs + 1_000_000;
            var note = (left.F, died) switch
            {
                ("release", true) => "released by the coordinator: its holder ended",
                (_, true) => "recorded by the coordinator only: the process ended before sending its own record",
                _ => "done by the coordinator on the process's behalf",
            };
            operations.Add(new Operation(0, left.Process, left.Kind, left.Key, left.F, HistoryType.Info, left.Values, left.Values, left.Token,
                left.TimeUs, null, left.Seq, left.TimeUs, note, CoordinatorOnly: true));
        }
        var ordered = operations.OrderBy(o => o.InvokeUs).ThenBy(o => o.CoordinatorSeq ?? long.MaxValue)
            .Select((o, i) => o with { Index = i }).ToList();
        var processEvents = events.Where(e => e.Site == HistorySite.Launcher).OrderBy(e => e.TimeUs)
            .Select(e => new ProcessEvent(e.Process, e.F, e.TimeUs, e.Values)).ToList();
        return new History(ordered, coordinator, processEvents, processes, originUs, dropped);
    }
}
