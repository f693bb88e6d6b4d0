using System.Text.Json;

namespace Sim.Launcher.Sweep;

/// <summary>The figures of one run, read from the JSON it wrote: every number, by its path.</summary>
public static class SweepFigures
{
    /// <summary>Per-participant numbers that are no figure of the run.</summary>
    private static readonly HashSet<string> NotFigures = ["pid", "exitcode"];

    /// <summary>
    /// Every number of a Sim run's JSON by its path (<c>timing.wall_s</c>); a list of objects (<c>processes</c>, <c>faults</c>)
    /// gives the median of each of their numbers (<c>processes.median.peak_rss_mb</c>); a map keyed by participant
    /// (<c>writes_by</c>, <c>per_consumer</c>) is left out, its columns would change with the number of participants. With a
    /// Python reference, its figures that Sim's JSON does not hold as such are added (<c>increments_per_s</c>).
    /// </summary>
    public static OrderedDictionary<string, double> OfSim(JsonElement json, PythonReference? reference)
    {
        var participants = json.TryGetProperty("processes", out var processes) && processes.ValueKind == JsonValueKind.Array
            ? processes.EnumerateArray().Where(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("name", out _))
                .Select(p => p.GetProperty("name").GetString() ?? "").ToHashSet()
            : [];
        var figures = new OrderedDictionary<string, double>();
        Walk(json, "", participants, figures);
        foreach (var figure in reference?.Figures ?? [])
        {
            if (!figures.ContainsKey(figure.Name) && Read(figure.FromSim, json) is { } value)
                figures[figure.Name] = value;
        }
        return figures;
    }

    /// <summary>
    /// A Python reference's JSON line: the figures it shares with Sim under Sim's names (so a summary puts them side by side),
    /// and every number it printed as <c>python.KEY</c>.
    /// </summary>
    public static OrderedDictionary<string, double> OfPython(JsonElement json, PythonReference reference)
    {
        var figures = new OrderedDictionary<string, double>();
        foreach (var figure in reference.Figures)
        {
            if (Read(figure.FromPython, json) is { } value)
                figures[figure.Name] = value;
        }
        var own = new OrderedDictionary<string, double>();
        Walk(json, "", new HashSet<string>(), own);
        foreach (var (name, value) in own)
            figures[$"python.{name}"] = value;
        return figures;
    }

    private static double? Read(Func<JsonElement, double> read, JsonElement json)
    {
        try
        {
            return read(json) is var value && double.IsFinite(value) ? value : null;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null; // not in this run's JSON (a failed run, an older format)
        }
    }

    private static void Walk(JsonElement element, string path, IReadOnlySet<string> participants, OrderedDictionary<string, double> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                into[path] = element.GetDouble();
                break;
            case JsonValueKind.Object:
                if (path.Length > 0 && participants.Count > 0 && element.EnumerateObject().Any()
                    && element.EnumerateObject().All(p => participants.Contains(p.Name)))
                    break;
                foreach (var property in element.EnumerateObject())
                    Walk(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", participants, into);
                break;
            case JsonValueKind.Array:
                var items = element.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object).ToList();
                var names = items.SelectMany(e => e.EnumerateObject()).Where(p => p.Value.ValueKind == JsonValueKind.Number && !NotFigures.Contains(p.Name))
                    .Select(p => p.Name).Distinct().ToList();
                foreach (var name in names)
                {
                    into[$"{path}.median.{name}"] = Median.Of(items.Where(e => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number)
                        .Select(e => e.GetProperty(name).GetDouble()));
                }
                break;
        }
    }
}
