namespace Sim.Launcher.Sweep;

/// <summary>
/// One run of the sweep: Sim (<see cref="SweepPlan.Sim"/>) or its Python reference at a point, the <paramref name="Run"/>-th
/// time. A Python run's <paramref name="Point"/> keeps only the keys the reference takes; <paramref name="From"/> is the Sim point whose
/// settings give its arguments.
/// </summary>
public sealed record SweepRun(string Series, SweepPoint Point, int Run, SweepPoint From)
{
    /// <summary>The run's files in the sweep's runs folder.</summary>
    public string Id => $"{Series}-{Point.Slug}-r{Run}";
}

/// <summary>The order of a sweep's runs.</summary>
public static class SweepPlan
{
    public const string Sim = "sim";
    public const string Python = "python";

    /// <summary>
    /// Run 1 of every point, then run 2 of every point, and so on, so that the drift of a noisy machine spreads over all
    /// points. With a Python reference (<paramref name="pythonKeeps"/>: the keys it takes), its run of a point follows
    /// Sim's, once per run for all points that differ only in keys it does not take.
    /// </summary>
    public static IReadOnlyList<SweepRun> Order(IReadOnlyList<SweepPoint> points, int runs, Func<string, bool>? pythonKeeps)
    {
        var order = new List<SweepRun>();
        for (var run = 1; run <= runs; run++)
        {
            var pythonDone = new HashSet<SweepPoint>();
            foreach (var point in points)
            {
                order.Add(new SweepRun(Sim, point, run, point));
                if (pythonKeeps is not null && point.Keep(pythonKeeps) is var python && pythonDone.Add(python))
                    order.Add(new SweepRun(Python, python, run, point));
            }
        }
        return order;
    }
}
