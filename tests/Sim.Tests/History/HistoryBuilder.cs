using Sim.Core.History;

namespace Sim.Tests.History;

/// <summary>Hand-written histories for the checkers' tests: coordinator records in order, and participants' own invoke/complete pairs.</summary>
internal sealed class HistoryBuilder
{
    public const long Origin = 1_700_000_000_000_000;
    private readonly List<HistoryEvent> _events = new();
    private readonly List<string> _processes = new();
    private long _seq;
    private long _op;
    private long _time = Origin;

    public HistoryBuilder(params string[] processes) => _processes.AddRange(processes);

    /// <summary>A record of the coordinator's primitive, next in its order, 1 ms after the previous event.</summary>
    public HistoryBuilder Coordinator(string process, string kind, string key, string f, long[] values, long token = 0, HistoryType type = HistoryType.Ok)
    {
        _time += 1000;
        _events.Add(new HistoryEvent(HistorySite.Coordinator, type, process, kind, key, f, values, token, _time, 0) { Seq = ++_seq });
        return this;
    }

    /// <summary>A participant's operation as it saw it: invoke now, completion 1 ms later, and the coordinator's record in between.</summary>
    public HistoryBuilder Op(string process, string kind, string key, string f, long[] invoked, long[] answered, long token = 0,
        HistoryType type = HistoryType.Ok, bool coordinatorSaw = true)
    {
        var id = ++_op;
        _time += 1000;
        _events.Add(new HistoryEvent(HistorySite.Process, HistoryType.Invoke, process, kind, key, f, invoked, token, _time, id) { Seq = ++_seq });
        if (coordinatorSaw)
            Coordinator(process, kind, key, f, f is "read" or "add" ? answered : invoked, token, type);
        _time += 1000;
        _events.Add(new HistoryEvent(HistorySite.Process, type, process, kind, key, f, answered, token, _time, id) { Seq = ++_seq });
        return this;
    }

    /// <summary>A fault or exit the launcher saw.</summary>
    public HistoryBuilder Launcher(string process, string f, params long[] values)
    {
        _time += 1000;
        _events.Add(new HistoryEvent(HistorySite.Launcher, HistoryType.Info, process, "process", process, f, values, 0, _time, 0) { Seq = ++_seq });
        return this;
    }

    public Sim.Report.History Build() => Sim.Report.History.Build(_events, _processes, Origin);
}
