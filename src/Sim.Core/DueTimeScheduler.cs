using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace Sim.Core;

/// <summary>
/// Akka's scheduler without a clock tick: every scheduled tell or action is one .NET timer, so a node's
/// threads wake only when something is due. Akka's timer wheel wakes on every tick whether anything is due
/// or not (a timer thread and a thread-pool worker, 20 times a second at a 50 ms tick), and that was most of
/// what an idle participant cost (issue 10). Timeouts also get the timers' ~1 ms precision instead of the
/// tick's. Chosen by <c>akka.scheduler.implementation</c> in hocon/akka.hocon.
/// </summary>
public sealed class DueTimeScheduler : SchedulerBase, IDateTimeOffsetNowTimeProvider, IDisposable
{
    /// <summary>The longest due time a .NET timer takes (~49 days); later is as good as never here.</summary>
    private static readonly TimeSpan LongestDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private static readonly long ClockStart = Stopwatch.GetTimestamp();

    private readonly ConcurrentDictionary<Entry, byte> _pending = new();
    private volatile bool _disposed;

    public DueTimeScheduler(Config config, ILoggingAdapter log) : base(config, log)
    {
    }

    protected override DateTimeOffset TimeNow => DateTimeOffset.Now;

    /// <summary>Milliseconds, as Akka's own (internal) monotonic clock gives them.</summary>
    public override TimeSpan MonotonicClock => TimeSpan.FromMilliseconds((long)HighResMonotonicClock.TotalMilliseconds);

    public override TimeSpan HighResMonotonicClock => Stopwatch.GetElapsedTime(ClockStart);

    protected override void InternalScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Schedule(delay, TimeSpan.Zero, new ScheduledTell(receiver, message, sender), cancelable);

    protected override void InternalScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Schedule(initialDelay, interval, new ScheduledTell(receiver, message, sender), cancelable);

    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) =>
        Schedule(delay, TimeSpan.Zero, new ActionRunnable(action), cancelable);

    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) =>
        Schedule(delay, TimeSpan.Zero, action, cancelable);

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, new ActionRunnable(action), cancelable);

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) =>
        Schedule(initialDelay, interval, action, cancelable);

    private void Schedule(TimeSpan delay, TimeSpan interval, IRunnable action, ICancelable? cancelable)
    {
        if (_disposed)
            throw new SchedulerException("cannot enqueue after timer shutdown");
        new Entry(this, action, cancelable, interval > TimeSpan.Zero).Start(Clamp(delay), interval > TimeSpan.Zero ? Clamp(interval) : Timeout.InfiniteTimeSpan);
    }

    private static TimeSpan Clamp(TimeSpan delay) => delay < TimeSpan.Zero ? TimeSpan.Zero : delay > LongestDelay ? LongestDelay : delay;

    /// <summary>
    /// As Akka's own scheduler does at shutdown: what was still due once runs now (a pending timeout fires at
    /// once rather than never), repeating work stops.
    /// </summary>
    public void Dispose()
    {
        _disposed = true;
        foreach (var entry in _pending.Keys)
        {
            if (entry.Stop() && !entry.Repeats && !entry.Cancelled)
                entry.RunQuietly();
        }
    }

    private sealed class Entry(DueTimeScheduler owner, IRunnable action, ICancelable? cancelable, bool repeats)
    {
        private Timer? _timer;
        private CancellationTokenRegistration _cancellation;
        private int _stopped;

        public bool Repeats => repeats;

        public bool Cancelled => cancelable?.IsCancellationRequested ?? false;

        public void Start(TimeSpan delay, TimeSpan interval)
        {
            owner._pending.TryAdd(this, 0);
            // The timer exists (unarmed) before a cancellation can dispose it; callers' async locals do not flow
            // into scheduled work, as with Akka's own scheduler.
            using (ExecutionContext.SuppressFlow())
                _timer = new Timer(static state => ((Entry)state!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (cancelable is not null)
            {
                try
                {
                    _cancellation = cancelable.Token.UnsafeRegister(static state => ((Entry)state!).Stop(), this);
                }
                catch (ObjectDisposedException)
                {
                    Stop(); // a disposed cancelable counts as cancelled
                    return;
                }
            }
            if (Volatile.Read(ref _stopped) == 0)
                _timer.Change(delay, interval);
        }

        private void Fire()
        {
            if (Volatile.Read(ref _stopped) != 0)
                return;
            if (Cancelled)
            {
                Stop();
                return;
            }
            if (!repeats)
                Stop();
            RunQuietly();
        }

        public void RunQuietly()
        {
            try
            {
                action.Run();
            }
            catch (SchedulerException)
            {
                // the receiver's system is shutting down
            }
            catch (Exception e)
            {
                owner.Log.Error(e, "Exception while executing timer task.");
            }
        }

        /// <summary>Disarms the timer once; true for the caller that stopped it.</summary>
        public bool Stop()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0)
                return false;
            _timer?.Dispose();
            _cancellation.Unregister();
            owner._pending.TryRemove(this, out _);
            return true;
        }
    }

    /// <summary>A scheduled tell: the message as it was given (Akka's own wrapper for it is internal).</summary>
    private sealed class ScheduledTell(ICanTell receiver, object message, IActorRef sender) : IRunnable
    {
        public void Run() => receiver.Tell(message, sender);

#if NET6_0_OR_GREATER
        public void Execute() => Run();
#endif

        public override string ToString() => $"[{receiver}.Tell({message}, {sender})]";
    }
}
