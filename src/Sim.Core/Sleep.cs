using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Sim.Core;

/// <summary>
/// The lesson's <c>time.sleep</c> for role code: waits at least the given time and at most a fraction of a millisecond
/// more, without holding a thread-pool thread. <c>Task.Delay</c> runs on .NET's timer queue, whose clock on Linux is the
/// kernel's coarse one (4 ms steps): measured here, <c>Task.Delay(10)</c> took 12.4 ms (median of 100), Python's
/// <c>time.sleep(0.01)</c> 10.1 ms, and a buyer's 10 ms under the lock became 12-14 ms of every handoff. One background
/// thread per process (started on first use, blocked while nothing is due) wakes for each deadline with the precise
/// clock, finishing the last part of a millisecond with <c>usleep</c>.
/// </summary>
public static class Sleep
{
    private static readonly object Gate = new();
    private static readonly SortedSet<Sleeper> Due = new(Comparer<Sleeper>.Create((a, b) =>
        a.Deadline != b.Deadline ? a.Deadline.CompareTo(b.Deadline) : a.Sequence.CompareTo(b.Sequence)));
    private static readonly AutoResetEvent Changed = new(false);
    private static long _sequence;
    private static Thread? _waker;
    private static bool _microsleepWorks = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>Completes once <paramref name="delay"/> has passed (at once for zero or less), or cancels.</summary>
    public static Task ForAsync(TimeSpan delay, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return Task.FromCanceled(cancellationToken);
        if (delay <= TimeSpan.Zero)
            return Task.CompletedTask;
        if (delay == Timeout.InfiniteTimeSpan || delay > TimeSpan.FromDays(1))
            return Task.Delay(delay, cancellationToken); // far beyond what precision could matter for
        var sleeper = new Sleeper(Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency),
            Interlocked.Increment(ref _sequence));
        // Registered before it is due anywhere, so that the waker never sees it without its registration.
        if (cancellationToken.CanBeCanceled)
        {
            sleeper.Registration = cancellationToken.Register(() =>
            {
                lock (Gate)
                    Due.Remove(sleeper);
                sleeper.Done.TrySetCanceled(cancellationToken);
            });
        }
        bool first;
        lock (Gate)
        {
            if (sleeper.Done.Task.IsCompleted)
                return sleeper.Done.Task; // cancelled meanwhile
            Due.Add(sleeper);
            first = Due.Min == sleeper;
            if (_waker is null)
            {
                _waker = new Thread(Wake) { IsBackground = true, Name = "Sim.Sleep" };
                _waker.Start();
            }
        }
        if (first)
            Changed.Set();
        return sleeper.Done.Task;
    }

    /// <inheritdoc cref="ForAsync(TimeSpan, CancellationToken)"/>
    public static Task ForAsync(int milliseconds, CancellationToken cancellationToken = default) =>
        ForAsync(TimeSpan.FromMilliseconds(milliseconds), cancellationToken);

    private static void Wake()
    {
        while (true)
        {
            Sleeper? next;
            lock (Gate)
                next = Due.Count > 0 ? Due.Min : null;
            if (next is null)
            {
                Changed.WaitOne();
                continue;
            }
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next.Deadline);
            if (left >= TimeSpan.FromMilliseconds(1))
            {
                // Whole milliseconds by the event (an earlier sleeper wakes it); the rest below.
                Changed.WaitOne((int)left.TotalMilliseconds);
                continue;
            }
            if (left > TimeSpan.Zero)
                Microsleep(left);
            lock (Gate)
                Due.Remove(next);
            next.Registration.Dispose();
            next.Done.TrySetResult();
        }
    }

    private static void Microsleep(TimeSpan left)
    {
        if (_microsleepWorks)
        {
            try
            {
                usleep((uint)Math.Ceiling(left.TotalMicroseconds));
                return;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                _microsleepWorks = false;
            }
        }
        Thread.Sleep(1);
    }

    [DllImport("libc")]
    private static extern int usleep(uint microseconds);

    private sealed class Sleeper(long deadline, long sequence)
    {
        public long Deadline { get; } = deadline;
        public long Sequence { get; } = sequence;
        // Continuations run on the thread pool, never on the waker thread that completes many sleepers in turn.
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationTokenRegistration Registration { get; set; }
    }
}
