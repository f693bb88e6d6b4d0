namespace Sim.Core.Roles;

/// <summary>
/// The lesson's generic child process: works for <c>work-ms</c> (in steps, so it can be stopped), reports,
/// and exits with <c>exit-code</c>. The lifecycle scenario and the process tests run it.
/// </summary>
public sealed class Worker : IRole
{
    public string Name => "worker";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var work = TimeSpan.FromMilliseconds(info.Int("work-ms", 1000));
        var exitCode = info.Int("exit-code", 0);
        if (info.Bool("wait-barrier", false))
            await participant.ReadyAsync(TimeSpan.FromMilliseconds(info.Int("ready-timeout-ms", 120_000)), cancellationToken)
                .ConfigureAwait(false);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Sleep.ForAsync(work, cancellationToken).ConfigureAwait(false);
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["worked_ms"] = (long)clock.Elapsed.TotalMilliseconds,
            ["exit_code"] = exitCode,
        }).ConfigureAwait(false);
        return exitCode;
    }
}
