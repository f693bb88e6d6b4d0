using System.Globalization;
using Sim.Core.History;

namespace Sim.Report.Checkers;

/// <summary>How checkers quote the history: one line per event, with its place in the coordinator's order and its time.</summary>
internal static class Evidence
{
    public static string Of(History history, HistoryEvent e)
    {
        var values = e.Values.Count == 0 ? "" : " " + string.Join(",", e.Values.Take(6)) + (e.Values.Count > 6 ? ",…" : "");
        var op = e.Site == HistorySite.Coordinator && e.F == "acquire" ? "granted" : e.F;
        var outcome = e.Type == HistoryType.Fail ? " (refused)" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"#{e.Seq} {history.Seconds(e.TimeUs):+0.000;-0.000} s  {e.Process} {op} {e.Key}{values}{(e.Token != 0 ? $" token {e.Token}" : "")}{outcome}");
    }

    public static IReadOnlyList<string> Of(History history, IEnumerable<HistoryEvent> events) =>
        events.Distinct().OrderBy(e => e.Seq).Select(e => Of(history, e)).ToList();

    /// <summary>"a", "a and b", "a, b and c".</summary>
    public static string Names(IReadOnlyList<string> names) => names.Count switch
    {
        0 => "nobody",
        1 => names[0],
        _ => $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}",
    };
}
