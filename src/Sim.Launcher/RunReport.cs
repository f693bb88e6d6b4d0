using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sim.Launcher;

/// <summary>The parts of a run's JSON that every scenario shares.</summary>
public static class RunReport
{
    /// <summary>The timing of a run; a phase it never reached is null.</summary>
    public static JsonObject Timing(RunPhases phases, double workSeconds, TimeSpan wall) => new()
    {
        ["ready_s"] = phases.ReadyReached ? Math.Round(phases.Ready.TotalSeconds, 4) : null,
        ["work_s"] = phases.WorkReached ? Math.Round(workSeconds, 4) : null,
        ["wall_s"] = Math.Round(wall.TotalSeconds, 4),
    };

    /// <summary>
    /// What every scenario's JSON ends with: peak memory, zombies and orphans, the faults, and every process
    /// with all the figures its participant reported (<paramref name="adjust"/> may add or reshape some).
    /// </summary>
    public static void AddRunFacts(JsonObject json, ScenarioRun run, ProcessCensus census,
        IReadOnlyDictionary<string, Sim.Core.ParticipantResult> results, Action<Sim.Core.ParticipantResult, JsonObject>? adjust = null)
    {
        json["max_peak_rss_mb"] = run.MaxPeakRssMb;
        json["zombies"] = census.Zombies.Count;
        json["orphans"] = census.Orphans.Count;
        json["faults"] = Faults(run.FaultOutcomes);
        json["processes"] = Processes(run, (process, entry) =>
        {
            if (!results.TryGetValue(process.Name, out var result))
                return;
            foreach (var (key, value) in result.Figures)
                entry[key] = value;
            adjust?.Invoke(result, entry);
        });
    }

    public static JsonArray Processes(ScenarioRun run, Action<SimProcess, JsonObject> addFigures)
    {
        var array = new JsonArray();
        foreach (var process in run.Processes)
        {
            var node = new JsonObject
            {
                ["name"] = process.Name,
                ["role"] = process.Role,
                ["pid"] = process.Pid,
                ["host"] = process.Host,
                ["agent"] = process.Agent,
                ["daemon"] = process.Daemon,
                ["exitcode"] = process.ExitCode,
                ["lost"] = process.LostReason is not null,
                ["ended_s"] = process.EndedAt is { } ended ? Math.Round((ended - run.StartedAt).TotalSeconds, 4) : null,
                ["peak_rss_mb"] = process.PeakRssKb is { } kb ? Math.Round(kb / 1024.0, 1) : null,
                ["pss_mb"] = process.PssKb is { } pss ? Math.Round(pss / 1024.0, 1) : null,
                ["private_mb"] = process.PrivateKb is { } priv ? Math.Round(priv / 1024.0, 1) : null,
                ["cpu_s_at_ready"] = process.CpuSecondsAtReady,
            };
            addFigures(process, node);
            array.Add(node);
        }
        return array;
    }

    /// <summary>The lines every scenario ends with: zombies and orphans, the failure, and who exited badly and why.</summary>
    public static void PrintEnd(Spectre.Console.IAnsiConsole console, ProcessCensus census, string? failure, IEnumerable<SimProcess> unexpectedExits)
    {
        Spectre.Console.AnsiConsoleExtensions.MarkupLine(console, $"zombies {census.Zombies.Count}, orphans {census.Orphans.Count}");
        if (failure is not null)
            Spectre.Console.AnsiConsoleExtensions.MarkupLineInterpolated(console, $"[red]run failed: {failure}[/]");
        foreach (var process in unexpectedExits.Where(p => p.ExitCode is not null))
            Spectre.Console.AnsiConsoleExtensions.MarkupLineInterpolated(console,
                $"[red]{process.Name} exited with {process.ExitCode}: {process.StderrTail.LastOrDefault() ?? ""}[/]");
        // Processes on an agent that went away: their end was never seen.
        foreach (var group in unexpectedExits.Where(p => p.LostReason is not null).GroupBy(p => p.LostReason))
            Spectre.Console.AnsiConsoleExtensions.MarkupLineInterpolated(console,
                $"[red]{string.Join(", ", group.Select(p => p.Name))} {group.Key}[/]");
    }

    /// <summary>The exit code cell of the tables: the code, "lost" when its end was never seen, "running" before it ended.</summary>
    public static string ExitCell(SimProcess process, bool expected) =>
        process.LostReason is not null ? "[red]lost[/]"
        : expected ? process.ExitCode?.ToString() ?? "-"
        : $"[red]{process.ExitCode?.ToString() ?? "running"}[/]";

    /// <summary>When the process ended, in seconds since the run started, for the tables.</summary>
    public static string EndedSeconds(ScenarioRun run, SimProcess process) =>
        process.EndedAt is { } ended ? (ended - run.StartedAt).TotalSeconds.ToString("0.000") : "-";

    public static JsonArray Faults(IEnumerable<FaultOutcome> outcomes)
    {
        var array = new JsonArray();
        foreach (var outcome in outcomes)
        {
            array.Add(new JsonObject
            {
                ["action"] = outcome.Fault.Action.ToString().ToLowerInvariant(),
                ["target"] = outcome.Fault.Target,
                ["name"] = outcome.Name,
                ["pid"] = outcome.Pid,
                ["at_s"] = outcome.AtSeconds is { } at ? Math.Round(at, 4) : null,
                ["note"] = outcome.Note,
            });
        }
        return array;
    }

    public static void WriteJson(string path, JsonNode json) => WriteText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Writes a whole file by a temporary one moved over it: a reader never sees it half written.</summary>
    public static void WriteText(string path, string text)
    {
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, full, overwrite: true);
    }
}
