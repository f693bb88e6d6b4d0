using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;

namespace Sim.Launcher;

/// <summary>One figure that both a Sim run's JSON and its Python reference's JSON line report: how to read it from each.</summary>
public sealed record ComparedFigure(string Name, Func<JsonElement, double> FromSim, Func<JsonElement, double> FromPython);

/// <summary>One option of a Sim command and the arguments of the Python reference that say the same.</summary>
public sealed record PythonArgument(string SimOption, Func<ParseResult, IEnumerable<string>> ToPython);

/// <summary>
/// The Python <c>multiprocessing</c> reference (bench/python) of a Sim scenario: its script, how the scenario's options
/// become the script's arguments (Sim's values, defaults included, so both do the same work), and the figures both report.
/// <paramref name="FixedOptions"/> are set by the scenario itself (startup's <c>--increments 1 --atomic</c>), not by the user.
/// </summary>
public sealed record PythonReference(
    string Name, string Script, IReadOnlyList<PythonArgument> Arguments, IReadOnlyList<ComparedFigure> Figures, IReadOnlyList<string>? FixedOptions = null)
{
    public ComparedFigure Figure(string name) => Figures.First(f => f.Name == name);

    /// <summary>The script and its arguments for a Sim run parsed as <paramref name="sim"/>.</summary>
    public IReadOnlyList<string> ArgumentsFor(ParseResult sim) => [Script, .. Arguments.SelectMany(a => a.ToPython(sim))];

    /// <summary>The options given to the Sim run that change its work and that the script has no counterpart of.</summary>
    public IReadOnlyList<string> Unmatched(ParseResult sim) => sim.CommandResult.Children.OfType<OptionResult>()
        .Where(r => !r.Implicit).Select(r => r.Option.Name)
        .Where(name => !PythonReferences.HowSimRuns.Contains(name) && !(FixedOptions ?? []).Contains(name) && Arguments.All(a => a.SimOption != name))
        .ToList();
}

/// <summary>The references of the scenario commands (and of start-up alone), for <c>sim bench</c> and <c>sim sweep</c>.</summary>
public static class PythonReferences
{
    /// <summary>Options that change how Sim runs (where, how started, what is recorded), not the work: no reference needs them.</summary>
    public static readonly IReadOnlySet<string> HowSimRuns = new HashSet<string>(StringComparer.Ordinal)
    {
        "--timeout", "--start-method", "--batch", "--no-history", "--history", "--report", "--db", "--json",
        "--cluster", "--host", "--placement", "--on", "--cert",
    };

    public static readonly PythonReference Tickets = new("tickets", "tickets.py",
        [Int("--buyers"), Int("--tickets"), Int("--delay-ms"), Flag("--no-lock")],
        [
            new("timing.wall_s", At("timing", "wall_s"), At("wall_s")),
            new("timing.ready_s", At("timing", "ready_s"), At("ready_s")),
            new("timing.work_s", At("timing", "work_s"), At("work_s")),
            new("tickets.sold", At("tickets", "sold"), At("sold")),
            new("tickets.oversold", At("tickets", "oversold"), At("oversold")),
            new("tickets.lost_updates", At("tickets", "lost_updates"), At("lost_updates")),
        ]);

    public static readonly PythonReference Prodcons = new("prodcons", "queue_throughput.py",
        [Int("--producers"), Int("--consumers"), Int("--items"), Int("--item-bytes"),
            new("--mode", sim => sim.GetValue<string>("--mode") == "joinable" ? ["--joinable"] : [])],
        [new("throughput_items_per_s", At("throughput_items_per_s"), At("items_per_s"))]);

    public static readonly PythonReference Counter = new("counter", "locked_counter.py",
        [Int("--processes"), Int("--increments")],
        [new("increments_per_s", j => At("expected")(j) / Math.Max(1e-6, At("timing", "work_s")(j)), At("increments_per_s"))]);

    public static readonly PythonReference Lock = new("lock", "lock_handoffs.py",
        [Int("--processes"), Int("--acquires")],
        [new("handoffs_per_s", At("handoffs_per_s"), At("handoffs_per_s"))]);

    public static readonly PythonReference Pipe = new("pipe", "pipe_rtt.py",
        [Int("--messages"), Int("--size")],
        [
            new("rtt_median_us", At("rtt_median_us"), At("rtt_median_us")),
            new("one_way_messages_per_s", At("one_way_messages_per_s"), At("one_way_messages_per_s")),
        ]);

    /// <summary>Start-up alone: Sim's <c>counter --increments 1 --atomic</c> next to <c>startup.py</c>, time to all ready and what a participant costs.</summary>
    public static readonly PythonReference Startup = new("startup", "startup.py",
        [Int("--processes")],
        [
            new("timing.ready_s", At("timing", "ready_s"), At("ready_s")),
            new("processes.median.peak_rss_mb", MedianOf("peak_rss_mb"), j => At("peak_rss_kb_median")(j) / 1024),
            // What a participant costs the machine: shared pages (runtime, libraries) divided among all of them.
            new("processes.median.pss_mb", MedianOf("pss_mb"), j => At("pss_kb_median")(j) / 1024),
            new("processes.median.private_mb", MedianOf("private_mb"), j => At("private_kb_median")(j) / 1024),
            // What starting one costs in CPU (user + system of the process until all are ready), whatever the wall time.
            new("processes.median.cpu_s_at_ready", MedianOf("cpu_s_at_ready"), At("cpu_s_median")),
        ],
        ["--increments", "--atomic"]);

    public static readonly IReadOnlyList<PythonReference> All = [Tickets, Prodcons, Counter, Lock, Pipe, Startup];

    public static PythonReference? For(string name) => All.FirstOrDefault(r => r.Name == name);

    /// <summary>A number in a run's JSON, by its path of property names; a missing one throws.</summary>
    public static Func<JsonElement, double> At(params string[] path) => element =>
    {
        foreach (var name in path)
            element = element.GetProperty(name);
        return element.GetDouble();
    };

    /// <summary>The median of one per-participant figure of a Sim run's JSON (over the processes that report it).</summary>
    public static Func<JsonElement, double> MedianOf(string key) => run =>
        Median.Of(run.GetProperty("processes").EnumerateArray()
            .Where(p => p.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number)
            .Select(p => p.GetProperty(key).GetDouble()));

    private static PythonArgument Int(string option) =>
        new(option, sim => [option, sim.GetValue<int>(option).ToString(CultureInfo.InvariantCulture)]);

    private static PythonArgument Flag(string option) => new(option, sim => sim.GetValue<bool>(option) ? [option] : []);
}
