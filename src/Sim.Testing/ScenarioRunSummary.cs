using System.Text.Json;
using Sim.Core.Scenarios;

namespace Sim.Testing;

/// <summary>
/// What a test compares between runs, whichever shell ran them: the verdict, each check's verdict, the figures, and how
/// each participant ended. Built from an in-process <see cref="ScenarioReport"/> or from the JSON of <c>sim run</c>.
/// </summary>
public sealed record ScenarioRunSummary(
    bool Ok, string? Error, IReadOnlyList<CheckVerdict> Checks, IReadOnlyDictionary<string, long?> Figures,
    IReadOnlyDictionary<string, int?> ExitCodes, IReadOnlyDictionary<string, long> Facts)
{
    /// <summary>The first deadlock's cycle, one "participant holds X, wants Y (held by Z)" per step; empty if none was found.</summary>
    public IReadOnlyList<string> DeadlockCycle { get; init; } = [];

    /// <summary>How long the work phase took, from the release of the start barrier until the work was done or the run failed.</summary>
    public TimeSpan Work { get; init; }

    /// <summary>The verdicts of the checkers that read the run's history (mutual exclusion, the ticket file, total-queue, counters).</summary>
    public IReadOnlyList<CheckVerdict> HistoryChecks { get; init; } = [];

    public static ScenarioRunSummary From(ScenarioReport report) => new(
        report.Ok, report.Outcome.Failure, report.Checks,
        report.Figures.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal),
        report.Outcome.Participants.ToDictionary(p => p.Spec.Name, p => p.ExitCode, StringComparer.Ordinal),
        report.Outcome.Facts)
    {
        DeadlockCycle = report.Outcome.Deadlock?.Cycle.Select(e => e.ToString()).ToList() ?? [],
        Work = report.Outcome.Work,
        HistoryChecks = report.History,
    };

    /// <summary>Reads the JSON that <c>sim run FILE --json PATH</c> wrote.</summary>
    public static ScenarioRunSummary FromJson(JsonElement root)
    {
        var checks = root.GetProperty("checks").EnumerateArray()
            .Select(c => new CheckVerdict(c.GetProperty("name").GetString()!, c.GetProperty("passed").GetBoolean(), c.GetProperty("detail").GetString() ?? ""))
            .ToList();
        var figures = root.GetProperty("figures").EnumerateObject()
            .ToDictionary(f => f.Name, f => f.Value.ValueKind == JsonValueKind.Number ? f.Value.GetInt64() : (long?)null, StringComparer.Ordinal);
        var exits = root.GetProperty("processes").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!,
            p => p.GetProperty("exitcode").ValueKind == JsonValueKind.Number ? p.GetProperty("exitcode").GetInt32() : (int?)null, StringComparer.Ordinal);
        var facts = root.GetProperty("facts").EnumerateObject().ToDictionary(f => f.Name, f => f.Value.GetInt64(), StringComparer.Ordinal);
        return new ScenarioRunSummary(root.GetProperty("ok").GetBoolean(),
            root.GetProperty("error").ValueKind == JsonValueKind.String ? root.GetProperty("error").GetString() : null, checks, figures, exits, facts)
        {
            DeadlockCycle = root.TryGetProperty("deadlock", out var deadlock)
                ? deadlock.GetProperty("cycle").EnumerateArray().Select(e => new Sim.Core.DeadlockEdge(e.GetProperty("participant").GetString()!,
                    e.GetProperty("holds").GetString()!, e.GetProperty("wants").GetString()!, e.GetProperty("held_by").GetString()!).ToString()).ToList()
                : [],
            Work = root.TryGetProperty("timing", out var timing) ? TimeSpan.FromSeconds(timing.GetProperty("work_s").GetDouble()) : default,
            HistoryChecks = root.TryGetProperty("history_checks", out var history)
                ? history.EnumerateArray().Select(c => new CheckVerdict(c.GetProperty("name").GetString()!, c.GetProperty("passed").GetBoolean(),
                    c.GetProperty("detail").GetString() ?? "", c.GetProperty("evidence").EnumerateArray().Select(e => e.GetString()!).ToList())).ToList()
                : [],
        };
    }

    public CheckVerdict Check(string name) => Checks.FirstOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"no check '{name}'");

    /// <summary>One line per check, for a failing test's message.</summary>
    public override string ToString() =>
        $"ok={Ok}{(Error is null ? "" : $", error: {Error}")}; " + string.Join("; ", Checks.Concat(HistoryChecks).Select(c => $"{(c.Passed ? "passed" : "FAILED")} {c.Name} ({c.Detail})"));
}
