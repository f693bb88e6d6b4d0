using System.Globalization;

namespace Sim.Core.Scenarios;

/// <summary>What figures and checks read: the outcome's reports and facts, the parameters, and the figures computed so far.</summary>
public sealed class ScenarioValues(ScenarioOutcome outcome)
{
    private readonly Dictionary<string, long?> _figures = new(StringComparer.Ordinal);

    public ScenarioOutcome Outcome => outcome;

    public IEnumerable<ParticipantResult> Results => outcome.Participants.Select(p => p.Result).OfType<ParticipantResult>();

    public long? Fact(string name) => outcome.Facts.TryGetValue(name, out var value) ? value : null;

    public long? Figure(string name) => _figures.GetValueOrDefault(name);

    public long? Parameter(string name) =>
        outcome.Scenario.Parameters.TryGetValue(name, out var text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    /// <summary>A name in an expression: a figure computed before, else a fact, else a parameter.</summary>
    public long? Resolve(string name) =>
        _figures.TryGetValue(name, out var figure) ? figure : Fact(name) ?? Parameter(name);

    public long? Aggregate(string function, string figure)
    {
        var values = Results.Where(r => r.Figures.ContainsKey(figure)).Select(r => r.Figures[figure]).ToList();
        return function switch
        {
            "sum" => values.Sum(),
            "count" => values.Count(v => v != 0),
            "reported" => values.Count,
            "min" => values.Count == 0 ? null : values.Min(),
            "max" => values.Count == 0 ? null : values.Max(),
            _ => null,
        };
    }

    internal void SetFigure(string name, long? value) => _figures[name] = value;
}
