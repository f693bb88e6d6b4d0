namespace Sim.Core.Roles;

/// <summary>
/// After <c>delay-ms</c>, once <c>waiters</c> participants wait for the event <c>event</c> (default <c>go</c>), sets it;
/// reports how many waiters it woke at once and when (<c>set_at_ms</c>, Unix ms).
/// </summary>
public sealed class EventSetter : IRole
{
    public string Name => "event-setter";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var gate = participant.Event(info.Text("event", "go"));
        var waiters = info.Int("waiters", 0);
        await participant.ReadyAsync(TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        await Sleep.ForAsync(TimeSpan.FromMilliseconds(info.Int("delay-ms", 500)), cancellationToken).ConfigureAwait(false);
        // Every waiter's request is in before the set: the point is to wake them all in one go.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await gate.StateAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Waiting < waiters && DateTime.UtcNow < deadline)
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        var setAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var woken = await gate.SetAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await participant.ReportAsync(new Dictionary<string, long> { ["woken"] = woken, ["set_at_ms"] = setAt }).ConfigureAwait(false);
        return 0;
    }
}
