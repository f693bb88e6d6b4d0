namespace Sim.Core.Roles;

/// <summary>
/// After <c>delay-ms</c>, waits at the barrier <c>barrier</c> (default <c>meet</c>) of <c>parties</c> up to <c>timeout-ms</c>;
/// reports its arrival index (−1 if broken), whether the barrier broke for it, and how long it waited.
/// </summary>
public sealed class BarrierParty : IRole
{
    public string Name => "barrier-party";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var barrier = participant.Barrier(info.Text("barrier", "meet"), info.Int("parties", 2));
        var timeout = TimeSpan.FromMilliseconds(info.Int("timeout-ms", 30_000));
        await participant.ReadyAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        await Sleep.ForAsync(TimeSpan.FromMilliseconds(info.Int("delay-ms", 0)), cancellationToken).ConfigureAwait(false);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int index;
        try
        {
            index = await barrier.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (BrokenBarrierException)
        {
            index = -1;
        }
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["index"] = index,
            ["broken"] = index < 0 ? 1 : 0,
            ["waited_ms"] = (long)clock.Elapsed.TotalMilliseconds,
        }).ConfigureAwait(false);
        return 0;
    }
}
