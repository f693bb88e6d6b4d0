using Sim.Core.History;

namespace Sim.Report.Checkers;

/// <summary>
/// The ticket file as a register, in the coordinator's order of the store's reads and writes and the lock's grants:
/// every read returns the last count written (or the initial one); no write is based on a read that another write
/// overtook (a lost update: the oversold tickets come from there); every fenced write carries the token of the grant
/// its writer holds at that moment, and accepted tokens never go back.
/// </summary>
public sealed class TicketFileChecker(int initial, string? lockName) : IHistoryChecker
{
    public string Name => "ticket file as a register";

    public HistoryVerdict Check(History history)
    {
        var file = history.CoordinatorOf(HistoryOps.Tickets, HistoryOps.Tickets).ToList();
        var locks = lockName is null ? [] : history.CoordinatorOf(HistoryOps.Lock, lockName).ToList();
        long current = initial;
        HistoryEvent? lastWrite = null;
        long lastToken = 0;
        var holding = new Dictionary<string, HistoryEvent>(StringComparer.Ordinal);
        var writes = 0;
        foreach (var e in file.Concat(locks).OrderBy(e => e.Seq))
        {
            if (e.Kind == HistoryOps.Lock)
            {
                if (e.F == "acquire")
                    holding[e.Process] = e;
                else if (e.F == "release" && holding.TryGetValue(e.Process, out var held) && held.Token == e.Token)
                    holding.Remove(e.Process);
                continue;
            }
            if (e.Type != HistoryType.Ok)
                continue;
            var value = e.Values.FirstOrDefault();
            if (e.F == "read" && value != current)
            {
                return new HistoryVerdict(Name, false, $"{e.Process} read {value} but the file held {current}",
                    Evidence.Of(history, lastWrite is null ? [e] : [lastWrite, e]));
            }
            if (e.F != "write")
                continue;
            writes++;
            if (e.Token != 0)
            {
                if (!holding.TryGetValue(e.Process, out var grant) || grant.Token != e.Token)
                {
                    return new HistoryVerdict(Name, false,
                        $"{e.Process} wrote {value} with token {e.Token} while {(grant is null ? "holding no grant" : $"holding token {grant.Token}")} of lock {lockName}",
                        Evidence.Of(history, grant is null ? [e] : [grant, e]));
                }
                if (e.Token < lastToken)
                {
                    return new HistoryVerdict(Name, false, $"{e.Process} wrote with token {e.Token} after a write with token {lastToken} was accepted",
                        Evidence.Of(history, lastWrite is null ? [e] : [lastWrite, e]));
                }
                lastToken = e.Token;
            }
            current = value;
            lastWrite = e;
        }
        var lost = LostUpdates.Find(file);
        if (lost.Count > 0)
        {
            var races = LostUpdates.Describe(lost);
            return new HistoryVerdict(Name, false,
                $"{lost.Count} lost update{(lost.Count == 1 ? "" : "s")}: {string.Join("; ", races.Take(4).Select(r => r.Text))}{(races.Count > 4 ? "; …" : "")}",
                Evidence.Of(history, races[0].Events));
        }
        return new HistoryVerdict(Name, true,
            $"{writes} writes, each based on the latest count{(lastToken > 0 ? $", tokens in lock order up to {lastToken}" : "")}; final count {current}", []);
    }
}
