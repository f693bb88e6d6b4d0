using System.Diagnostics;
using System.Text.Json.Nodes;
using Akka.Actor;
using Sim.Core;
using Sim.Core.Roles;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record WavesOptions(int Waves, int Size, int Acquires, string? JsonPath, TimeSpan Timeout);

/// <summary>
/// A long-lived coordinator: waves of short-lived participants (lockers) come, work and go against one coordinator, as
/// a service sees clients come and go. Every wave must be served, and the coordinator's memory and its answer time
/// (the lockers' acquire latency, the time until a wave has reported) must stay flat instead of growing with the
/// participants it has seen.
/// </summary>
public static class WavesScenario
{
    private sealed record Wave(int Index, int Served, double ReportedAfterS, long AcquireUsMedian, double RssMb, double HeapMb, int Threads);

    public static async Task<int> RunAsync(WavesOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        console.MarkupLineInterpolated(
            $"[bold]waves[/]: {options.Waves} waves of {options.Size} lockers x {options.Acquires} acquires against one coordinator ({options.Waves * options.Size} participants)");
        var wall = Stopwatch.StartNew();
        await using var run = new ScenarioRun(NodeBinary.Locate(), line => console.MarkupLineInterpolated($"[grey]{line}[/]"))
        {
            ConnectTimeout = options.Timeout,
        };
        // Released before anyone comes: every later arrival goes straight through the start gate.
        await run.Coordinator.ReleaseBarrierAsync();
        var waves = new List<Wave>();
        string? failure = null;
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("wave", "served", "reported after (s)", "acquire median (us)", "coordinator RSS (MB)", "GC heap (MB)", "threads");
        for (var w = 1; w <= options.Waves && failure is null; w++)
        {
            var wave = Enumerable.Range(1, options.Size).Select(i => run.Add($"w{w}-locker-{i}", new Locker().Name, new Dictionary<string, string>
            {
                ["acquires"] = options.Acquires.ToString(),
                ["timeout-ms"] = ((long)options.Timeout.TotalMilliseconds).ToString(),
            })).ToList();
            var clock = Stopwatch.StartNew();
            try
            {
                await run.StartMoreAsync(wave, cancellationToken);
                await run.Coordinator.AwaitResultsAsync(w * options.Size, options.Timeout, cancellationToken);
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException)
            {
                failure = $"wave {w} was not served within {options.Timeout.TotalSeconds:0} s";
            }
            var reportedAfter = clock.Elapsed.TotalSeconds;
            await Task.WhenAll(wave.Select(p => p.JoinAsync(TimeSpan.FromSeconds(30), cancellationToken)));
            var results = (await run.Coordinator.ResultsAsync()).Where(r => wave.Any(p => p.Name == r.Name)).ToList();
            var medians = results.Select(r => r.Figures.GetValueOrDefault("acquire_us_median")).Order().ToList();
            // A long-lived launcher keeps each ended participant's name, pid and exit code, not its OS handles and pipes.
            foreach (var process in wave.Where(p => !p.IsAlive))
                process.Close();
            var sample = SampleSelf();
            var served = wave.Count(p => p.ExitCode == 0 && results.Any(r => r.Name == p.Name));
            waves.Add(new Wave(w, served, reportedAfter, medians.Count == 0 ? 0 : medians[medians.Count / 2], sample.RssMb, sample.HeapMb, sample.Threads));
            if (served < wave.Count)
                failure ??= $"wave {w}: {wave.Count - served} of {wave.Count} participants were not served";
            var last = waves[^1];
            table.AddRow(w.ToString(), $"{served}/{wave.Count}", $"{last.ReportedAfterS:0.000}", last.AcquireUsMedian.ToString(), $"{last.RssMb:0.0}",
                $"{last.HeapMb:0.0}", last.Threads.ToString());
            console.MarkupLineInterpolated($"[grey]wave {w}: {served}/{wave.Count} served after {reportedAfter:0.000} s, coordinator RSS {sample.RssMb:0.0} MB[/]");
        }
        console.Write(table);

        var state = await run.Coordinator.LockManager.Ask<LockState>(new GetLockState(Locker.LockName), TimeSpan.FromSeconds(10));
        var expectedGrants = (long)waves.Sum(w => w.Served) * options.Acquires;
        var grantsWhole = state.LastToken == expectedGrants;
        // Flat: the later half of the waves against the first half, after the first wave (which warms the coordinator up).
        var growth = Growth(waves, w => w.RssMb);
        var slowdown = Growth(waves, w => w.ReportedAfterS);
        console.MarkupLine($"{waves.Sum(w => w.Served)} participants served in {waves.Count} waves; grants {state.LastToken} of {expectedGrants} expected: " +
                           (grantsWhole ? "[green]whole[/]" : "[red]NOT whole[/]"));
        console.MarkupLine($"coordinator RSS later/earlier waves x{growth:0.00}, time to serve a wave x{slowdown:0.00}; wall {wall.Elapsed.TotalSeconds:0.0} s");
        var census = run.Census();
        RunReport.PrintEnd(console, census, failure, []);
        var ok = failure is null && grantsWhole;
        console.MarkupLine(ok ? "[green]ok[/]" : "[red]NOT ok[/]");
        if (options.JsonPath is not null)
        {
            RunReport.WriteJson(options.JsonPath, new JsonObject
            {
                ["scenario"] = "waves",
                ["ok"] = ok,
                ["error"] = failure,
                ["waves"] = new JsonArray(waves.Select(w => (JsonNode)new JsonObject
                {
                    ["wave"] = w.Index,
                    ["served"] = w.Served,
                    ["reported_after_s"] = Math.Round(w.ReportedAfterS, 4),
                    ["acquire_us_median"] = w.AcquireUsMedian,
                    ["coordinator_rss_mb"] = Math.Round(w.RssMb, 1),
                    ["coordinator_heap_mb"] = Math.Round(w.HeapMb, 1),
                    ["coordinator_threads"] = w.Threads,
                }).ToArray()),
                ["participants"] = waves.Sum(w => w.Served),
                ["grants"] = state.LastToken,
                ["grants_expected"] = expectedGrants,
                ["rss_growth"] = Math.Round(growth, 3),
                ["serve_time_growth"] = Math.Round(slowdown, 3),
                ["zombies"] = census.Zombies.Count,
                ["orphans"] = census.Orphans.Count,
                ["wall_s"] = Math.Round(wall.Elapsed.TotalSeconds, 3),
            });
        }
        return ok ? 0 : 1;
    }

    /// <summary>Median of the later half of the waves over the median of the earlier half (the first wave left out).</summary>
    private static double Growth(IReadOnlyList<Wave> waves, Func<Wave, double> figure)
    {
        var settled = waves.Skip(1).Select(figure).ToList();
        if (settled.Count < 2)
            return 1;
        static double Median(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);
        var half = settled.Count / 2;
        var earlier = Median(settled.Take(half));
        return earlier <= 0 ? 1 : Median(settled.Skip(half)) / earlier;
    }

    private static (double RssMb, double HeapMb, int Threads) SampleSelf()
    {
        // After a full collection: what the coordinator keeps, not what it has not collected yet.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var self = Process.GetCurrentProcess();
        return (self.WorkingSet64 / 1024.0 / 1024.0, GC.GetTotalMemory(false) / 1024.0 / 1024.0, self.Threads.Count);
    }
}
