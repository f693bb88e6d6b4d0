using System.CommandLine;
using Sim.Core.Scenarios;

namespace Sim.Launcher.Sweep;

/// <summary>
/// What a sweep runs, and how a point becomes a <c>sim</c> command line: a scenario command (tickets, prodcons, counter,
/// lock, pipe), <c>startup</c> (start-up alone: <c>sim counter --increments 1 --atomic</c>, next to Python's startup.py), or a
/// scenario file (<c>sim run FILE --set KEY=VALUE</c>). A key is an option of the command without its dashes
/// (<c>buyers</c>), a setting of the file, or one of the sweep's own: <c>start-method</c> (spawn or forkserver) and
/// <c>agents</c> (with --cluster: how many of the cluster's agents run participants).
/// </summary>
public sealed class SweepTarget
{
    public const string StartMethodKey = "start-method";
    public const string AgentsKey = "agents";

    /// <summary>The scenario commands a sweep runs, and startup.</summary>
    public static readonly IReadOnlyList<string> Commands = ["tickets", "prodcons", "counter", "lock", "pipe", "startup"];

    /// <summary>Options the sweep gives each run itself, or that are no scenario's to vary.</summary>
    private static readonly Dictionary<string, string> Refused = new(StringComparer.Ordinal)
    {
        ["json"] = "the sweep writes each run's JSON itself (in DIR/runs)",
        ["report"] = "a run's report folder is not the sweep's",
        ["history"] = "a run's history file is not the sweep's",
        ["cluster"] = "give the sweep's own --cluster HOST:PORT",
        ["help"] = "not a setting",
    };

    /// <summary>The figures drawn for each scenario (every figure is in runs.csv and summary.csv).</summary>
    private static readonly Dictionary<string, string[]> HeadlinesOf = new(StringComparer.Ordinal)
    {
        ["tickets"] = ["timing.wall_s", "timing.ready_s", "timing.work_s"],
        ["prodcons"] = ["throughput_items_per_s", "timing.ready_s"],
        ["counter"] = ["increments_per_s", "timing.ready_s"],
        ["lock"] = ["handoffs_per_s", "acquire_us_median", "timing.ready_s"],
        ["pipe"] = ["rtt_median_us", "one_way_messages_per_s"],
        ["startup"] = ["timing.ready_s", "processes.median.cpu_s_at_ready", "processes.median.pss_mb"],
    };

    private static readonly Dictionary<string, string> Descriptions = new(StringComparer.Ordinal)
    {
        ["timing.wall_s"] = "wall time of the run (s)",
        ["timing.ready_s"] = "time until every participant was ready (s)",
        ["timing.work_s"] = "work time, from the start barrier (s)",
        ["throughput_items_per_s"] = "queue throughput (items/s)",
        ["increments_per_s"] = "locked increments per second",
        ["handoffs_per_s"] = "lock handoffs per second",
        ["acquire_us_median"] = "median time to acquire the lock (µs)",
        ["rtt_median_us"] = "median round trip over the pipe (µs)",
        ["one_way_messages_per_s"] = "one-way messages per second",
        ["processes.median.cpu_s_at_ready"] = "CPU per participant until ready (s)",
        ["processes.median.pss_mb"] = "memory per participant at ready, PSS (MB)",
    };

    private readonly IReadOnlyList<string> _prefix;
    private readonly Command? _options;
    private readonly IReadOnlySet<string>? _parameters;

    private SweepTarget(string name, string? file, string? command, IReadOnlyList<string> prefix, IReadOnlySet<string>? parameters)
    {
        Name = name;
        File = file;
        CommandName = command;
        _prefix = prefix;
        _parameters = parameters;
        _options = command is null ? null : Cli.Build().Subcommands.First(c => c.Name == command);
        Reference = PythonReferences.For(name == "startup" ? "startup" : command ?? "");
    }

    /// <summary>The scenario as given: a command's name, or the file.</summary>
    public string Name { get; }

    /// <summary>The scenario file of <c>sim run</c>, or null for a command.</summary>
    public string? File { get; }

    /// <summary>The scenario command the runs are (counter for startup, the file's for a file of a command's options); null for a scenario model.</summary>
    public string? CommandName { get; }

    public PythonReference? Reference { get; }

    /// <summary>The figures drawn, for a scenario file of a model: its timing and its own figures (<c>figures.*</c>, found in the runs).</summary>
    public IReadOnlyList<string> Headlines(IEnumerable<string> figures) =>
        HeadlinesOf.TryGetValue(Name == "startup" ? Name : CommandName ?? "", out var headlines)
            ? headlines
            : [.. HeadlinesOf["tickets"], .. figures.Where(f => f.StartsWith("figures.", StringComparison.Ordinal))];

    public static string Describe(string figure) => Descriptions.TryGetValue(figure, out var text) ? text : figure;

    public static SweepTarget Resolve(string scenario)
    {
        if (scenario == "startup")
            return new SweepTarget(scenario, null, "counter", ["--increments", "1", "--atomic"], null);
        if (Commands.Contains(scenario))
            return new SweepTarget(scenario, null, scenario, [], null);
        string path;
        try
        {
            path = Path.GetFullPath(ScenarioFile.Resolve(scenario));
        }
        catch (UsageException)
        {
            throw new UsageException($"sweep: '{scenario}' is neither a scenario command ({string.Join(", ", Commands)}) nor a scenario file");
        }
        if (!ScenarioFile.IsModel(path))
            return new SweepTarget(scenario, path, ScenarioFile.ToArguments(path, [])[0], [], null);
        try
        {
            return new SweepTarget(scenario, path, null, [], ScenarioLoader.LoadFile(path).Parameters.Select(kv => kv.Key).ToHashSet());
        }
        catch (ScenarioException e)
        {
            throw new UsageException($"{scenario}: {e.Message}");
        }
    }

    /// <summary>A key given to <paramref name="source"/> (--vary or --set) that the scenario does not have is a usage error naming it and what it has.</summary>
    public void CheckKey(string key, string source)
    {
        if (Refused.TryGetValue(key, out var why))
            throw new UsageException($"{source} {key}: {why}");
        if (key is StartMethodKey or AgentsKey)
            return;
        if (_parameters is not null)
        {
            if (!_parameters.Contains(key))
                throw new UsageException($"{source} {key}: {Name} has no parameter '{key}' (it has: {string.Join(", ", _parameters.Order())})");
            return;
        }
        if (Option(key) is null)
        {
            var known = _options!.Options.Where(o => !o.Hidden).Select(o => o.Name.TrimStart('-')).Where(k => !Refused.ContainsKey(k)).Order();
            throw new UsageException($"{source} {key}: '{key}' is not an option of sim {CommandName} (its options: {string.Join(", ", known.Append(StartMethodKey))})");
        }
        if (Name == "startup" && key is not ("processes" or "timeout" or "no-history"))
            throw new UsageException($"{source} {key}: startup varies processes only (it is counter --increments 1 --atomic)");
    }

    /// <summary>A value given to <paramref name="source"/> that the sweep itself can tell is wrong (a switch is true or false).</summary>
    public void CheckValue(string key, string value, string source)
    {
        if (File is null && Option(key)?.ValueType == typeof(bool) && value is not ("true" or "false"))
            throw new UsageException($"{source} {key}={value}: {key} is a switch: true or false");
    }

    /// <summary>The <c>sim</c> arguments of a run with these settings (fixed ones, then the point's), without the sweep's own keys.</summary>
    public List<string> Arguments(IEnumerable<(string Key, string Value)> settings)
    {
        var own = settings.Where(s => s.Key is not (StartMethodKey or AgentsKey)).ToList();
        if (File is not null)
            return ["run", File, .. own.SelectMany(s => new[] { "--set", $"{s.Key}={s.Value}" })];
        var args = new List<string> { CommandName!};
        args.AddRange(_prefix);
        foreach (var (key, value) in own)
        {
            if (Option(key)?.ValueType == typeof(bool))
            {
                if (value == "true")
                    args.Add($"--{key}");
            }
            else
                args.AddRange([$"--{key}", value]);
        }
        return args;
    }

    /// <summary>
    /// A run with these settings as the command line of its scenario command (a file's settings turned into the command's
    /// options), parsed here: what its Python reference is given. Null for a scenario model.
    /// </summary>
    public ParseResult? ParseAsCommand(IEnumerable<(string Key, string Value)> settings)
    {
        if (CommandName is null)
            return null;
        var own = settings.Where(s => s.Key is not (StartMethodKey or AgentsKey)).ToList();
        var args = File is null ? Arguments(own) : ScenarioFile.ToArguments(File, own.Select(s => $"{s.Key}={s.Value}").ToList());
        return Cli.Build().Parse(args);
    }

    private Option? Option(string key) => _options?.Options.FirstOrDefault(o => o.Name == $"--{key}");
}
