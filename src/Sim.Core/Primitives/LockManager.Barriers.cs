using Akka.Actor;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>
/// Python's <c>Barrier(parties).wait(timeout)</c>: answered once <paramref name="Parties"/> participants wait, with each
/// one's arrival index; a timeout breaks the barrier for every waiter (Python's BrokenBarrierError).
/// </summary>
public sealed record BarrierWait(string Barrier, int Parties, long RequestId, string Participant, IActorRef Owner, TimeSpan Timeout)
    : IParticipantRequest;

/// <summary>The barrier let its parties go; <paramref name="Index"/> is 0 for the first to arrive, parties − 1 for the last.</summary>
public sealed record BarrierPassed(string Barrier, long RequestId, int Index) : ISimMessage;

/// <summary>The barrier is broken (a timeout, abort, reset, or a waiter's death): Python's BrokenBarrierError.</summary>
public sealed record BarrierBroken(string Barrier, long RequestId, string Reason) : ISimMessage;

public enum BarrierAction : byte
{
    /// <summary>Python's <c>abort()</c>: broken, every waiter and later wait fails until a reset.</summary>
    Abort = 0,

    /// <summary>Python's <c>reset()</c>: every waiter fails, then the barrier is empty and whole again.</summary>
    Reset = 1,

    /// <summary>Only the state (Python's <c>parties</c>, <c>n_waiting</c>, <c>broken</c>).</summary>
    State = 2,
}

public sealed record BarrierCommand(string Barrier, int Parties, BarrierAction Action, string Participant) : IParticipantRequest;

public sealed record BarrierState(string Barrier, int Parties, int Waiting, bool Broken) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

public sealed partial class LockManager
{
    private sealed record BarrierDeadline(string Barrier, string Participant, long RequestId) : INoSerializationVerificationNeeded;

    private sealed class BarrierWaiter(BarrierWait request, IActorRef replyTo, ICancelable? timer)
    {
        public BarrierWait Request { get; } = request;
        public IActorRef ReplyTo { get; } = replyTo;
        public ICancelable? Timer { get; } = timer;
    }

    private sealed class NamedBarrier(int parties)
    {
        public int Parties { get; } = parties;
        public bool Broken { get; set; }
        public List<BarrierWaiter> Waiters { get; } = new();
    }

    private readonly Dictionary<string, NamedBarrier> _barriers = new(StringComparer.Ordinal);

    private void ReceiveBarriers()
    {
        Receive<BarrierWait>(m =>
        {
            var barrier = BarrierOf(m.Barrier, m.Parties, out var refusal);
            refusal ??= BadTimeout(m.Timeout);
            if (barrier is null || refusal is not null)
            {
                Sender.Tell(new AcquireRefused(m.Barrier, m.RequestId, refusal!));
                return;
            }
            if (barrier.Broken)
            {
                Sender.Tell(new BarrierBroken(m.Barrier, m.RequestId, $"barrier '{m.Barrier}' is broken"));
                return;
            }
            var index = barrier.Waiters.Count;
            if (index + 1 == barrier.Parties)
            {
                // The last one: everyone goes, and the barrier is empty for its next round.
                foreach (var (waiter, i) in barrier.Waiters.Select((w, i) => (w, i)))
                {
                    waiter.Timer?.Cancel();
                    waiter.ReplyTo.Tell(new BarrierPassed(m.Barrier, waiter.Request.RequestId, i));
                }
                barrier.Waiters.Clear();
                Sender.Tell(new BarrierPassed(m.Barrier, m.RequestId, index));
                return;
            }
            if (m.Timeout == TimeSpan.Zero)
            {
                Break(m.Barrier, barrier, $"barrier '{m.Barrier}': {m.Participant} timed out at once (timeout 0)");
                Sender.Tell(new BarrierBroken(m.Barrier, m.RequestId, $"barrier '{m.Barrier}' broken: {m.Participant} timed out"));
                return;
            }
            var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(m.Timeout, Self, new BarrierDeadline(m.Barrier, m.Participant, m.RequestId), Self);
            barrier.Waiters.Add(new BarrierWaiter(m, Sender, timer));
            WatchSession(m.Owner, m.Participant);
        });
        Receive<BarrierDeadline>(m =>
        {
            if (_barriers.TryGetValue(m.Barrier, out var barrier)
                && barrier.Waiters.FirstOrDefault(w => w.Request.Participant == m.Participant && w.Request.RequestId == m.RequestId) is { } late)
                Break(m.Barrier, barrier, $"barrier '{m.Barrier}' broken: {m.Participant} timed out after {late.Request.Timeout.TotalMilliseconds:0} ms");
        });
        Receive<BarrierCommand>(m =>
        {
            var barrier = BarrierOf(m.Barrier, m.Parties, out var refusal);
            if (barrier is null)
            {
                Sender.Tell(new AcquireRefused(m.Barrier, 0, refusal!));
                return;
            }
            switch (m.Action)
            {
                case BarrierAction.Abort:
                    Break(m.Barrier, barrier, $"barrier '{m.Barrier}' aborted by {m.Participant}");
                    break;
                case BarrierAction.Reset:
                    Break(m.Barrier, barrier, $"barrier '{m.Barrier}' reset by {m.Participant}");
                    barrier.Broken = false;
                    break;
            }
            Sender.Tell(new BarrierState(m.Barrier, barrier.Parties, barrier.Waiters.Count, barrier.Broken));
        });
    }

    private NamedBarrier? BarrierOf(string name, int parties, out string? refusal)
    {
        refusal = BadName(name) ?? (parties < 1 ? $"a barrier needs at least 1 party, got {parties}" : null);
        if (refusal is not null)
            return null;
        if (!_barriers.TryGetValue(name, out var barrier))
            _barriers[name] = barrier = new NamedBarrier(parties);
        if (barrier.Parties != parties)
        {
            refusal = $"barrier '{name}' has {barrier.Parties} parties; this request expects {parties}";
            return null;
        }
        return barrier;
    }

    /// <summary>Breaks the barrier: every waiter fails with <paramref name="why"/>, and so does every wait until a reset.</summary>
    private static void Break(string name, NamedBarrier barrier, string why)
    {
        barrier.Broken = true;
        foreach (var waiter in barrier.Waiters)
        {
            waiter.Timer?.Cancel();
            waiter.ReplyTo.Tell(new BarrierBroken(name, waiter.Request.RequestId, why));
        }
        barrier.Waiters.Clear();
    }

    /// <summary>A waiter that died breaks its barrier for the others at once, instead of leaving them to wait out their timeouts.</summary>
    private void BarriersForget(string participant, string why)
    {
        foreach (var (name, barrier) in _barriers)
            if (barrier.Waiters.Any(w => w.Request.Participant == participant))
            {
                foreach (var dead in barrier.Waiters.Where(w => w.Request.Participant == participant).ToList())
                {
                    dead.Timer?.Cancel();
                    barrier.Waiters.Remove(dead);
                }
                Break(name, barrier, $"barrier '{name}' broken: {why} while waiting");
            }
    }

    private void CancelPrimitiveTimers()
    {
        foreach (var waiter in _conditions.Values.SelectMany(c => c.Waiters))
            waiter.Timer?.Cancel();
        foreach (var waiter in _events.Values.SelectMany(e => e.Waiters))
            waiter.Timer.Cancel();
        foreach (var waiter in _barriers.Values.SelectMany(b => b.Waiters))
            waiter.Timer?.Cancel();
    }
}
