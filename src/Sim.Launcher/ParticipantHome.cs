using Akka.Actor;
using Sim.Core;

namespace Sim.Launcher;

/// <summary>
/// Where a run's participant processes live and who starts them: this launcher's children, the warm pool's booted
/// nodes, or processes that agents of a cluster start on their machines. Whichever it is, each <see cref="SimProcess"/>
/// learns its pid at the start and its end (exit code, or lost) when its parent sees it, and that end reaches the
/// coordinator through the same <see cref="SimProcess.OnExit"/> path.
/// </summary>
public interface IParticipantHome : IAsyncDisposable
{
    /// <summary>What the progress line says was done, e.g. "started 10 processes".</summary>
    string Started(int count);

    /// <summary>What comes before the run's clock starts (connecting to the pool, joining the cluster, placing).</summary>
    Task PrepareAsync(IReadOnlyList<SimProcess> processes, CancellationToken cancellationToken);

    /// <summary>Starts every process (returns once each has a pid, or throws).</summary>
    Task StartAsync(IReadOnlyList<SimProcess> processes, CancellationToken cancellationToken);
}

/// <summary>Children of this launcher: it is their parent, sees their exit from the OS and reaps them.</summary>
public sealed class LocalChildren : IParticipantHome
{
    public string Started(int count) => $"started {count} processes";

    public Task PrepareAsync(IReadOnlyList<SimProcess> processes, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(IReadOnlyList<SimProcess> processes, CancellationToken cancellationToken)
    {
        foreach (var process in processes)
            process.Start();
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// The warm pool's booted nodes (<c>sim pool start</c>, or started on first use with <paramref name="startOnFirstUse"/> as
/// its idle timeout: the forkserver start method): the pool server is their parent and reports their end.
/// </summary>
public sealed class WarmPoolHome(Address coordinator, TimeSpan? startOnFirstUse = null, Action<string>? progress = null) : IParticipantHome
{
    private WarmPool? _pool;

    public string Started(int count) => $"claimed {count} warm nodes from the pool";

    public async Task PrepareAsync(IReadOnlyList<SimProcess> processes, CancellationToken cancellationToken)
    {
        var path = WarmPool.SocketPath;
        _pool = startOnFirstUse is { } idleTimeout
            ? await WarmPool.ConnectOrStartAsync(path, Math.Max(1, processes.Count), idleTimeout,
                pid => progress?.Invoke(
                    $"forkserver: started a warm pool of {Math.Max(1, processes.Count)} nodes (server pid {pid}) at {path}; it stops after {idleTimeout.TotalSeconds:0} s unused"),
                cancellationToken).ConfigureAwait(false)
            : await WarmPool.ConnectAsync(path, cancellationToken).ConfigureAwait(false);
        // The pool's nodes are warm; so is the coordinator's side once one participant has been through it. Without
        // this, every node's first request waits on this process loading the code that answers it.
        var guest = SimTls.Create(SimConfig.SystemName, SimConfig.Node("127.0.0.1", 0));
        await Participant.WarmUpAsync(guest, coordinator, "launcher-warm-up").ConfigureAwait(false);
        await guest.Terminate().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, CancellationToken.None).ConfigureAwait(false);
    }

    public async Task StartAsync(IReadOnlyList<SimProcess> processes, CancellationToken cancellationToken)
    {
        await _pool!.ClaimAsync(processes, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_pool is not null)
            await _pool.DisposeAsync().ConfigureAwait(false);
    }
}
