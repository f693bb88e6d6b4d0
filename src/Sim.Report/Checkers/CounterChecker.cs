using Sim.Core.History;

namespace Sim.Report.Checkers;

/// <summary>
/// A shared value used as a counter (Jepsen's counter checker): its final value lies between the initial value plus the
/// increments the participants saw acknowledged (a write of what they read + 1, or an add) and plus every increment they
/// attempted (one whose answer never came may have landed). Lost updates are named from the coordinator's order.
/// </summary>
public sealed class CounterChecker(string key, long initial) : IHistoryChecker
{
    public string Name => $"counter {key}";

    public HistoryVerdict Check(History history)
    {
        var records = history.CoordinatorOf(HistoryOps.Value, key).ToList();
        var final = records.LastOrDefault(e => e.Type == HistoryType.Ok && e.F is "write" or "add")?.Values.FirstOrDefault() ?? initial;
        long acknowledged = 0, attempted = 0;
        var notCounter = 0;
        foreach (var process in history.OperationsOf(HistoryOps.Value, key).GroupBy(o => o.Process))
        {
            long? read = null;
            foreach (var op in process.OrderBy(o => o.InvokeUs))
            {
                switch (op.F)
                {
                    // A read only the coordinator recorded (its process died before sending its own record) still tells what was read.
                    case "read" when op.IsOk || op.CoordinatorOnly:
                        read = op.Value;
                        break;
                    case "add":
                        var delta = op.InvokeValues.FirstOrDefault();
                        attempted += delta;
                        if (op.IsOk)
                            acknowledged += delta;
                        break;
                    case "write":
                        if (read is null || op.InvokeValues.FirstOrDefault() != read + 1)
                        {
                            notCounter++;
                            break;
                        }
                        if (op.Type != HistoryType.Fail)
                            attempted++;
                        if (op.IsOk)
                            acknowledged++;
                        read = null;
                        break;
                }
            }
        }
        if (notCounter > 0)
            return new HistoryVerdict(Name, true, $"not used as a counter ({notCounter} writes not of a read value + 1): nothing to check", []);
        var (low, high) = (initial + acknowledged, initial + attempted);
        if (final >= low && final <= high)
            return new HistoryVerdict(Name, true, $"final {final} = initial {initial} + {acknowledged} acknowledged increments{(high > low ? $" (at most {attempted} attempted)" : "")}", []);
        var lost = LostUpdates.Find(records);
        var races = LostUpdates.Describe(lost);
        var why = races.Count > 0 ? $": {lost.Count} lost updates, {string.Join("; ", races.Take(3).Select(r => r.Text))}{(races.Count > 3 ? "; …" : "")}" : "";
        return new HistoryVerdict(Name, false, $"final {final}, but {acknowledged} increments were acknowledged (expected {low}{(high > low ? $" to {high}" : "")}){why}",
            races.Count > 0 ? Evidence.Of(history, races[0].Events) : Evidence.Of(history, records.TakeLast(3)));
    }
}
