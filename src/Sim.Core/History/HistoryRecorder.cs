namespace Sim.Core.History;

/// <summary>
/// A participant's side of the history: every call of its client handles is written down here (invoke, then ok, fail
/// or info) on its own clock, buffered, and sent to the coordinator's <see cref="HistoryCollector"/> in batches: when
/// <see cref="BatchSize"/> events are waiting, <see cref="FlushAfter"/> after the first of them (a timer armed only
/// while something waits, so an idle participant never wakes up for it), and before the participant reports or leaves.
/// </summary>
public sealed class HistoryRecorder : IDisposable
{
    public const int BatchSize = 512;
    public static readonly TimeSpan FlushAfter = TimeSpan.FromMilliseconds(200);

    private readonly object _gate = new();
    private readonly Action<HistoryBatch> _send;
    private readonly Timer _timer;
    private List<HistoryEvent> _buffer = new();
    private bool _armed;
    private long _op;

    public HistoryRecorder(string process, Action<HistoryBatch> send)
    {
        Process = process;
        _send = send;
        _timer = new Timer(_ => Flush(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public string Process { get; }

    /// <summary>Events written down so far (sent or not).</summary>
    public long Recorded { get; private set; }

    /// <summary>Writes down the invocation of <paramref name="op"/>; returns its id for <see cref="Complete"/>.</summary>
    public long Invoke(HistoryOp op)
    {
        var id = Interlocked.Increment(ref _op);
        Add(new HistoryEvent(HistorySite.Process, HistoryType.Invoke, Process, op.Kind, op.Key, op.F, op.Values, op.Token, HistoryEvent.NowUs(), id));
        return id;
    }

    /// <summary>Writes down how the operation <paramref name="id"/> ended.</summary>
    public void Complete(long id, HistoryOp op, HistoryOutcome outcome) =>
        Add(new HistoryEvent(HistorySite.Process, outcome.Type, Process, op.Kind, op.Key, op.F, outcome.Values ?? op.Values,
            outcome.Token ?? op.Token, HistoryEvent.NowUs(), id, outcome.Note));

    /// <summary>A one-way message (a release that waits for no answer): invoked and, as far as this side can tell, done.</summary>
    public void OneWay(HistoryOp op) => Complete(Invoke(op), op, new HistoryOutcome(HistoryType.Ok, null, null, "one-way"));

    private void Add(HistoryEvent e)
    {
        HistoryBatch? full = null;
        lock (_gate)
        {
            _buffer.Add(e);
            Recorded++;
            if (_buffer.Count >= BatchSize)
                full = TakeLocked(ack: false);
            else if (!_armed)
            {
                _armed = true;
                _timer.Change(FlushAfter, Timeout.InfiniteTimeSpan);
            }
        }
        if (full is not null)
            _send(full);
    }

    /// <summary>Sends whatever waits, one-way.</summary>
    public void Flush()
    {
        var batch = Take(ack: false);
        if (batch is not null)
            _send(batch);
    }

    /// <summary>What waits, as a batch (<paramref name="ack"/>: the collector answers it); null if nothing waits.</summary>
    public HistoryBatch? Take(bool ack)
    {
        lock (_gate)
            return TakeLocked(ack);
    }

    private HistoryBatch? TakeLocked(bool ack)
    {
        if (_buffer.Count == 0 && !ack)
            return null;
        var batch = new HistoryBatch(Process, _buffer, ack);
        _buffer = new List<HistoryEvent>();
        return batch;
    }

    public void Dispose() => _timer.Dispose();
}
