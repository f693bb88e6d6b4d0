using Sim.Core.Scenarios;

namespace Sim.Report.Checkers;

/// <summary>What a checker found: passed or not, one line saying why, and when it failed the smallest piece of history that shows it.</summary>
public sealed record HistoryVerdict(string Name, bool Passed, string Detail, IReadOnlyList<string> Evidence)
{
    public CheckVerdict ToCheck() => new(Name, Passed, Detail, Evidence);
}

/// <summary>A checker over a run's history (Jepsen's checkers, for Sim's primitives).</summary>
public interface IHistoryChecker
{
    string Name { get; }

    HistoryVerdict Check(History history);
}
