using System.Globalization;

namespace Sim.Launcher.Sweep;

/// <summary>One figure over the runs of one point that went well: median, min, max and how many runs.</summary>
public sealed record FigureStats(double Median, double Min, double Max, int Count)
{
    public static FigureStats? Of(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? null : new FigureStats(Launcher.Median.Of(list), list.Min(), list.Max(), list.Count);
    }
}

/// <summary>One figure at one point of the grid: Sim's runs, the Python reference's runs at that point, and Sim's failed runs there.</summary>
public sealed record SummaryRow(SweepPoint Point, string Figure, FigureStats? Sim, FigureStats? Python, int Failed);

/// <summary>summary.csv: per point and figure, the median, min, max and count of Sim's runs that went well, and the Python reference's.</summary>
public static class SweepSummary
{
    public const string FileName = "summary.csv";

    /// <summary>
    /// The rows of the summary, points in the grid's order, figures in runs.csv's. A Python run counts at every Sim point it
    /// stands for (<paramref name="pythonPointOf"/>); the Python reference's own numbers (<c>python.*</c>) have no row.
    /// </summary>
    public static IReadOnlyList<SummaryRow> Of(IReadOnlyList<SweepRow> rows, IReadOnlyList<string> figures, IReadOnlyList<SweepPoint> grid,
        Func<SweepPoint, SweepPoint>? pythonPointOf)
    {
        var python = rows.Where(r => r.Series == SweepPlan.Python && r.Ok).GroupBy(r => r.Point).ToDictionary(g => g.Key, g => g.ToList());
        var summary = new List<SummaryRow>();
        var points = rows.Where(r => r.Series == SweepPlan.Sim).GroupBy(r => r.Point)
            .OrderBy(g => grid.ToList().IndexOf(g.Key) is >= 0 and var i ? i : int.MaxValue);
        foreach (var point in points)
        {
            var ok = point.Where(r => r.Ok).ToList();
            var reference = pythonPointOf is null ? [] : python.GetValueOrDefault(pythonPointOf(point.Key)) ?? [];
            foreach (var figure in figures.Where(f => !f.StartsWith("python.", StringComparison.Ordinal)))
            {
                var sim = FigureStats.Of(ok.Where(r => r.Figures.ContainsKey(figure)).Select(r => r.Figures[figure]));
                var py = FigureStats.Of(reference.Where(r => r.Figures.ContainsKey(figure)).Select(r => r.Figures[figure]));
                if (sim is not null || py is not null)
                    summary.Add(new SummaryRow(point.Key, figure, sim, py, point.Count(r => !r.Ok)));
            }
        }
        return summary;
    }

    public static void Write(string path, IReadOnlyList<string> keys, IReadOnlyList<SummaryRow> rows)
    {
        static string N(double? value) => value is { } v ? Csv.Number(v) : "";
        var lines = new List<string>
        {
            Csv.Line([.. keys, "figure", "median", "min", "max", "count", "failed", "python_median", "python_min", "python_max", "python_count"]),
        };
        lines.AddRange(rows.Select(r => Csv.Line([
            .. r.Point.Values.Select(v => v ?? ""), r.Figure,
            N(r.Sim?.Median), N(r.Sim?.Min), N(r.Sim?.Max), (r.Sim?.Count ?? 0).ToString(CultureInfo.InvariantCulture), r.Failed.ToString(CultureInfo.InvariantCulture),
            N(r.Python?.Median), N(r.Python?.Min), N(r.Python?.Max), r.Python is null ? "" : r.Python.Count.ToString(CultureInfo.InvariantCulture),
        ])));
        RunReport.WriteText(path, string.Join("\n", lines) + "\n");
    }
}
