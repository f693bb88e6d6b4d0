namespace Sim.Core.Roles;

/// <summary>
/// Waits for the event <c>event</c> (default <c>go</c>) up to <c>timeout-ms</c>; reports whether it was set (<c>set</c>), how
/// long it waited, and when it woke (<c>woken_at_ms</c>, Unix ms: waiters released together wake together).
/// </summary>
public sealed class EventWaiter : IRole
{
    public string Name => "event-waiter";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var gate = participant.Event(info.Text("event", "go"));
        var timeout = TimeSpan.FromMilliseconds(info.Int("timeout-ms", 30_000));
        await participant.ReadyAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var set = await gate.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        var woken = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["set"] = set ? 1 : 0,
            ["waited_ms"] = (long)clock.Elapsed.TotalMilliseconds,
            ["woken_at_ms"] = woken,
        }).ConfigureAwait(false);
        return 0;
    }
}
