using Sim.Core.History;

namespace Sim.Report.Checkers;

/// <summary>
/// Mutual exclusion of one lock, in the lock manager's order: a grant while someone still holds the lock (more holders
/// than <paramref name="permits"/>) is a violation, and so is a fencing token that does not increase with the grants.
/// </summary>
public sealed class MutualExclusionChecker(string lockName, int permits = 1) : IHistoryChecker
{
    public string Name => $"mutual exclusion of lock {lockName}";

    public HistoryVerdict Check(History history)
    {
        var holders = new Dictionary<long, HistoryEvent>();
        long lastToken = 0;
        var grants = 0;
        foreach (var e in history.CoordinatorOf(HistoryOps.Lock, lockName))
        {
            if (e.F == "release")
            {
                holders.Remove(e.Token);
                continue;
            }
            if (e.F != "acquire" || e.Type != HistoryType.Ok)
                continue;
            grants++;
            if (e.Token <= lastToken)
            {
                var before = history.CoordinatorOf(HistoryOps.Lock, lockName).Last(p => p.F == "acquire" && p.Token == lastToken && p.Seq < e.Seq);
                return new HistoryVerdict(Name, false,
                    $"{e.Process} was granted token {e.Token} after token {lastToken} was granted to {before.Process}: tokens must increase with grants",
                    Evidence.Of(history, [before, e]));
            }
            lastToken = e.Token;
            if (holders.Count >= permits)
            {
                var others = holders.Values.ToList();
                return new HistoryVerdict(Name, false,
                    $"{e.Process} was granted {lockName} (token {e.Token}) while {Evidence.Names(others.Select(o => $"{o.Process} (token {o.Token})").ToList())} still held it",
                    Evidence.Of(history, [.. others, e]));
            }
            holders[e.Token] = e;
        }
        return new HistoryVerdict(Name, true,
            grants == 0 ? "never granted" : $"{grants} grants, never more than {permits} holder{(permits == 1 ? "" : "s")}, tokens increasing up to {lastToken}", []);
    }
}
