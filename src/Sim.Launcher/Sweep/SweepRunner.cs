using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Sim.Launcher.Sweep;

/// <summary>What <c>sim sweep</c> was asked.</summary>
public sealed record SweepOptions(
    string Scenario, IReadOnlyList<string> Vary, IReadOnlyList<string> Set, int Runs, string? Out, string? Compare, bool Pool, string? Cluster,
    TimeSpan RunTimeout, string Command);

/// <summary>
/// <c>sim sweep</c>: a scaling experiment. Every input is checked before anything runs (keys, values, by the scenario command
/// itself for each point, the folder); then the grid's runs go in interleaved order, each Sim run a child <c>sim</c> process
/// (a crash of one ends only that run) and each Python run a child python3, every finished run recorded in runs.csv at once.
/// Ctrl-C ends the run under way (not recorded) and writes the summary, charts and report of what is done (exit code 130);
/// the same command again resumes. Exit code 0 when every run went well, 1 when some failed (they are recorded as such).
/// </summary>
public static class SweepRunner
{
    public const int Interrupted = 130;

    /// <summary>The exit code of a child (sim or python) that SIGINT ended: 128 + 2.</summary>
    private const int InterruptedBySigint = 130;

    public static async Task<int> RunAsync(SweepOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var target = SweepTarget.Resolve(options.Scenario);
        var axes = SweepGrid.Parse(options.Vary);
        foreach (var axis in axes)
        {
            target.CheckKey(axis.Key, "--vary");
            foreach (var value in axis.Values)
                target.CheckValue(axis.Key, value, "--vary");
        }
        var settings = Settings(options.Set, target);
        CheckCombinations(options, axes, settings);
        var points = SweepGrid.Points(axes);
        var (python, keeps) = CheckCompare(options, target, points, settings);
        var manifest = new SweepManifest(target.Name, settings.Select(s => $"{s.Key}={s.Value}").ToList(), axes, options.Runs, options.Compare, options.Pool,
            options.Cluster, options.Command);

        using var folder = SweepFolder.Open(options.Out ?? $"sweep-{Path.GetFileNameWithoutExtension(target.Name)}");
        SweepManifest recorded;
        SweepRuns runs;
        IReadOnlyList<string> agents = [];
        IReadOnlyDictionary<SweepPoint, int> participants;
        string StartMethod(SweepPoint point) =>
            point[SweepTarget.StartMethodKey] ?? settings.FirstOrDefault(s => s.Key == SweepTarget.StartMethodKey).Value ?? (options.Pool ? "forkserver" : "spawn");
        List<string> Arguments(SweepPoint point, string? json)
        {
            var args = target.Arguments([.. settings, .. point.Settings]);
            if (json is not null)
                args.AddRange(["--json", json]);
            if (options.Cluster is null)
                args.AddRange(["--start-method", StartMethod(point)]);
            else
            {
                args.AddRange(["--cluster", options.Cluster]);
                if (point[SweepTarget.AgentsKey] is { } count)
                    args.AddRange(["--on", string.Join(",", agents.Take(int.Parse(count, CultureInfo.InvariantCulture)))]);
            }
            return args;
        }
        try
        {
            var old = SweepManifest.Read(folder.Path);
            if (old?.Differs(manifest) is { } differs)
                throw new UsageException($"--out {folder.Path} holds another sweep ({differs}): give another --out, or the same command to resume that one");
            recorded = old?.Merge(manifest) ?? manifest;
            runs = SweepRuns.Open(folder.Path, manifest.Keys);
            if (axes.FirstOrDefault(a => a.Key == SweepTarget.AgentsKey) is { } agentAxis)
            {
                agents = await SweepPreflight.AgentsAsync(options.Cluster!, settings.FirstOrDefault(s => s.Key == "cert").Value, cancellationToken);
                if (agentAxis.Values.FirstOrDefault(v => !int.TryParse(v, CultureInfo.InvariantCulture, out var n) || n < 1 || n > agents.Count) is { } bad)
                    throw new UsageException($"--vary agents={bad}: the cluster at {options.Cluster} has {agents.Count} agent(s) ({string.Join(", ", agents)}): from 1 to {agents.Count}");
            }
            participants = await SweepPreflight.ValidateAsync(points, point => Arguments(point, null), cancellationToken);
        }
        catch
        {
            folder.Abandon();
            throw;
        }
        recorded.Write(folder.Path);
        Directory.CreateDirectory(folder.Runs);

        var plan = SweepPlan.Order(points, options.Runs, keeps);
        var todo = plan.Where(r => !runs.Has(r)).ToList();
        console.MarkupLineInterpolated(
            $"[bold]sweep[/] {target.Name}: {points.Count} point(s) x {options.Runs} run(s){(python is null ? "" : ", next to Python")}: {todo.Count} of {plan.Count} run(s) to do{(todo.Count < plan.Count ? $" (the others are in {Path.Combine(folder.Path, SweepRuns.FileName)})" : "")}");
        var headline = target.Headlines([]).FirstOrDefault();
        var interrupted = false;
        await using (var pool = new SweepPool())
        {
            async Task<SweepRow> RunSimAsync(SweepRun run)
            {
                var json = Path.Combine(folder.Runs, run.Id + ".json");
                File.Delete(json); // left by a run that was interrupted, and so not recorded
                var args = Arguments(run.Point, json);
                var forkserver = options.Cluster is null && StartMethod(run.Point) == "forkserver";
                try
                {
                    if (forkserver)
                        await pool.ReadyAsync(participants[run.From], cancellationToken);
                    else
                        await pool.StopAsync(cancellationToken);
                }
                catch (Exception e) when (e is RunFailedException or UsageException)
                {
                    return new SweepRow(run.Series, run.Point, run.Run, false, null, 0, $"the sweep's warm pool: {e.Message}", new Dictionary<string, double>());
                }
                var info = SelfProcess.StartInfo(args);
                // The start method is the point's, whatever the user's environment says; forkserver's pool is the sweep's own.
                info.Environment.Remove(StartMethods.Variable);
                if (forkserver)
                {
                    info.Environment["SIM_POOL_SOCKET"] = pool.Socket;
                    info.Environment[StartMethods.IdleTimeoutVariable] = "3600";
                }
                ChildResult result;
                try
                {
                    result = await ChildProcess.RunAsync(info, options.RunTimeout, TimeSpan.FromSeconds(30), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    File.Delete(json);
                    throw;
                }
                WriteLog(folder, run, ["sim", .. args], result);
                JsonDocument? doc = null;
                try
                {
                    doc = File.Exists(json) ? JsonDocument.Parse(File.ReadAllText(json)) : null;
                }
                catch (JsonException)
                {
                    // Recorded as a run without figures.
                }
                using (doc)
                {
                    var figures = doc is null ? new Dictionary<string, double>() : (IReadOnlyDictionary<string, double>)SweepFigures.OfSim(doc.RootElement, target.Reference);
                    var reported = doc is not null && doc.RootElement.TryGetProperty("ok", out var ok) && ok.ValueKind == JsonValueKind.True;
                    var error = result.TimedOut ? $"ended after {options.RunTimeout.TotalSeconds:0} s (--run-timeout)"
                        : result.ExitCode != 0 ? $"exit {result.ExitCode}: {result.Reason}"
                        : doc is null ? "no JSON written"
                        : !reported ? "the run's checks failed" : null;
                    return new SweepRow(run.Series, run.Point, run.Run, error is null, result.ExitCode, result.Elapsed.TotalSeconds, error, figures);
                }
            }

            async Task<SweepRow> RunPythonAsync(SweepRun run)
            {
                try
                {
                    await pool.StopAsync(cancellationToken);
                }
                catch (RunFailedException e)
                {
                    console.MarkupLineInterpolated($"[yellow]the sweep's warm pool did not stop: {e.Message}[/]");
                }
                var args = target.Reference!.ArgumentsFor(target.ParseAsCommand([.. settings, .. run.From.Settings])!);
                var result = await PythonProcess.RunAsync(python!, args, options.RunTimeout, cancellationToken);
                WriteLog(folder, run, ["python3", .. args], result);
                if (result.ExitCode != 0)
                {
                    var why = result.TimedOut ? $"ended after {options.RunTimeout.TotalSeconds:0} s (--run-timeout)" : $"exit {result.ExitCode}: {result.Reason}";
                    return new SweepRow(run.Series, run.Point, run.Run, false, result.ExitCode, result.Elapsed.TotalSeconds, why, new Dictionary<string, double>());
                }
                try
                {
                    var line = ChildResult.LastLine(result.Stdout) ?? "";
                    using var doc = JsonDocument.Parse(line);
                    RunReport.WriteText(Path.Combine(folder.Runs, run.Id + ".json"), line + "\n");
                    return new SweepRow(run.Series, run.Point, run.Run, true, 0, result.Elapsed.TotalSeconds, null, SweepFigures.OfPython(doc.RootElement, target.Reference!));
                }
                catch (JsonException)
                {
                    return new SweepRow(run.Series, run.Point, run.Run, false, 0, result.Elapsed.TotalSeconds, "no JSON line printed", new Dictionary<string, double>());
                }
            }

            try
            {
                await SweepProgress.RunAsync(console, todo.Count, async progress =>
                {
                    foreach (var run in todo)
                    {
                        progress.Starting($"{run.Series} {run.Point.Label}, run {run.Run} of {options.Runs}");
                        var row = run.Series == SweepPlan.Sim ? await RunSimAsync(run) : await RunPythonAsync(run);
                        // Ctrl-C at a terminal reaches the child too, which may end before this process has seen it: a run
                        // ended by SIGINT is no result, and is not recorded.
                        if (row.ExitCode is InterruptedBySigint or (-2))
                            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                        cancellationToken.ThrowIfCancellationRequested();
                        runs.Append(row);
                        progress.Finished(Describe(row, headline));
                    }
                });
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                interrupted = true;
            }
        }

        var startMethods = options.Cluster is not null
            ? $"Sim's participants start on the agents of the cluster at {options.Cluster} (cold, as every run across the cluster)."
            : axes.Any(a => a.Key == SweepTarget.StartMethodKey) || points.Select(StartMethod).Distinct().Count() > 1
                ? "Start methods: spawn starts a new Sim.Node process per participant (cold); forkserver claims booted nodes of a warm pool of the sweep's own, full before each run and stopped before any other run."
                : points.Select(StartMethod).First() == "forkserver"
                    ? "Sim's participants are booted nodes of a warm pool of the sweep's own (forkserver), full before each run and stopped before each Python run."
                    : "Sim's participants start cold (spawn: a new Sim.Node process each).";
        SweepOutputs.Write(folder.Path, runs,
            new SweepReportInput(recorded, target, keeps, MachineInfo.Describe(python), startMethods, SweepPlan.Order(SweepGrid.Points(recorded.Axes), recorded.Runs, keeps).Count,
                interrupted), console);
        if (interrupted)
        {
            Console.Error.WriteLine(
                $"sim: interrupted; the run under way was ended and not recorded; {runs.Rows.Count} run(s) are in {Path.Combine(folder.Path, SweepRuns.FileName)}: the same command again resumes the sweep");
            return Interrupted;
        }
        var failed = runs.Rows.Count(r => !r.Ok);
        if (failed > 0)
            console.MarkupLineInterpolated($"[red]{failed} run(s) failed[/] (see the error column of runs.csv, and runs/*.log)");
        return failed > 0 ? 1 : 0;
    }

    /// <summary>--set KEY=VALUE: the fixed settings of every run, checked as the varied keys are.</summary>
    private static List<(string Key, string Value)> Settings(IReadOnlyList<string> set, SweepTarget target)
    {
        var settings = new List<(string Key, string Value)>();
        foreach (var pair in set)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0)
                throw new UsageException($"--set '{pair}' is not KEY=VALUE");
            var (key, value) = (pair[..eq].Trim(), pair[(eq + 1)..].Trim());
            target.CheckKey(key, "--set");
            target.CheckValue(key, value, "--set");
            if (settings.Any(s => s.Key == key))
                throw new UsageException($"--set {key}: set twice");
            settings.Add((key, value));
        }
        return settings;
    }

    /// <summary>Keys and options that cannot go together.</summary>
    private static void CheckCombinations(SweepOptions options, IReadOnlyList<SweepAxis> axes, List<(string Key, string Value)> settings)
    {
        if (axes.FirstOrDefault(a => settings.Any(s => s.Key == a.Key)) is { } both)
            throw new UsageException($"--vary {both.Key}: also given to --set; a key is either fixed or varied");
        var keys = axes.Select(a => a.Key).Concat(settings.Select(s => s.Key)).ToList();
        if (options.Cluster is not null && keys.Contains(SweepTarget.StartMethodKey))
            throw new UsageException("start-method: across the cluster the participants always start cold on the agents; there is no start method to choose");
        if (options.Cluster is not null && options.Pool)
            throw new UsageException("--pool does not go with --cluster: the warm pool's nodes are local");
        if (options.Pool && keys.Contains(SweepTarget.StartMethodKey))
            throw new UsageException("--pool runs every Sim run on the warm pool (forkserver): it does not go with a start-method key");
        if (options.Cluster is null && keys.Contains(SweepTarget.AgentsKey))
            throw new UsageException("agents: the number of the cluster's agents to run on needs --cluster HOST:PORT");
        if (settings.Any(s => s.Key == SweepTarget.AgentsKey))
            throw new UsageException("--set agents: vary it (--vary agents=1,2), or give --set on=NAME,... for fixed agents");
    }

    /// <summary>
    /// --compare python: python3, the scenario's reference script, and at every point no option the script has no counterpart
    /// of (it would do other work than Sim). Returns python3 and which keys the reference takes.
    /// </summary>
    private static (string? Python, Func<string, bool>? Keeps) CheckCompare(SweepOptions options, SweepTarget target, IReadOnlyList<SweepPoint> points,
        List<(string Key, string Value)> settings)
    {
        if (options.Compare is null)
            return (null, null);
        var reference = target.Reference
            ?? throw new UsageException($"--compare python: {target.Name} has no Python reference (there are references of {string.Join(", ", PythonReferences.All.Select(r => r.Name))})");
        var python = PythonProcess.Find() ?? throw new UsageException("--compare python: python3 is not on the PATH");
        if (!File.Exists(Path.Combine(PythonProcess.Scripts, reference.Script)))
            throw new UsageException($"--compare python: {reference.Script} is not in {PythonProcess.Scripts}");
        foreach (var point in points)
        {
            var parsed = target.ParseAsCommand([.. settings, .. point.Settings])!;
            if (parsed.Errors.Count == 0 && reference.Unmatched(parsed) is [var first, ..])
                throw new UsageException($"--compare python: {reference.Script} has no counterpart of {first} ({point.Label}): it would do other work than Sim");
        }
        return (python, key => reference.Arguments.Any(a => a.SimOption == $"--{key}"));
    }

    private static void WriteLog(SweepFolder folder, SweepRun run, IEnumerable<string> command, ChildResult result) =>
        File.WriteAllText(Path.Combine(folder.Runs, run.Id + ".log"),
            $"$ {string.Join(" ", command)}\n# exit {result.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "none (ended after --run-timeout)"} after {result.Elapsed.TotalSeconds:0.000} s\n\n{result.Stdout}\n{result.Stderr}");

    private static string Describe(SweepRow row, string? headline)
    {
        var what = Markup.Escape($"{row.Series} {row.Point.Label} run {row.Run}");
        var figure = headline is not null && row.Figures.TryGetValue(headline, out var value) ? Markup.Escape($", {headline} {value:0.###}") : "";
        return row.Ok
            ? $"{what}: [green]ok[/] in {row.Seconds:0.0} s{figure}"
            : $"{what}: [red]failed[/] in {row.Seconds:0.0} s: {Markup.Escape(row.Error ?? "")}";
    }
}
