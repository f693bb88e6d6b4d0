using Akka.Actor;
using Akka.Event;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>One step of a deadlock's cycle: <paramref name="Participant"/> holds <paramref name="Holds"/> and waits for <paramref name="Wants"/>, held by <paramref name="WantsHeldBy"/>.</summary>
public sealed record DeadlockEdge(string Participant, string Holds, string Wants, string WantsHeldBy)
{
    public override string ToString() => $"{Participant} holds {Holds}, wants {Wants} (held by {WantsHeldBy})";
}

/// <summary>
/// A cycle closed in the wait-for graph of locks, RLocks and semaphores: every participant in <paramref name="Blocked"/>
/// waits for a permit that only others of them hold. Nobody of them can go on (unless a timeout gives up a wait).
/// </summary>
public sealed record DeadlockFound(IReadOnlyList<DeadlockEdge> Cycle, IReadOnlyList<string> Blocked, long AtUnixMs) : ISimMessage
{
    public override string ToString() => $"deadlock: {string.Join("; ", Cycle)}";
}

/// <summary>Answered with the first <see cref="DeadlockFound"/> (at once if one was found already). For the run's shell.</summary>
public sealed record AwaitDeadlock : ISimMessage
{
    public static readonly AwaitDeadlock Instance = new();
}

public sealed record GetDeadlocks : ISimMessage
{
    public static readonly GetDeadlocks Instance = new();
}

/// <summary>Every deadlock found so far, oldest first.</summary>
public sealed record Deadlocks(IReadOnlyList<DeadlockFound> All) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

public sealed partial class LockManager
{
    /// <summary>Deadlocks kept for <see cref="GetDeadlocks"/>: enough for any report, bounded for a long-lived coordinator.</summary>
    private const int KeptDeadlocks = 100;

    private readonly List<DeadlockFound> _deadlocks = new();
    private readonly HashSet<string> _reportedCycles = new(StringComparer.Ordinal);
    private readonly List<IActorRef> _deadlockWatchers = new();

    private void ReceiveDeadlocks()
    {
        Receive<AwaitDeadlock>(_ =>
        {
            if (_deadlocks.Count > 0)
                Sender.Tell(_deadlocks[0]);
            else
                _deadlockWatchers.Add(Sender);
        });
        Receive<GetDeadlocks>(_ => Sender.Tell(new Deadlocks(_deadlocks.ToList())));
    }

    /// <summary>
    /// Looks for a deadlock that <paramref name="start"/>'s waiting may have closed. The deadlocked participants are the
    /// largest set of waiting ones in which every wait is for a lock whose every holder is in the set (a semaphore with
    /// no holder, or with one holder outside, may still be released); the cycle is then followed from <paramref name="start"/>.
    /// Only participants reachable from <paramref name="start"/> are looked at, so a lock whose holder is running costs one step.
    /// </summary>
    private void CheckDeadlockFrom(string start)
    {
        var wants = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (lockName, named) in _locks)
            foreach (var waiter in named.Waiters)
            {
                if (!wants.TryGetValue(waiter.Request.OwnerName, out var list))
                    wants[waiter.Request.OwnerName] = list = new List<string>();
                list.Add(lockName);
            }
        if (!wants.ContainsKey(start))
            return;

        IEnumerable<string> HoldersOf(string lockName) => _locks[lockName].Holders.Values.Select(h => h.OwnerName);
        var stuck = new HashSet<string>(StringComparer.Ordinal) { start };
        var frontier = new Queue<string>([start]);
        while (frontier.TryDequeue(out var p))
            foreach (var holder in wants[p].SelectMany(HoldersOf))
                if (wants.ContainsKey(holder) && stuck.Add(holder))
                    frontier.Enqueue(holder);

        bool CanMove(string lockName) => HoldersOf(lockName) is var holders && (!holders.Any() || holders.Any(h => !stuck.Contains(h)));
        for (var changed = true; changed;)
        {
            changed = false;
            foreach (var p in stuck.ToList())
                if (wants[p].Any(CanMove))
                {
                    stuck.Remove(p);
                    changed = true;
                }
        }
        if (!stuck.Contains(start))
            return;

        // Follow waits from start until a participant comes round again: that loop is the cycle.
        var path = new List<(string Participant, string Wants, string HeldBy)>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var current = start; !seen.ContainsKey(current);)
        {
            seen[current] = path.Count;
            var wanted = wants[current].First(l => !CanMove(l));
            var next = HoldersOf(wanted).Where(stuck.Contains).OrderBy(h => h == current ? 1 : 0).ThenBy(h => h, StringComparer.Ordinal).First();
            path.Add((current, wanted, next));
            current = next;
        }
        var loop = path.Skip(seen[path[^1].HeldBy]).ToList();
        var cycle = loop.Select((step, i) => new DeadlockEdge(step.Participant, loop[(i + loop.Count - 1) % loop.Count].Wants, step.Wants, step.HeldBy))
            .ToList();
        // Once per occurrence: the waits' request ids tell a cycle that formed again (a wait timed out and was asked
        // again) from the same one still standing.
        var key = string.Join("|", cycle.Select(e =>
                $"{e.Participant}>{e.Wants}#{_locks[e.Wants].Waiters.First(w => w.Request.OwnerName == e.Participant).Request.RequestId}")
            .Order(StringComparer.Ordinal));
        if (_reportedCycles.Count >= 10_000)
            _reportedCycles.Clear();
        if (!_reportedCycles.Add(key))
            return;
        var found = new DeadlockFound(cycle, stuck.Order(StringComparer.Ordinal).ToList(), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _log.Warning("{0}", found);
        if (_deadlocks.Count < KeptDeadlocks)
            _deadlocks.Add(found);
        foreach (var watcher in _deadlockWatchers)
            watcher.Tell(found);
        _deadlockWatchers.Clear();
        Context.System.EventStream.Publish(found);
    }
}
