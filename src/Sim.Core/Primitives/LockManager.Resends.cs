using Akka.Actor;

namespace Sim.Core;

/// <summary>
/// Resent acquires. Akka.Remote drops whatever a broken link held (a partition, a reconnect), so a client that hears
/// nothing sends the same request again (<see cref="SemLock"/>); here every copy after the first is recognised by its
/// owner and request id: one still waiting is answered to its newest asker, one already granted gets its grant again,
/// and one already over is answered as it ended (timed out; a grant that ended without its owner's release, by a lease
/// or a cancel, is refused) or not at all (given back: its owner had the grant), so a late copy can never take the lock
/// a second time.
/// </summary>
public sealed partial class LockManager
{
    /// <summary>Requests of one owner that are over, the newest few: a copy arrives at most a few resends late.</summary>
    private const int FinishedKept = 64;

    /// <summary>One owner's newest finished requests, oldest overwritten first.</summary>
    private sealed class FinishedRing
    {
        public (long Id, Func<long, ISimMessage>? Answer)[] Entries { get; } = new (long, Func<long, ISimMessage>?)[FinishedKept];
        public int Next { get; set; }
    }

    private readonly Dictionary<string, FinishedRing> _finished = new(StringComparer.Ordinal);

    /// <summary>True if <paramref name="m"/> is a copy of a request this manager has seen, which is then answered here.</summary>
    private bool AnsweredAsResend(Acquire m)
    {
        if (_locks.TryGetValue(m.Lock, out var named))
        {
            if (FindWaiter(named, m.OwnerName, m.RequestId) is { } waiting)
            {
                // The earlier asker may have given up on this copy: the grant goes to whoever asked last.
                waiting.ReplyTo = Sender;
                return true;
            }
            foreach (var holder in named.Holders.Values)
            {
                if (holder.OwnerName == m.OwnerName && holder.RequestIds.Contains(m.RequestId))
                {
                    Sender.Tell(new Granted(m.Lock, m.RequestId, holder.Token, holder.Lease));
                    return true;
                }
            }
        }
        if (!TryFinished(m.OwnerName, m.RequestId, out var answer))
            return false;
        if (answer is not null)
            Sender.Tell(answer(m.RequestId));
        return true;
    }

    /// <summary>
    /// These requests of <paramref name="owner"/> are over: a late copy of any of them gets <paramref name="answer"/> (none:
    /// it is ignored).
    /// </summary>
    private void Finished(string owner, IEnumerable<long> requestIds, Func<long, ISimMessage>? answer = null)
    {
        if (!_finished.TryGetValue(owner, out var ring))
            _finished[owner] = ring = new FinishedRing();
        var entries = ring.Entries;
        foreach (var id in requestIds)
        {
            // Said again with an answer (a deadline after the waiter's removal): the newer word replaces the older.
            var known = Array.FindIndex(entries, e => e.Id == id);
            if (known >= 0)
            {
                entries[known] = (id, answer ?? entries[known].Answer);
                continue;
            }
            entries[ring.Next] = (id, answer);
            ring.Next = (ring.Next + 1) % FinishedKept;
        }
    }

    private bool TryFinished(string owner, long requestId, out Func<long, ISimMessage>? answer)
    {
        answer = null;
        if (requestId == 0 || !_finished.TryGetValue(owner, out var ring))
            return false;
        foreach (var (id, then) in ring.Entries)
        {
            if (id == requestId)
            {
                answer = then;
                return true;
            }
        }
        return false;
    }

    private void ForgetFinished(string owner) => _finished.Remove(owner);
}
