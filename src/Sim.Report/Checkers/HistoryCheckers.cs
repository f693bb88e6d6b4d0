using Sim.Core.Scenarios;

namespace Sim.Report.Checkers;

/// <summary>
/// The checkers a scenario's history gets, from the primitives it declares (the same for Sim's scenarios and users'):
/// each Lock and RLock mutual exclusion; the ticket file a register (fenced by the lock of its name, or the scenario's
/// only lock); each queue total-queue; each shared value a counter.
/// </summary>
public static class HistoryCheckers
{
    public static IReadOnlyList<IHistoryChecker> For(Scenario scenario)
    {
        var checkers = new List<IHistoryChecker>();
        var locks = scenario.Primitives.Where(p => p.Kind is PrimitiveKind.Lock or PrimitiveKind.RLock).Select(p => p.Name).ToList();
        foreach (var primitive in scenario.Primitives)
        {
            switch (primitive.Kind)
            {
                case PrimitiveKind.Lock or PrimitiveKind.RLock:
                    checkers.Add(new MutualExclusionChecker(primitive.Name));
                    break;
                case PrimitiveKind.Tickets:
                    var guard = locks.Contains(primitive.Name) ? primitive.Name : locks is [var only] ? only : null;
                    checkers.Add(new TicketFileChecker(scenario.ResolveInt(primitive.Size, primitive.Name), guard));
                    break;
                case PrimitiveKind.Queue or PrimitiveKind.JoinableQueue:
                    checkers.Add(new TotalQueueChecker(primitive.Name));
                    break;
                case PrimitiveKind.Value:
                    checkers.Add(new CounterChecker(primitive.Name, scenario.ResolveInt(primitive.Size, primitive.Name)));
                    break;
            }
        }
        return checkers;
    }

    /// <summary>Runs every checker of <paramref name="scenario"/> over <paramref name="history"/>.</summary>
    public static IReadOnlyList<HistoryVerdict> Check(Scenario scenario, History history) =>
        For(scenario).Select(c => c.Check(history)).ToList();
}
