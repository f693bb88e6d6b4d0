using Sim.Core.History;

namespace Sim.Report.Checkers;

/// <summary>
/// Jepsen's total-queue for one queue, in the queue's own order: every item put is got exactly once, nothing is got that
/// nobody put. A duplicate is excused only as a redelivery: an earlier taker of the item was killed or terminated (a
/// joinable queue hands what a dead consumer had not marked done to another), or the queue took the item back when its
/// delivery lease ran out (recorded as <c>expire</c>). With one consumer, each producer's items
/// come out in the order they were put (FIFO per producer).
/// </summary>
public sealed class TotalQueueChecker(string queue) : IHistoryChecker
{
    public string Name => $"total queue {queue}";

    public HistoryVerdict Check(History history)
    {
        var records = history.CoordinatorOf(HistoryOps.Queue, queue).Where(e => e.Type == HistoryType.Ok).ToList();
        var putBy = new Dictionary<long, HistoryEvent>();
        var position = new Dictionary<long, int>();
        var duplicatePuts = 0;
        foreach (var put in records.Where(e => e.F == "put"))
        {
            foreach (var id in put.Values)
            {
                if (!putBy.TryAdd(id, put))
                    duplicatePuts++;
                position.TryAdd(id, position.Count);
            }
        }
        var gotBy = new Dictionary<long, List<HistoryEvent>>();
        foreach (var get in records.Where(e => e.F == "get"))
        {
            foreach (var id in get.Values)
            {
                if (!gotBy.TryGetValue(id, out var takers))
                    gotBy[id] = takers = new List<HistoryEvent>(1);
                takers.Add(get);
            }
        }
        var faulted = history.Faulted;
        var lost = putBy.Keys.Where(id => !gotBy.ContainsKey(id)).ToList();
        var unexpected = gotBy.Keys.Where(id => !putBy.ContainsKey(id)).ToList();
        var duplicated = gotBy.Where(kv => kv.Value.Count > 1).ToList();
        var expired = records.Where(e => e.F == "expire").SelectMany(e => e.Values).ToHashSet();
        var unexcused = duplicated.Where(kv => !expired.Contains(kv.Key) && !kv.Value.Take(kv.Value.Count - 1).Any(t => faulted.Contains(t.Process))).ToList();
        var summary = $"put {putBy.Count}, got {gotBy.Count}, lost {lost.Count}, duplicated {duplicated.Count}" +
                      $"{(duplicated.Count > unexcused.Count ? $" ({duplicated.Count - unexcused.Count} redelivered after their consumer died or its lease ran out)" : "")}, unexpected {unexpected.Count}";
        if (lost.Count > 0)
        {
            var id = lost[0];
            return new HistoryVerdict(Name, false, $"{summary}: item {id} put by {putBy[id].Process} was never got",
                Evidence.Of(history, [putBy[id]]));
        }
        if (unexpected.Count > 0)
        {
            var id = unexpected[0];
            return new HistoryVerdict(Name, false, $"{summary}: item {id} got by {gotBy[id][0].Process} was never put", Evidence.Of(history, [gotBy[id][0]]));
        }
        if (unexcused.Count > 0)
        {
            var (id, takers) = (unexcused[0].Key, unexcused[0].Value);
            return new HistoryVerdict(Name, false,
                $"{summary}: item {id} was got by {Evidence.Names(takers.Select(t => t.Process).ToList())}",
                Evidence.Of(history, [putBy[id], .. takers]));
        }
        var consumers = gotBy.Values.SelectMany(t => t).Select(t => t.Process).Distinct().ToList();
        if (consumers.Count == 1)
        {
            // FIFO per producer: in the order got, each producer's items keep the order in which they were put.
            var last = new Dictionary<string, (int Position, long Id, HistoryEvent Get)>(StringComparer.Ordinal);
            foreach (var get in records.Where(e => e.F == "get"))
            {
                foreach (var id in get.Values)
                {
                    var producer = putBy[id].Process;
                    if (last.TryGetValue(producer, out var before) && position[id] < before.Position)
                    {
                        return new HistoryVerdict(Name, false,
                            $"{summary}: {consumers[0]} got {producer}'s item {id} after its later item {before.Id} (not FIFO)",
                            Evidence.Of(history, [putBy[id], putBy[before.Id], before.Get, get]));
                    }
                    last[producer] = (position[id], id, get);
                }
            }
            summary += ", FIFO per producer";
        }
        return new HistoryVerdict(Name, true, summary + (duplicatePuts > 0 ? $" ({duplicatePuts} items put twice)" : ""), []);
    }
}
