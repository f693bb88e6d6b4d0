using System.Text.Json;

namespace Sim.Launcher.Sweep;

/// <summary>What a sweep asks <c>sim</c> itself before any run starts: whether each point is a valid run, and the cluster's agents.</summary>
public static class SweepPreflight
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Each point's command line checked by the scenario command itself (<c>--validate-only</c>: options parsed, the scenario
    /// built and checked, nothing started), two at a time; returns each point's number of participants (the size of the pool
    /// its forkserver runs need). A point the command refuses is a usage error with the command's own line.
    /// </summary>
    public static async Task<IReadOnlyDictionary<SweepPoint, int>> ValidateAsync(
        IReadOnlyList<SweepPoint> points, Func<SweepPoint, IReadOnlyList<string>> arguments, CancellationToken cancellationToken)
    {
        using var gate = new SemaphoreSlim(2);
        var checks = points.Select(async point =>
        {
            await gate.WaitAsync(cancellationToken);
            try
            {
                var info = SelfProcess.StartInfo([.. arguments(point), "--validate-only"]);
                info.Environment.Remove(StartMethods.Variable);
                var result = await ChildProcess.RunAsync(info, Limit, TimeSpan.FromSeconds(5), cancellationToken);
                if (result.ExitCode != 0)
                    throw new UsageException($"{(point.Values.Count > 0 ? point.Label : "the sweep's run")}: {(result.TimedOut ? "not checked within 120 s" : result.Reason)}");
                return (point, Participants(result.Stdout));
            }
            finally
            {
                gate.Release();
            }
        }).ToList();
        return (await Task.WhenAll(checks)).ToDictionary(c => c.point, c => c.Item2);
    }

    private static int Participants(string stdout)
    {
        try
        {
            using var json = JsonDocument.Parse(ChildResult.LastLine(stdout) ?? "");
            return json.RootElement.GetProperty("participants").GetInt32();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new RunFailedException($"sim --validate-only did not say how many participants a run has: {ChildResult.LastLine(stdout)}");
        }
    }

    /// <summary>The names of the cluster's agents (<c>sim cluster --json</c>), in order: <c>agents=N</c> runs on the first N.</summary>
    public static async Task<IReadOnlyList<string>> AgentsAsync(string cluster, string? certificate, CancellationToken cancellationToken)
    {
        List<string> args = ["cluster", "--cluster", cluster, "--json"];
        if (certificate is not null)
            args.AddRange(["--cert", certificate]);
        var result = await ChildProcess.RunAsync(SelfProcess.StartInfo(args), Limit, TimeSpan.FromSeconds(5), cancellationToken);
        if (result.ExitCode != 0)
            throw new UsageException($"--cluster {cluster}: {(result.TimedOut ? "no answer within 120 s" : result.Reason)}");
        try
        {
            using var json = JsonDocument.Parse(result.Stdout);
            return json.RootElement.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("name").GetString() ?? "").Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new RunFailedException($"--cluster {cluster}: sim cluster --json printed no agents: {e.Message}");
        }
    }
}
