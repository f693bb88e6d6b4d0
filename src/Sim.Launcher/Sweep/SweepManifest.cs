using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sim.Launcher.Sweep;

/// <summary>
/// sweep.json in a sweep's folder: what is swept. Running a sweep again into the same folder resumes it: the scenario, the
/// fixed settings (--set), the varied keys, --compare, --pool and --cluster must be the same (else the folder holds another
/// experiment: a usage error); the values and the number of runs may grow, and only the runs not yet in runs.csv run.
/// The manifest keeps every value ever swept, so the summary and the charts cover every run recorded.
/// </summary>
public sealed record SweepManifest(
    string Scenario, IReadOnlyList<string> Settings, IReadOnlyList<SweepAxis> Axes, int Runs, string? Compare, bool Pool, string? Cluster, string Command)
{
    public const string FileName = "sweep.json";

    public IReadOnlyList<string> Keys => Axes.Select(a => a.Key).ToList();

    /// <summary>What makes another experiment than this one, or null when <paramref name="other"/> is the same one.</summary>
    public string? Differs(SweepManifest other)
    {
        static string List(IEnumerable<string> values) => string.Join(" ", values) is { Length: > 0 } text ? text : "none";
        if (Scenario != other.Scenario)
            return $"scenario {Scenario} there, {other.Scenario} now";
        if (!Settings.Order().SequenceEqual(other.Settings.Order()))
            return $"--set {List(Settings)} there, {List(other.Settings)} now";
        if (!Keys.SequenceEqual(other.Keys))
            return $"varied keys {List(Keys)} there, {List(other.Keys)} now";
        if (Compare != other.Compare)
            return $"--compare {Compare ?? "none"} there, {other.Compare ?? "none"} now";
        if (Pool != other.Pool)
            return $"--pool {(Pool ? "on" : "off")} there, {(other.Pool ? "on" : "off")} now";
        if (Cluster != other.Cluster)
            return $"--cluster {Cluster ?? "none"} there, {other.Cluster ?? "none"} now";
        return null;
    }

    /// <summary>This sweep continued as <paramref name="now"/>: every value of both (the old ones first), the larger number of runs, the newer command.</summary>
    public SweepManifest Merge(SweepManifest now) => now with
    {
        Axes = Axes.Zip(now.Axes, (old, added) => old with { Values = [.. old.Values, .. added.Values.Where(v => !old.Values.Contains(v))] }).ToList(),
        Runs = Math.Max(Runs, now.Runs),
    };

    public static SweepManifest? Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
            return null;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var values = json["values"]!.AsObject();
            return new SweepManifest(
                json["scenario"]!.GetValue<string>(),
                json["settings"]!.AsArray().Select(s => s!.GetValue<string>()).ToList(),
                json["keys"]!.AsArray().Select(k => k!.GetValue<string>())
                    .Select(k => new SweepAxis(k, values[k]!.AsArray().Select(v => v!.GetValue<string>()).ToList())).ToList(),
                json["runs"]!.GetValue<int>(),
                json["compare"]?.GetValue<string>(),
                json["pool"]!.GetValue<bool>(),
                json["cluster"]?.GetValue<string>(),
                json["command"]?.GetValue<string>() ?? "");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new UsageException($"{path} is not a sweep's manifest: {e.Message}");
        }
    }

    public void Write(string folder) => RunReport.WriteJson(Path.Combine(folder, FileName), new JsonObject
    {
        ["scenario"] = Scenario,
        ["settings"] = new JsonArray(Settings.Select(s => (JsonNode)s).ToArray()),
        ["keys"] = new JsonArray(Keys.Select(k => (JsonNode)k).ToArray()),
        ["values"] = new JsonObject(Axes.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)new JsonArray(a.Values.Select(v => (JsonNode)v).ToArray())))),
        ["runs"] = Runs,
        ["compare"] = Compare,
        ["pool"] = Pool,
        ["cluster"] = Cluster,
        ["command"] = Command,
    });
}
