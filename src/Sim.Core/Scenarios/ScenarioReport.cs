using System.Text.Json.Nodes;

namespace Sim.Core.Scenarios;

/// <summary>
/// The verdict on one run: the scenario's figures in order, every check's verdict, the participants that ended badly
/// for no reason given, and whether the run was correct (no failure, no unexpected exit, every check passed).
/// </summary>
public sealed record ScenarioReport(
    ScenarioOutcome Outcome,
    IReadOnlyList<KeyValuePair<string, long?>> Figures,
    IReadOnlyList<CheckVerdict> Checks,
    IReadOnlyList<ParticipantOutcome> UnexpectedExits)
{
    public bool Ok => Outcome.Failure is null && UnexpectedExits.Count == 0 && Checks.All(c => c.Passed) && HistoryOk;

    /// <summary>The verdicts of the checkers that read the run's history (empty when it was not recorded).</summary>
    public IReadOnlyList<CheckVerdict> History { get; init; } = [];

    /// <summary>Every history check passed, or the scenario expects the race they find (<see cref="Scenario.ExpectRace"/>).</summary>
    public bool HistoryOk => Outcome.Scenario.ExpectRace || History.All(c => c.Passed);

    public long? Figure(string name) => Figures.FirstOrDefault(f => f.Key == name).Value;

    public CheckVerdict Check(string name) =>
        Checks.FirstOrDefault(c => c.Name == name) ?? throw new KeyNotFoundException($"no check '{name}' in {Outcome.Scenario.Name}");

    /// <summary>Computes the figures in their order (each may use those before it), then the checks.</summary>
    public static ScenarioReport Evaluate(ScenarioOutcome outcome)
    {
        var values = new ScenarioValues(outcome);
        var figures = new List<KeyValuePair<string, long?>>();
        foreach (var figure in outcome.Scenario.Figures)
        {
            var value = figure.Code is { } code ? code(values) : FigureExpression.Parse(figure.Expression!).Evaluate(values);
            values.SetFigure(figure.Name, value);
            figures.Add(KeyValuePair.Create(figure.Name, value));
        }
        var checks = outcome.Scenario.Checks.Select(c => c.Evaluate(values)).ToList();
        return new ScenarioReport(outcome, figures, checks, outcome.Participants.Where(p => p.Unexpected).ToList());
    }

    /// <summary>One line per lease that ran out: who lost which lock, with which token, when in the work phase.</summary>
    public IEnumerable<string> LeaseLines() =>
        (Outcome.LeaseExpiries ?? []).Select(e =>
            $"the lease of '{e.Lock}' held by {e.OwnerName} (token {e.Token}) ran out" +
            (Outcome.ReleasedAt is { } released ? $" at {(DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs) - released).TotalSeconds:0.000} s" : "") +
            ": the lock passed on, and the stores refuse that token from now on");

    /// <summary>A deadlock as JSON: <c>{cycle: [{participant, holds, wants, held_by}], blocked: [...]}</c>.</summary>
    public static JsonObject DeadlockJson(DeadlockFound deadlock) => new()
    {
        ["cycle"] = new JsonArray(deadlock.Cycle.Select(e => (JsonNode)new JsonObject
        {
            ["participant"] = e.Participant,
            ["holds"] = e.Holds,
            ["wants"] = e.Wants,
            ["held_by"] = e.WantsHeldBy,
        }).ToArray()),
        ["blocked"] = new JsonArray(deadlock.Blocked.Select(b => (JsonNode)b).ToArray()),
    };

    /// <summary>
    /// The report as JSON, the same from every shell: scenario, ok, error, parameters, figures, checks, facts, timing
    /// and (unless the shell writes its own richer list) every participant with its exit code and figures.
    /// </summary>
    public JsonObject ToJson(bool withParticipants = true)
    {
        var outcome = Outcome;
        var json = new JsonObject
        {
            ["scenario"] = outcome.Scenario.Name,
            ["ok"] = Ok,
            ["error"] = outcome.Failure,
            ["parameters"] = new JsonObject(outcome.Scenario.Parameters.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["figures"] = new JsonObject(Figures.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["checks"] = new JsonArray(Checks.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["passed"] = c.Passed,
                ["detail"] = c.Detail,
            }).ToArray()),
            ["history_checks"] = new JsonArray(History.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["passed"] = c.Passed,
                ["detail"] = c.Detail,
                ["evidence"] = new JsonArray((c.Evidence ?? []).Select(e => (JsonNode)e).ToArray()),
            }).ToArray()),
            ["facts"] = new JsonObject(outcome.Facts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
            ["unexpected_exits"] = new JsonArray(UnexpectedExits.Select(p => (JsonNode)p.Spec.Name).ToArray()),
            ["timing"] = new JsonObject
            {
                // Zero: the phase was never reached (nobody was ready; the work never started).
                ["ready_s"] = outcome.Ready > TimeSpan.Zero ? Math.Round(outcome.Ready.TotalSeconds, 4) : null,
                ["work_s"] = outcome.Ready > TimeSpan.Zero ? Math.Round(outcome.Work.TotalSeconds, 4) : null,
                ["wall_s"] = Math.Round(outcome.Wall.TotalSeconds, 4),
            },
        };
        if (outcome.Deadlock is { } deadlock)
            json["deadlock"] = DeadlockJson(deadlock);
        if (outcome.LeaseExpiries is { Count: > 0 } expiries)
            json["lease_expiries"] = new JsonArray(expiries.Select(e => (JsonNode)new JsonObject
            {
                ["lock"] = e.Lock,
                ["holder"] = e.OwnerName,
                ["token"] = e.Token,
                ["at_s"] = outcome.ReleasedAt is { } released ? Math.Round((DateTimeOffset.FromUnixTimeMilliseconds(e.AtUnixMs) - released).TotalSeconds, 3) : null,
            }).ToArray());
        if (withParticipants)
        {
            json["participants"] = new JsonArray(outcome.Participants.Select(p =>
            {
                var entry = new JsonObject
                {
                    ["name"] = p.Spec.Name,
                    ["role"] = p.Spec.Role,
                    ["daemon"] = p.Spec.Daemon,
                    ["exitcode"] = p.ExitCode,
                };
                foreach (var (key, value) in p.Result?.Figures ?? new Dictionary<string, long>())
                    entry[key] = value;
                return (JsonNode)entry;
            }).ToArray());
        }
        return json;
    }
}
