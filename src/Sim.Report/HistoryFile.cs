using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sim.Core.History;

namespace Sim.Report;

/// <summary>
/// A history as JSON Lines, one event per line in time order, in the shape of a Jepsen history:
/// <c>{"index", "type": invoke|ok|fail|info, "process", "process_id", "f", "key", "kind", "value", "token", "time", ...}</c>.
/// <c>time</c> is nanoseconds since the run's origin (the start barrier's release) on the writer's host clock;
/// <c>coordinator_index</c> and <c>coordinator_time</c> tell where the coordinator's primitive processed the operation.
/// Faults are <c>nemesis</c> operations (f kill or terminate, value the participant); exits are <c>launcher</c> operations
/// (f exit, value [participant, exit code]). README: "History, checkers and pictures" gives the mapping to Jepsen's EDN.
/// </summary>
public static class HistoryFile
{
    public static void Write(History history, string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null)
            Directory.CreateDirectory(folder);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        foreach (var line in Lines(history))
            writer.WriteLine(line.ToJsonString());
    }

    /// <summary>The history's events as JSON objects, in time order (an operation's invoke before its completion).</summary>
    public static IEnumerable<JsonObject> Lines(History history)
    {
        var ids = history.Processes.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => x.i, StringComparer.Ordinal);
        long Ns(long us) => (us - history.OriginUs) * 1000;
        var events = new List<(long Time, int Order, JsonObject Json)>();
        var order = 0;
        foreach (var op in history.Operations)
        {
            JsonObject Base(string type, IReadOnlyList<long> values, long time) => new()
            {
                ["type"] = type,
                ["process"] = op.Process,
                ["process_id"] = ids.TryGetValue(op.Process, out var id) ? id : null,
                ["f"] = op.F,
                ["kind"] = op.Kind,
                ["key"] = op.Key,
                ["value"] = Value(values),
                ["token"] = op.Token == 0 ? null : op.Token,
                ["time"] = Ns(time),
            };
            var invoke = Base("invoke", op.InvokeValues, op.InvokeUs);
            if (op.CoordinatorOnly)
                invoke["note"] = "invocation inferred from the coordinator's record";
            events.Add((op.InvokeUs, order++, invoke));
            var done = Base(op.Type.ToString().ToLowerInvariant(), op.Values, op.CompleteUs ?? op.CoordinatorUs ?? op.InvokeUs);
            if (op.CoordinatorSeq is { } seq)
                done["coordinator_index"] = seq;
            if (op.CoordinatorUs is { } at)
                done["coordinator_time"] = Ns(at);
            if (op.Note is { } note)
                done["note"] = note;
            events.Add((op.CompleteUs ?? op.CoordinatorUs ?? op.InvokeUs, order++, done));
        }
        foreach (var e in history.ProcessEvents)
        {
            var (process, value) = e.F == "exit"
                ? ("launcher", (JsonNode)new JsonArray(e.Process, e.Values.Count == 1 ? e.Values[0] : null))
                : ("nemesis", (JsonNode)JsonValue.Create(e.Process));
            foreach (var type in new[] { "invoke", "info" })
            {
                events.Add((e.TimeUs, order++, new JsonObject
                {
                    ["type"] = type,
                    ["process"] = process,
                    ["f"] = e.F,
                    ["value"] = value.DeepClone(),
                    ["time"] = Ns(e.TimeUs),
                }));
            }
        }
        var index = 0;
        foreach (var (_, _, json) in events.OrderBy(e => e.Time).ThenBy(e => e.Order))
        {
            var line = new JsonObject { ["index"] = index++ };
            foreach (var (key, value) in json.ToList())
            {
                json.Remove(key);
                line[key] = value;
            }
            yield return line;
        }
    }

    private static JsonNode? Value(IReadOnlyList<long> values) => values.Count switch
    {
        0 => null,
        1 => values[0],
        _ => new JsonArray(values.Select(v => (JsonNode)v).ToArray()),
    };

    /// <summary>Reads a file written by <see cref="Write"/> (one JSON object per line).</summary>
    public static IReadOnlyList<JsonObject> Read(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
}
