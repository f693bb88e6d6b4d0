using Akka.Actor;

namespace Sim.Core.History;

/// <summary>
/// The run's history on the coordinator's node: the primitives append what they processed (in their processing order,
/// no message needed: they live in this process), the <see cref="HistoryCollector"/> appends the participants' batches,
/// the launcher appends faults. Off until a shell turns it on (a bare coordinator in a test records nothing).
/// </summary>
public sealed class HistoryLog : IExtension
{
    /// <summary>Most events one run keeps (about 200 bytes each): beyond it they are counted in <see cref="Dropped"/>, not kept.</summary>
    public const int MaxEvents = 2_000_000;

    private readonly List<HistoryEvent> _events = new();
    private long _seq;
    private volatile bool _enabled;

    /// <summary>The log of <paramref name="system"/> (one per actor system).</summary>
    public static HistoryLog Of(ActorSystem system) => system.WithExtension<HistoryLog, HistoryLogProvider>();

    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value;
    }

    public int Count
    {
        get
        {
            lock (_events)
                return _events.Count;
        }
    }

    /// <summary>A primitive on the coordinator processed an operation of <paramref name="process"/>.</summary>
    public void Coordinator(string process, string kind, string key, string f, HistoryType type, IReadOnlyList<long> values, long token = 0,
        string? note = null)
    {
        if (_enabled)
            Append(new HistoryEvent(HistorySite.Coordinator, type, process, kind, key, f, values, token, HistoryEvent.NowUs(), 0, note));
    }

    /// <summary>Something the launcher did or saw: a fault (kill, terminate) or a process's exit.</summary>
    public void Launcher(string process, string f, IReadOnlyList<long> values, string? note = null)
    {
        if (_enabled)
            Append(new HistoryEvent(HistorySite.Launcher, HistoryType.Info, process, "process", process, f, values, 0, HistoryEvent.NowUs(), 0, note));
    }

    /// <summary>A participant's own events, as its batch brought them.</summary>
    public void AddRange(IEnumerable<HistoryEvent> events)
    {
        if (!_enabled)
            return;
        lock (_events)
        {
            foreach (var e in events)
            {
                if (_events.Count >= MaxEvents)
                    Dropped++;
                else
                    _events.Add(e with { Seq = ++_seq });
            }
        }
    }

    private void Append(HistoryEvent e)
    {
        lock (_events)
        {
            if (_events.Count >= MaxEvents)
                Dropped++;
            else
                _events.Add(e with { Seq = ++_seq });
        }
    }

    /// <summary>Events not kept because the log was full.</summary>
    public long Dropped { get; private set; }

    /// <summary>Everything recorded so far, in the order the log took it.</summary>
    public IReadOnlyList<HistoryEvent> Snapshot()
    {
        lock (_events)
            return _events.ToList();
    }

    private sealed class HistoryLogProvider : ExtensionIdProvider<HistoryLog>
    {
        public override HistoryLog CreateExtension(ExtendedActorSystem system) => new();
    }
}
