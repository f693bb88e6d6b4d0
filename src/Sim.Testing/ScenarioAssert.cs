using Sim.Core.Scenarios;
using Xunit;

namespace Sim.Testing;

/// <summary>xunit assertions on a run's verdict, with every check in the message when one fails.</summary>
public static class ScenarioAssert
{
    public static void Ok(ScenarioRunSummary run) => Assert.True(run.Ok, run.ToString());

    public static void Ok(ScenarioReport report) => Ok(ScenarioRunSummary.From(report));

    public static void CheckFailed(ScenarioRunSummary run, string check) => Assert.False(run.Check(check).Passed, run.ToString());

    /// <summary>Both runs reached the same verdict on every check (and overall).</summary>
    public static void SameVerdicts(ScenarioRunSummary expected, ScenarioRunSummary actual)
    {
        Assert.Equal(expected.Checks.Select(c => (c.Name, c.Passed)), actual.Checks.Select(c => (c.Name, c.Passed)));
        Assert.True(expected.Ok == actual.Ok, $"expected: {expected}\nactual: {actual}");
    }
}
