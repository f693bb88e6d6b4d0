using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Sim.Launcher;

/// <summary>
/// <c>sim bench</c>: each workload run by Sim and by a Python <c>multiprocessing</c> reference doing the same
/// work (bench/python), alternately, R times each, on the same machine in the same sitting; medians and
/// the ratio Sim / Python against the target of DESIGN.md section 6.
/// </summary>
public static class Bench
{
    /// <summary>What a figure's target is measured against.</summary>
    public enum TargetOf { Python, RawAkka, Absolute }

    /// <summary>A target of DESIGN.md section 6: a ratio to Python or to raw Akka.NET, or an absolute bound.</summary>
    public sealed record Target(double Value, TargetOf Of)
    {
        public string Describe(bool higherIsBetter) => (higherIsBetter ? ">= " : "<= ") + Of switch
        {
            TargetOf.Python => Value.ToString("0.##", CultureInfo.InvariantCulture) + "x python",
            TargetOf.RawAkka => Value.ToString("0.##", CultureInfo.InvariantCulture) + "x raw akka",
            _ => Value.ToString("0.##", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>
    /// One reported figure, read from the Sim run's JSON and from the Python script's JSON line. A figure with
    /// <paramref name="PythonOf"/> compares with the Python runs of that figure when they were measured earlier
    /// in the same bench, instead of running Python again. A figure with <paramref name="Raw"/> is also
    /// measured, in every run, against that pattern done by plain Akka.NET (the floor, see <see cref="Launcher.RawAkka"/>).
    /// </summary>
    public sealed record Figure(
        string Name, string Unit, bool HigherIsBetter, Target? Target,
        Func<JsonElement, double> FromSim, Func<JsonElement, double>? FromPython, RawAkka.Pattern? Raw = null, string? PythonOf = null);

    /// <summary>
    /// One Sim command and its Python reference, run alternately; each run yields every figure of the workload.
    /// With <paramref name="Forkserver"/>, Sim runs with <c>--start-method forkserver</c> on a pool of the bench's own:
    /// a first, untimed run starts it (on first use, as Python starts its forkserver), and every timed run finds it full
    /// again (the "second run" of the forkserver figures). With <paramref name="SimInProcess"/>, Sim's turn runs in this process
    /// instead of as <c>sim SimArgs</c> (a measurement no scenario command offers), returning the run's JSON.
    /// </summary>
    public sealed record Workload(
        string Group, Func<double, string[]>? SimArgs, Func<double, string[]>? PythonArgs, IReadOnlyList<Figure> Figures,
        bool Forkserver = false, Func<double, CancellationToken, Task<JsonObject>>? SimInProcess = null);

    /// <summary>
    /// Seconds a phase of the big cold runs may take: 100 nodes booting at once on 2 cores have taken from 25 s to
    /// over 120 s (the commands' default) between sittings, and a figure needs the run to finish.
    /// </summary>
    private const string ColdTimeout = "600";

    private static int Scaled(int value, double scale) => Math.Max(1, (int)Math.Round(value * scale));

    private static Func<JsonElement, double> At(params string[] path) => PythonReferences.At(path);

    private static double Median(IEnumerable<double> values) => Launcher.Median.Of(values);

    /// <summary>A figure both Sim and its Python reference report (see <see cref="PythonReferences"/>).</summary>
    private static Figure Compared(string name, string unit, bool higherIsBetter, Target? target, ComparedFigure compared,
        RawAkka.Pattern? raw = null, string? pythonOf = null) =>
        new(name, unit, higherIsBetter, target, compared.FromSim, compared.FromPython, raw, pythonOf);

    private static readonly PythonReference Startup = PythonReferences.Startup;

    public static readonly IReadOnlyList<Workload> Workloads =
    [
        new("tickets",
            s => ["tickets", "--buyers", Scaled(100, s).ToString(), "--tickets", "10", "--timeout", ColdTimeout],
            s => ["tickets.py", "--buyers", Scaled(100, s).ToString(), "--tickets", "10"],
            [Compared("tickets-100", "s wall", false, new(2.0, TargetOf.Python), PythonReferences.Tickets.Figure("timing.wall_s"))]),
        // Forkserver figures compare with the cold figure's Python runs (spawn): Python's turn next to an idle pool of
        // 100 nodes would run slower than it does alone, and flatter Sim.
        new("tickets",
            s => ["tickets", "--buyers", Scaled(100, s).ToString(), "--tickets", "10", "--start-method", "forkserver", "--timeout", ColdTimeout],
            s => ["tickets.py", "--buyers", Scaled(100, s).ToString(), "--tickets", "10"],
            [Compared("tickets-100-forkserver", "s wall", false, new(1.0, TargetOf.Python), PythonReferences.Tickets.Figure("timing.wall_s"), pythonOf: "tickets-100")],
            Forkserver: true),
        new("startup",
            s => ["counter", "--processes", Scaled(50, s).ToString(), "--increments", "1", "--atomic", "--timeout", ColdTimeout],
            s => ["startup.py", "--processes", Scaled(50, s).ToString()],
            [
                Compared("startup-50", "s to all ready", false, new(3.0, TargetOf.Python), Startup.Figure("timing.ready_s")),
                Compared("rss-per-participant", "MB peak", false, new(64, TargetOf.Absolute), Startup.Figure("processes.median.peak_rss_mb")),
                Compared("pss-per-participant", "MB at ready", false, null, Startup.Figure("processes.median.pss_mb")),
                Compared("private-per-participant", "MB at ready", false, null, Startup.Figure("processes.median.private_mb")),
                Compared("cpu-per-participant-start", "CPU s at ready", false, new(0.3, TargetOf.Absolute), Startup.Figure("processes.median.cpu_s_at_ready")),
            ]),
        new("startup",
            s => ["counter", "--processes", Scaled(50, s).ToString(), "--increments", "1", "--atomic", "--start-method", "forkserver", "--timeout", ColdTimeout],
            s => ["startup.py", "--processes", Scaled(50, s).ToString()],
            [Compared("startup-50-forkserver", "s to all ready", false, new(0.5, TargetOf.Python), Startup.Figure("timing.ready_s"), pythonOf: "startup-50")],
            Forkserver: true),
        new("queue",
            s => ["prodcons", "--items", Scaled(200_000, s).ToString()],
            s => ["queue_throughput.py", "--items", Scaled(200_000, s).ToString()],
            [Compared("queue-1p1c", "items/s", true, new(3.0, TargetOf.Python), PythonReferences.Prodcons.Figure("throughput_items_per_s"))]),
        new("queue",
            s => ["prodcons", "--producers", "3", "--consumers", "2", "--items", Scaled(200_000, s).ToString()],
            s => ["queue_throughput.py", "--producers", "3", "--consumers", "2", "--items", Scaled(200_000, s).ToString()],
            [Compared("queue-3p2c", "items/s", true, new(3.0, TargetOf.Python), PythonReferences.Prodcons.Figure("throughput_items_per_s"))]),
        // The engine-speed figures warm up as their raw Akka.NET floor does (RawAkka.MeasureHereAsync): the same
        // untimed cycles before the timed ones, so that both sides run the code .NET has compiled for the hot path.
        new("lock",
            s => ["lock", "--processes", "4", "--acquires", Scaled(500, s).ToString(), "--warmup", Scaled(RawAkkaWarmUpRoundTrips / 10, s).ToString()],
            s => ["lock_handoffs.py", "--processes", "4", "--acquires", Scaled(500, s).ToString()],
            [Compared("lock-handoffs", "handoffs/s", true, new(5.0, TargetOf.Python), PythonReferences.Lock.Figure("handoffs_per_s"),
                raw: RawAkka.Pattern.LockHandoffs)]),
        new("lock",
            s => ["lock", "--processes", "1", "--acquires", Scaled(2000, s).ToString(), "--warmup", Scaled(RawAkkaWarmUpRoundTrips, s).ToString()],
            s => ["lock_handoffs.py", "--processes", "1", "--acquires", Scaled(50, s).ToString()],
            [new("lock-acquire-uncontended", "us", false, new(1.2, TargetOf.RawAkka), At("acquire_us_median"),
                At("uncontended_acquire_us_median"), Raw: RawAkka.Pattern.LockAcquire)]),
        new("counter",
            s => ["counter", "--processes", "4", "--increments", Scaled(250, s).ToString()],
            s => ["locked_counter.py", "--processes", "4", "--increments", Scaled(250, s).ToString()],
            [Compared("counter-locked-increments", "increments/s", true, null, PythonReferences.Counter.Figure("increments_per_s"))]),
        new("pipe",
            s => ["pipe", "--messages", Scaled(2000, s).ToString(), "--warmup", Scaled(RawAkkaWarmUpRoundTrips, s).ToString()],
            s => ["pipe_rtt.py", "--messages", Scaled(2000, s).ToString()],
            [
                Compared("pipe-rtt", "us", false, new(1.2, TargetOf.RawAkka), PythonReferences.Pipe.Figure("rtt_median_us"), raw: RawAkka.Pattern.RoundTrip),
                Compared("pipe-oneway", "messages/s", true, new(1.0, TargetOf.Python), PythonReferences.Pipe.Figure("one_way_messages_per_s")),
            ]),
        // What recording the history costs where it costs most: every handoff is 4 events at the lockers, 2 on the coordinator.
        new("history",
            s => ["lock", "--processes", "4", "--acquires", Scaled(500, s).ToString()],
            null,
            [new("lock-handoffs-recorded", "handoffs/s", true, null, At("handoffs_per_s"), null)]),
        new("history",
            s => ["lock", "--processes", "4", "--acquires", Scaled(500, s).ToString(), "--no-history"],
            null,
            [new("lock-handoffs-unrecorded", "handoffs/s", true, null, At("handoffs_per_s"), null)]),
        // 20 participants held at the start barrier: what waiting costs (Python: 20 processes blocked on an Event).
        new("idle",
            null,
            s => ["idle.py", "--processes", IdleCpu.Participants(s).ToString(), "--seconds", IdleCpu.Window(s).TotalSeconds.ToString(CultureInfo.InvariantCulture)],
            [new("idle-cpu-per-participant", "% of a core", false, new(1.0, TargetOf.Absolute), At("cpu_percent_median"), At("cpu_percent_median"))],
            SimInProcess: (s, token) => IdleCpu.MeasureSimAsync(IdleCpu.Participants(s), IdleCpu.Window(s), token)),
    ];

    /// <summary>Untimed round trips before the raw Akka.NET figures: JIT, tiering and the connection settle first.</summary>
    private const int RawAkkaWarmUpRoundTrips = 20_000;

    public static IReadOnlyList<string> Groups => Workloads.Select(w => w.Group).Distinct().ToList();

    public static IReadOnlyList<string> FigureNames => Workloads.SelectMany(w => w.Figures).Select(f => f.Name).ToList();

    /// <summary>The workloads a <c>sim bench</c> argument names: all, a group (queue), or one figure (queue-3p2c).</summary>
    public static IReadOnlyList<Workload> Select(string name) => name == "all"
        ? Workloads
        : Workloads.Where(w => w.Group == name || w.Figures.Any(f => f.Name == name))
            .Select(w => w.Group == name ? w : w with { Figures = w.Figures.Where(f => f.Name == name).ToList() }).ToList();

    private sealed class Samples
    {
        public List<double> Sim { get; } = [];
        public List<double> Python { get; } = [];
        public List<double> Raw { get; } = [];
        public List<double> RawP99 { get; } = [];
    }

    public static async Task<int> RunAsync(IReadOnlyList<Workload> workloads, int runs, double scale, string? jsonPath,
        IAnsiConsole console, CancellationToken cancellationToken)
    {
        var python = PythonProcess.Find();
        if (python is null)
            console.MarkupLine("[yellow]python3 not found: Sim's figures only, no ratios to Python[/]");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("figure", "unit", "sim median (min-max)", "python median (min-max)", "raw akka median", "sim / python", "sim / raw akka", "target", "met");
        var entries = new JsonArray();
        var pythonRuns = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        var folder = Directory.CreateTempSubdirectory("sim-bench-").FullName;
        // A forkserver figure runs on a pool of the bench's own, started by its first run, alive only for its runs:
        // idle pooled nodes cost some CPU, which the other figures must not pay.
        var poolSocket = System.IO.Path.Combine(folder, "pool.sock");
        try
        {
            foreach (var workload in workloads)
            {
                var samples = workload.Figures.ToDictionary(f => f.Name, _ => new Samples());
                var label = string.Join(", ", workload.Figures.Select(f => f.Name));
                if (workload.Forkserver)
                {
                    console.MarkupLineInterpolated($"[grey]{label}: first run, which starts the forkserver's pool (not counted)[/]");
                    var first = System.IO.Path.Combine(folder, $"{workload.Figures[0].Name}-0.json");
                    if (await RunSimAsync([.. workload.SimArgs!(scale), "--json", first], poolSocket, cancellationToken) is { } error)
                        throw new RunFailedException($"{label}: sim failed: {error}");
                }
                for (var run = 1; run <= runs; run++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    console.MarkupLineInterpolated($"[grey]{label}: run {run}/{runs}[/]");
                    var json = System.IO.Path.Combine(folder, $"{workload.Figures[0].Name}-{run}.json");
                    if (workload.Forkserver)
                        await WarmPool.WaitFullAsync(poolSocket, cancellationToken);
                    if (workload.SimInProcess is not null)
                        RunReport.WriteJson(json, await workload.SimInProcess(scale, cancellationToken));
                    else if (await RunSimAsync([.. workload.SimArgs!(scale), "--json", json], workload.Forkserver ? poolSocket : null, cancellationToken) is { } error)
                        throw new RunFailedException($"{label}: sim failed: {error}");
                    using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, cancellationToken)))
                    {
                        foreach (var figure in workload.Figures)
                            samples[figure.Name].Sim.Add(figure.FromSim(doc.RootElement));
                    }
                    if (workload.Figures.Where(f => f.Raw is not null).Select(f => f.Raw!.Value).Distinct().ToList() is { Count: > 0 } patterns)
                    {
                        var raw = await RawAkka.MeasureAsync(patterns, Scaled(RawAkkaWarmUpRoundTrips, scale), Scaled(2000, scale), cancellationToken);
                        foreach (var figure in workload.Figures.Where(f => f.Raw is not null))
                        {
                            samples[figure.Name].Raw.Add(raw[figure.Raw!.Value].Median);
                            if (raw[figure.Raw!.Value].P99 is { } p99)
                                samples[figure.Name].RawP99.Add(p99);
                        }
                    }
                    if (python is null || workload.PythonArgs is null
                        || workload.Figures.All(f => f.PythonOf is { } other && pythonRuns.ContainsKey(other)))
                        continue;
                    // The pool replaces the nodes the run used; Python's turn must not share the CPU with that.
                    if (workload.Forkserver)
                        await WarmPool.WaitFullAsync(poolSocket, cancellationToken);
                    var args = workload.PythonArgs(scale);
                    var line = await RunPythonAsync(python, args, cancellationToken);
                    using var pyDoc = JsonDocument.Parse(line);
                    foreach (var figure in workload.Figures.Where(f => f.FromPython is not null))
                        samples[figure.Name].Python.Add(figure.FromPython!(pyDoc.RootElement));
                }
                if (workload.Forkserver)
                    await WarmPool.StopServerAsync(poolSocket, TimeSpan.FromSeconds(30));
                foreach (var figure in workload.Figures)
                {
                    var borrowed = figure.PythonOf is { } other && pythonRuns.TryGetValue(other, out var earlier) ? earlier : null;
                    if (borrowed is not null)
                        samples[figure.Name].Python.AddRange(borrowed);
                    pythonRuns[figure.Name] = samples[figure.Name].Python;
                    var entry = Report(figure, samples[figure.Name]);
                    entry["python_runs_of"] = borrowed is null ? null : figure.PythonOf;
                    entries.Add(entry);
                    AddRow(table, figure, samples[figure.Name], entry);
                }
            }
        }
        finally
        {
            await WarmPool.StopServerAsync(poolSocket, TimeSpan.FromSeconds(30));
            Directory.Delete(folder, recursive: true);
        }
        console.Write(table);
        var machine = MachineInfo.Describe(python);
        console.MarkupLineInterpolated(
            $"[grey]{machine["cores"]} cores, {machine["cpu"]}, {machine["memory_gb"]} GB; {machine["build"]} build; {runs} run(s) each, alternating Sim and Python; scale {scale}[/]");
        if (jsonPath is not null)
            RunReport.WriteJson(jsonPath, new JsonObject { ["machine"] = machine, ["runs"] = runs, ["scale"] = scale, ["workloads"] = entries });
        return 0;
    }

    private static JsonObject Report(Figure figure, Samples samples)
    {
        var sim = Median(samples.Sim);
        double? py = samples.Python.Count > 0 ? Median(samples.Python) : null;
        double? raw = samples.Raw.Count > 0 ? Median(samples.Raw) : null;
        double? ratio = py is > 0 ? sim / py : null;
        double? ratioToRaw = raw is > 0 ? sim / raw : null;
        var measured = figure.Target?.Of switch
        {
            TargetOf.Python => ratio,
            TargetOf.RawAkka => ratioToRaw,
            TargetOf.Absolute => sim,
            _ => null,
        };
        bool? met = measured is { } m && figure.Target is { } t ? figure.HigherIsBetter ? m >= t.Value : m <= t.Value : null;
        return new JsonObject
        {
            ["name"] = figure.Name,
            ["unit"] = figure.Unit,
            ["higher_is_better"] = figure.HigherIsBetter,
            ["sim"] = Summary(samples.Sim),
            ["python"] = samples.Python.Count > 0 ? Summary(samples.Python) : null,
            ["raw_akka"] = samples.Raw.Count > 0 ? Summary(samples.Raw) : null,
            ["raw_akka_p99"] = samples.RawP99.Count > 0 ? Summary(samples.RawP99) : null,
            ["raw_akka_pattern"] = figure.Raw is { } pattern ? RawAkka.Describe(pattern) : null,
            ["ratio"] = ratio is null ? null : Math.Round(ratio.Value, 3),
            ["ratio_to_raw_akka"] = ratioToRaw is null ? null : Math.Round(ratioToRaw.Value, 3),
            ["target"] = figure.Target?.Value,
            ["target_of"] = figure.Target?.Of switch { TargetOf.Python => "python", TargetOf.RawAkka => "raw_akka", TargetOf.Absolute => "absolute", _ => null },
            ["met"] = met,
        };
    }

    private static void AddRow(Table table, Figure figure, Samples samples, JsonObject entry)
    {
        string Range(List<double> values) => values.Count == 0 ? "-" : $"{Fmt(Median(values))} ({Fmt(values.Min())}-{Fmt(values.Max())})";
        string Ratio(string key) => entry[key]?.GetValue<double>() is { } r ? r.ToString("0.00x", CultureInfo.InvariantCulture) : "-";
        var met = entry["met"]?.GetValue<bool>();
        table.AddRow(figure.Name, figure.Unit, Range(samples.Sim), Range(samples.Python),
            samples.Raw.Count > 0 ? Fmt(Median(samples.Raw)) : "-", Ratio("ratio"), Ratio("ratio_to_raw_akka"),
            figure.Target?.Describe(figure.HigherIsBetter) ?? "-", met is null ? "-" : met.Value ? "[green]yes[/]" : "[red]no[/]");
    }

    private static JsonObject Summary(List<double> values) => new()
    {
        ["median"] = Math.Round(Median(values), 3),
        ["min"] = Math.Round(values.Min(), 3),
        ["max"] = Math.Round(values.Max(), 3),
    };

    private static string Fmt(double value) => value >= 100 ? value.ToString("0", CultureInfo.InvariantCulture) : value.ToString("0.0#", CultureInfo.InvariantCulture);

    /// <summary>No bench run takes this long: past it, the run is ended and the bench fails.</summary>
    private static readonly TimeSpan RunLimit = TimeSpan.FromHours(1);

    /// <summary>Runs this launcher again as a child process; null on success, else the reason.</summary>
    private static async Task<string?> RunSimAsync(string[] args, string? poolSocket, CancellationToken cancellationToken)
    {
        var info = SelfProcess.StartInfo(args);
        // The forkserver figures' pool is the bench's own (stopped after their runs), whatever the user's environment says.
        info.Environment.Remove(StartMethods.Variable);
        if (poolSocket is not null)
        {
            info.Environment["SIM_POOL_SOCKET"] = poolSocket;
            info.Environment[StartMethods.IdleTimeoutVariable] = "3600";
        }
        var result = await ChildProcess.RunAsync(info, RunLimit, TimeSpan.FromSeconds(20), cancellationToken);
        return result.ExitCode == 0 ? null : $"exit {result.ExitCode?.ToString() ?? "(ended after 1 hour)"}: {result.Stderr.Trim()} {ChildResult.LastLine(result.Stdout)}";
    }

    private static async Task<string> RunPythonAsync(string python, IReadOnlyList<string> scriptAndArgs, CancellationToken cancellationToken)
    {
        var result = await PythonProcess.RunAsync(python, scriptAndArgs, RunLimit, cancellationToken);
        if (result.ExitCode != 0)
            throw new RunFailedException($"{scriptAndArgs[0]} failed (exit {result.ExitCode?.ToString() ?? "none: ended after 1 hour"}): {ChildResult.LastLine(result.Stderr)}");
        return ChildResult.LastLine(result.Stdout) ?? "";
    }
}

/// <summary>
/// <c>idle-cpu-per-participant</c>: participants held at the start barrier (never released during the window),
/// each one's CPU time from /proc/PID/stat (utime + stime, all its threads) at the start and at the end of
/// the window, as % of one core. No scenario command holds its participants at the barrier for a while, so
/// the bench runs this one itself, with the launcher's own <see cref="ScenarioRun"/> and the lesson's worker role.
/// </summary>
public static class IdleCpu
{
    /// <summary>USER_HZ: the unit of /proc's CPU times, 100 on Linux whatever the kernel's own tick.</summary>
    private const double TicksPerSecond = 100;

    public static int Participants(double scale) => Math.Max(2, (int)Math.Round(20 * scale));

    public static TimeSpan Window(double scale) => TimeSpan.FromSeconds(Math.Round(10 * scale, 2));

    public static async Task<JsonObject> MeasureSimAsync(int participants, TimeSpan window, CancellationToken cancellationToken)
    {
        var boot = TimeSpan.FromSeconds(120);
        // Let the last arrivals settle (the barrier's answers, the end of start-up) before the window opens.
        var settle = window / 10;
        await using var run = new ScenarioRun(NodeBinary.Locate(), _ => { }) { ConnectTimeout = boot };
        var parameters = new Dictionary<string, string>
        {
            ["work-ms"] = "0",
            ["wait-barrier"] = "true",
            ["ready-timeout-ms"] = ((long)(boot + settle + window).TotalMilliseconds + 60_000).ToString(CultureInfo.InvariantCulture),
        };
        for (var i = 1; i <= participants; i++)
            run.Add($"idler-{i}", new Sim.Core.Roles.Worker().Name, parameters);
        run.StartAll();
        var ready = await run.AwaitAllReadyAsync(boot, cancellationToken);
        await Task.Delay(settle, cancellationToken);
        var pids = run.Processes.Select(p => p.Pid ?? throw new RunFailedException($"{p.Name} has no pid")).ToList();
        var before = pids.Select(CpuTicks).ToList();
        var clock = Stopwatch.StartNew();
        await Task.Delay(window, cancellationToken);
        var after = pids.Select(CpuTicks).ToList();
        var seconds = clock.Elapsed.TotalSeconds;
        // A participant that died while waiting has no CPU time to read, and the run has failed.
        if (run.Processes.FirstOrDefault(p => !p.IsAlive) is { } dead)
            throw new RunFailedException($"{dead.Name} (pid {dead.Pid}) ended while waiting at the barrier (exit code {dead.ExitCode})");
        var percents = before.Zip(after, (b, a) => (a - b) / TicksPerSecond / seconds * 100).Order().ToList();
        await run.ReleaseAsync();
        await run.AwaitWorkDoneAsync(participants, TimeSpan.FromSeconds(60), cancellationToken);
        await run.AwaitAllEndedAsync(TimeSpan.FromSeconds(15));
        return new JsonObject
        {
            ["scenario"] = "idle",
            ["processes"] = participants,
            ["ready_s"] = Math.Round(ready.TotalSeconds, 3),
            ["window_s"] = Math.Round(seconds, 3),
            ["cpu_percent_median"] = Math.Round(Median.Of(percents), 3),
            ["cpu_percent_max"] = Math.Round(percents[^1], 3),
        };
    }

    /// <summary>utime + stime of a process, in ticks of <see cref="TicksPerSecond"/>.</summary>
    private static long CpuTicks(int pid) =>
        ProcStat.Read(pid)?.CpuTicks ?? throw new RunFailedException($"cannot read the CPU time of pid {pid}");
}
