namespace Sim.Core.Roles;

/// <summary>
/// The lesson's shared-data race: <c>increments</c> times, read the shared value, wait <c>delay-ms</c>, write
/// value + 1. <c>mode=nolock</c> loses updates; <c>mode=lock</c> holds the lock around each read-write and fences
/// both with the lock's token (a holder that lost the lock cannot write); <c>mode=atomic</c> uses the coordinator's
/// atomic increment instead. The shared object counts the writes it accepted, so the launcher knows what was really
/// incremented whatever happened to a process.
/// </summary>
public sealed class Counter : IRole
{
    public const string ObjectName = "counter";
    public const string LockName = "counter";

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

        var counter = await participant.SharedAsync(ObjectName, SharedKind.Value, cancellationToken: cancellationToken).ConfigureAwait(false);
        var mutex = participant.Lock(LockName);
        await participant.ReadyAsync(timeout, cancellationToken).ConfigureAwait(false);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < increments; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (mode == "atomic")
            {
                await counter.AddAsync(1, cancellationToken: cancellationToken).ConfigureAwait(false);
                continue;
            }
            var held = mode == "lock" ? await mutex.AcquireAsync(timeout, cancellationToken).ConfigureAwait(false) : null;
            try
            {
                var value = (await counter.GetAsync(fence: held, cancellationToken: cancellationToken).ConfigureAwait(false)).AsInt();
                if (delay > TimeSpan.Zero)
                    await Sleep.ForAsync(delay, cancellationToken).ConfigureAwait(false);
                await counter.SetAsync(SharedScalar.Of(value + 1), fence: held, cancellationToken: cancellationToken).ConfigureAwait(false);
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
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return 0;
    }
}
