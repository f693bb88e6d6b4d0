namespace Sim.Core.Roles;

/// <summary>
/// Mutual exclusion at full speed: acquires the lock <c>acquires</c> times, holds it <c>hold-ms</c> (0: an
/// empty critical section), releases. Reports how long each acquire took and the fencing tokens it got, so
/// the launcher can check that every grant was distinct and none was skipped. <c>warmup</c> more acquires come
/// first, untimed but counted as grants (<c>warmup_acquires</c>): with tiered compilation (the launcher turns it on
/// for such runs) the hot path gets its best code only after it has run a while, and a benchmark of the engine's
/// speed measures that, not the first calls.
/// </summary>
public sealed class Locker : IRole
{
    public const string LockName = "lock";

    public string Name => "locker";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var acquires = info.Int("acquires", 100);
        var warmup = Math.Max(0, info.Int("warmup", 0));
        var hold = TimeSpan.FromMilliseconds(info.Int("hold-ms", 0));
        var timeout = TimeSpan.FromMilliseconds(info.Int("timeout-ms", 120_000));
        var mutex = participant.Lock(LockName);
        await participant.ReadyAsync(timeout, cancellationToken).ConfigureAwait(false);

        var waits = new double[acquires];
        long tokenSum = 0, tokenMax = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = -warmup; i < acquires; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (i == 0)
                clock.Restart();
            var asked = System.Diagnostics.Stopwatch.GetTimestamp();
            await using var held = await mutex.AcquireAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (i >= 0)
                waits[i] = System.Diagnostics.Stopwatch.GetElapsedTime(asked).TotalMicroseconds;
            tokenSum += held.Token;
            tokenMax = Math.Max(tokenMax, held.Token);
            if (hold > TimeSpan.Zero)
                await Sleep.ForAsync(hold, cancellationToken).ConfigureAwait(false);
        }
        // The timed acquires only: with contenders warming up alike (the lock is FIFO), their timed parts overlap.
        var workMs = (long)clock.Elapsed.TotalMilliseconds;
        Array.Sort(waits);
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["acquires"] = acquires,
            ["warmup_acquires"] = warmup,
            ["work_ms"] = workMs,
            ["acquire_us_median"] = acquires == 0 ? 0 : (long)waits[acquires / 2],
            ["acquire_us_p99"] = acquires == 0 ? 0 : (long)waits[Math.Min(acquires - 1, (int)(acquires * 0.99))],
            ["token_sum"] = tokenSum,
            ["token_max"] = tokenMax,
        }).ConfigureAwait(false);
        return 0;
    }
}
