using Sim.Core.Scenarios;

namespace Sim.Report;

/// <summary>What <c>index.html</c> shows beside the pictures: the run's summary lines, its process table, and every check's verdict.</summary>
public sealed record ReportSummary(
    string Title,
    bool Ok,
    IReadOnlyList<string> Lines,
    IReadOnlyList<string> Columns,
    IReadOnlyList<IReadOnlyList<string>> Rows,
    IReadOnlyList<CheckVerdict> Checks,
    IReadOnlyList<CheckVerdict> HistoryChecks);
