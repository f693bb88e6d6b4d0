namespace Sim.Core.Roles;

/// <summary>
/// The lesson's shared-data race: <c>increments</c> times, read the shared value, wait <c>delay-ms</c>, write
/// value + 1. <c>mode=nolock</c> loses updates; <c>mode=lock</c> holds the lock around each read-write;
/// <c>mode=atomic</c> uses the coordinator's atomic increment instead.
/// </summary>
public sealed class Counter : IRole
{
    public const string ObjectName = "counter";
    public const string LockName = "counter";

    /// <summary>Dict of increments each process has completed, so a killed process's unfinished share is not counted as lost.</summary>
    public const string DoneName = "counter-done";

    public string Name => "counter";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var increments = info.Int("increments", 100);
        var mode = info.Text("mode", "lock");
        var delay = TimeSpan.FromMilliseconds(info.Int("delay-ms", 0));
        var timeout = TimeSpan.FromMilliseconds(info.Int("timeout-ms", 120_000));
        if (mode is not ("nolock" or "lock" or "atomic"))
            throw new FormatException($"parameter mode={mode} is not nolock, lock or atomic");

        var counter = await participant.SharedAsync(ObjectName, SharedKind.Value).ConfigureAwait(false);
        var done = await participant.SharedAsync(DoneName, SharedKind.Dict).ConfigureAwait(false);
        var mutex = participant.Lock(LockName);
        await participant.ReadyAsync(timeout, cancellationToken).ConfigureAwait(false);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < increments; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (mode == "atomic")
            {
                await counter.AddAsync(1).ConfigureAwait(false);
                await done.AddAsync(1, participant.Name).ConfigureAwait(false);
                continue;
            }
            var held = mode == "lock" ? await mutex.AcquireAsync(timeout, cancellationToken).ConfigureAwait(false) : null;
            try
            {
                var value = (await counter.GetAsync().ConfigureAwait(false)).AsInt();
                if (delay > TimeSpan.Zero)
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                await counter.SetAsync(SharedScalar.Of(value + 1)).ConfigureAwait(false);
                // Still under the lock: the tally and the value move together.
                await done.AddAsync(1, participant.Name).ConfigureAwait(false);
            }
            finally
            {
                if (held is not null)
                    await held.DisposeAsync().ConfigureAwait(false);
            }
        }
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["increments"] = increments,
            ["work_ms"] = (long)clock.Elapsed.TotalMilliseconds,
        }).ConfigureAwait(false);
        return 0;
    }
}
