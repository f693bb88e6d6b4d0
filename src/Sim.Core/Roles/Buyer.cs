namespace Sim.Core.Roles;

/// <summary>
/// The lesson's ticket buyer: search (read the file, no lock), wait for the start signal, then buy: read,
/// wait <c>delay-ms</c>, write count - 1 if positive; under the lock unless <c>lock=false</c>.
/// </summary>
public sealed class Buyer : IRole
{
    public const string LockName = "tickets";

    public string Name => "buyer";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var delay = TimeSpan.FromMilliseconds(info.Int("delay-ms", 10));
        var useLock = info.Bool("lock", true);
        var lockTimeout = TimeSpan.FromMilliseconds(info.Int("lock-timeout-ms", 120_000));
        var readyTimeout = TimeSpan.FromMilliseconds(info.Int("ready-timeout-ms", 120_000));

        // Searching comes before the barrier, while every buyer of the run boots and makes first contact at once: it may
        // take as long as getting ready may (200 buyers on 2 cores kept the store's answer past a fixed 10 s).
        var tickets = await participant.TicketsAsync(readyTimeout, cancellationToken).ConfigureAwait(false);
        var searched = await tickets.SearchAsync(timeout: readyTimeout, cancellationToken: cancellationToken).ConfigureAwait(false);
        await participant.ReadyAsync(readyTimeout, cancellationToken).ConfigureAwait(false);

        Purchase purchase;
        long token = 0;
        // How long this buyer queued for the lock and held it: the cost of serialising the purchases.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long waitedUs = 0, heldUs = 0, grantedAtMs = 0;
        if (useLock)
        {
            await using (var held = await participant.Lock(LockName).AcquireAsync(lockTimeout, cancellationToken).ConfigureAwait(false))
            {
                waitedUs = (long)clock.Elapsed.TotalMicroseconds;
                grantedAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                token = held.Token;
                purchase = await BuyAsync(tickets, delay, held, cancellationToken).ConfigureAwait(false);
            }
            heldUs = (long)clock.Elapsed.TotalMicroseconds - waitedUs;
        }
        else
            purchase = await BuyAsync(tickets, delay, null, cancellationToken).ConfigureAwait(false);

        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["searched"] = searched.Count,
            ["seen"] = purchase.Seen,
            ["bought"] = purchase.Bought ? 1 : 0,
            ["rejected"] = purchase.Rejected ? 1 : 0,
            ["token"] = token,
            ["waited_us"] = waitedUs,
            ["held_us"] = heldUs,
            ["granted_at_ms"] = grantedAtMs,
        }).ConfigureAwait(false);
        return 0;
    }

    private sealed record Purchase(int Seen, bool Bought, bool Rejected);

    private static async Task<Purchase> BuyAsync(TicketStoreClient tickets, TimeSpan delay, LockHandle? held, CancellationToken cancellationToken)
    {
        // Under the lock the read carries the token too: the store then refuses any older holder's late write.
        var seen = (await tickets.SearchAsync(held, cancellationToken: cancellationToken).ConfigureAwait(false)).Count;
        // The gap between reading and writing is where the lesson's race lives.
        if (delay > TimeSpan.Zero)
            await Sleep.ForAsync(delay, cancellationToken).ConfigureAwait(false);
        if (seen <= 0)
            return new Purchase(seen, false, false);
        var accepted = await tickets.WriteAsync(seen - 1, held?.Token ?? 0, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new Purchase(seen, accepted, !accepted);
    }
}
