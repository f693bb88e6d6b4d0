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
    /// <summary>One figure: how to get it from a Sim run's JSON and from the Python script's JSON line.</summary>
    public sealed record Workload(
        string Name, string Unit, bool HigherIsBetter, double? Target,
        Func<double, string[]> SimArgs, Func<JsonElement, double> SimFigure,
        Func<double, string[]> PythonArgs, Func<JsonElement, double> PythonFigure,
        Func<double, CancellationToken, Task<double>>? RawAkka = null);

    private static int Scaled(int value, double scale) => Math.Max(1, (int)Math.Round(value * scale));

    public static readonly IReadOnlyList<Workload> Workloads =
    [
        new("queue-1p1c", "items/s", true, 3.0,
            s => ["prodcons", "--items", Scaled(200_000, s).ToString()], j => j.GetProperty("throughput_items_per_s").GetDouble(),
            s => ["queue_throughput.py", "--items", Scaled(200_000, s).ToString()], j => j.GetProperty("items_per_s").GetDouble()),
        new("queue-3p2c", "items/s", true, 3.0,
            s => ["prodcons", "--producers", "3", "--consumers", "2", "--items", Scaled(200_000, s).ToString()],
            j => j.GetProperty("throughput_items_per_s").GetDouble(),
            s => ["queue_throughput.py", "--producers", "3", "--consumers", "2", "--items", Scaled(200_000, s).ToString()],
            j => j.GetProperty("items_per_s").GetDouble()),
        new("lock-increments", "increments/s", true, 5.0,
            s => ["counter", "--processes", "4", "--increments", Scaled(250, s).ToString()],
            j => j.GetProperty("expected").GetDouble() / Math.Max(1e-6, j.GetProperty("timing").GetProperty("work_s").GetDouble()),
            s => ["locked_counter.py", "--processes", "4", "--increments", Scaled(250, s).ToString()],
            j => j.GetProperty("increments_per_s").GetDouble()),
        new("pipe-rtt", "us", false, null,
            s => ["pipe", "--messages", Scaled(2000, s).ToString()], j => j.GetProperty("rtt_median_us").GetDouble(),
            s => ["pipe_rtt.py", "--messages", Scaled(2000, s).ToString()], j => j.GetProperty("rtt_median_us").GetDouble(),
            async (s, ct) => (await Launcher.RawAkka.MeasureRoundTripsAsync(Scaled(2000, s), ct))["rtt_median_us"]!.GetValue<double>()),
        new("pipe-oneway", "messages/s", true, 1.0,
            s => ["pipe", "--messages", Scaled(2000, s).ToString()], j => j.GetProperty("one_way_messages_per_s").GetDouble(),
            s => ["pipe_rtt.py", "--messages", Scaled(2000, s).ToString()], j => j.GetProperty("one_way_messages_per_s").GetDouble()),
    ];

    public static async Task<int> RunAsync(IReadOnlyList<Workload> workloads, int runs, double scale, string? jsonPath,
        IAnsiConsole console, CancellationToken cancellationToken)
    {
        var python = FindPython();
        var scripts = Path.Combine(AppContext.BaseDirectory, "bench", "python");
        if (python is null)
            console.MarkupLine("[yellow]python3 not found: Sim's figures only, no ratios[/]");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("workload", "unit", "sim median (min-max)", "python median (min-max)", "raw Akka median", "sim / python", "target", "met");
        var entries = new JsonArray();
        var folder = Directory.CreateTempSubdirectory("sim-bench-").FullName;
        try
        {
            foreach (var workload in workloads)
            {
                var sim = new List<double>();
                var py = new List<double>();
                var raw = new List<double>();
                for (var run = 1; run <= runs; run++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    console.MarkupLineInterpolated($"[grey]{workload.Name}: run {run}/{runs}[/]");
                    var json = Path.Combine(folder, $"{workload.Name}-{run}.json");
                    if (await RunSimAsync([.. workload.SimArgs(scale), "--json", json], cancellationToken) is { } error)
                        throw new RunFailedException($"{workload.Name}: sim failed: {error}");
                    using (var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json, cancellationToken)))
                        sim.Add(workload.SimFigure(doc.RootElement));
                    if (workload.RawAkka is { } measureRaw)
                        raw.Add(await measureRaw(scale, cancellationToken));
                    if (python is null)
                        continue;
                    var args = workload.PythonArgs(scale);
                    var line = await RunPythonAsync(python, Path.Combine(scripts, args[0]), args[1..], cancellationToken);
                    using var pyDoc = JsonDocument.Parse(line);
                    py.Add(workload.PythonFigure(pyDoc.RootElement));
                }
                var simMedian = Median(sim);
                double? pyMedian = py.Count > 0 ? Median(py) : null;
                double? ratio = pyMedian is > 0 ? simMedian / pyMedian : null;
                bool? met = ratio is { } r && workload.Target is { } t ? workload.HigherIsBetter ? r >= t : r <= t : null;
                table.AddRow(workload.Name, workload.Unit, $"{Fmt(simMedian)} ({Fmt(sim.Min())}-{Fmt(sim.Max())})",
                    pyMedian is null ? "-" : $"{Fmt(pyMedian.Value)} ({Fmt(py.Min())}-{Fmt(py.Max())})",
                    raw.Count > 0 ? $"{Fmt(Median(raw))} (sim {simMedian / Median(raw):0.00}x)" : "-",
                    ratio is null ? "-" : ratio.Value.ToString("0.00x", CultureInfo.InvariantCulture),
                    workload.Target is null ? "-" : (workload.HigherIsBetter ? ">= " : "<= ") + workload.Target.Value.ToString("0.##x", CultureInfo.InvariantCulture),
                    met is null ? "-" : met.Value ? "[green]yes[/]" : "[red]no[/]");
                entries.Add(new JsonObject
                {
                    ["name"] = workload.Name,
                    ["unit"] = workload.Unit,
                    ["higher_is_better"] = workload.HigherIsBetter,
                    ["sim"] = Summary(sim),
                    ["python"] = py.Count > 0 ? Summary(py) : null,
                    ["raw_akka"] = raw.Count > 0 ? Summary(raw) : null,
                    ["ratio_to_raw_akka"] = raw.Count > 0 ? Math.Round(simMedian / Median(raw), 3) : null,
                    ["ratio"] = ratio is null ? null : Math.Round(ratio.Value, 3),
                    ["target"] = workload.Target,
                    ["met"] = met,
                });
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        console.Write(table);
        console.MarkupLineInterpolated($"[grey]{Environment.ProcessorCount} cores, {runs} run(s) each, alternating Sim and Python; scale {scale}[/]");
        if (jsonPath is not null)
        {
            RunReport.WriteJson(jsonPath, new JsonObject
            {
                ["machine"] = new JsonObject
                {
                    ["cores"] = Environment.ProcessorCount,
                    ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
                    ["dotnet"] = Environment.Version.ToString(),
                    ["python"] = python,
                },
                ["runs"] = runs,
                ["scale"] = scale,
                ["workloads"] = entries,
            });
        }
        return 0;
    }

    private static JsonObject Summary(List<double> values) => new()
    {
        ["median"] = Math.Round(Median(values), 3),
        ["min"] = Math.Round(values.Min(), 3),
        ["max"] = Math.Round(values.Max(), 3),
    };

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Fmt(double value) => value >= 100 ? value.ToString("0", CultureInfo.InvariantCulture) : value.ToString("0.0", CultureInfo.InvariantCulture);

    /// <summary>Runs this launcher again as a child process; null on success, else the reason.</summary>
    private static async Task<string?> RunSimAsync(string[] args, CancellationToken cancellationToken)
    {
        var info = SelfProcess.StartInfo(args);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode == 0 ? null : $"exit {process.ExitCode}: {(await stderr).Trim()} {(await stdout).Split('\n').LastOrDefault(l => l.Length > 0)}";
    }

    private static async Task<string> RunPythonAsync(string python, string script, string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
            throw new RunFailedException($"{Path.GetFileName(script)} failed (exit {process.ExitCode}): {stderr.Trim().Split('\n').LastOrDefault()}");
        return stdout.Trim().Split('\n').Last();
    }

    private static string? FindPython() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "python3")).FirstOrDefault(File.Exists);
}

/// <summary>How to start this same launcher again, as <c>sim ARGS</c>.</summary>
public static class SelfProcess
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            info.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        return info;
    }
}
