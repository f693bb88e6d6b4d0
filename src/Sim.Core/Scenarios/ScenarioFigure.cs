namespace Sim.Core.Scenarios;

/// <summary>
/// A figure of the run's report: an expression over the participants' reported figures, the recorded facts and the
/// parameters (<c>count(bought)</c>, <c>tickets.initial - tickets.remaining</c>), or code for a scenario built in code.
/// Null when it cannot be computed (e.g. min of nothing).
/// </summary>
public sealed record ScenarioFigure(string Name, string? Expression, Func<ScenarioValues, long?>? Code = null)
{
    public static ScenarioFigure Of(string name, string expression) => new(name, expression);

    public static ScenarioFigure Computed(string name, Func<ScenarioValues, long?> code) => new(name, null, code);
}
