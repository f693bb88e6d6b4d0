namespace Sim.Core.Roles;

/// <summary>
/// Takes the lock <c>first</c>, waits <c>gap-ms</c>, then takes <c>second</c> (up to <c>timeout-ms</c>): two of them with the
/// locks in opposite orders are the smallest deadlock. Reports whether it got both.
/// </summary>
public sealed class TwoLocks : IRole
{
    public string Name => "two-locks";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var timeout = TimeSpan.FromMilliseconds(info.Int("timeout-ms", 30_000));
        var first = participant.Lock(info.Text("first", "a"));
        var second = participant.Lock(info.Text("second", "b"));
        await participant.ReadyAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        var gotBoth = 0;
        await using (await first.AcquireAsync(timeout, cancellationToken).ConfigureAwait(false))
        {
            await Sleep.ForAsync(TimeSpan.FromMilliseconds(info.Int("gap-ms", 300)), cancellationToken).ConfigureAwait(false);
            if (await second.TryAcquireAsync(timeout, cancellationToken).ConfigureAwait(false) is { } both)
            {
                await using (both)
                    gotBoth = 1;
            }
        }
        await participant.ReportAsync(new Dictionary<string, long> { ["got_both"] = gotBoth }).ConfigureAwait(false);
        return 0;
    }
}
