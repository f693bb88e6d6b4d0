namespace Sim.Launcher.Sweep;

/// <summary>
/// The warm pool of a sweep's forkserver runs: its own (a socket in a private temporary folder), not the user's. Before a
/// forkserver run it is running, at least as big as the run, and full (as the bench's forkserver figures: every timed run
/// finds booted nodes); before any other run (spawn, Python) it is stopped, since idle pooled nodes take some CPU that those
/// runs must not pay.
/// </summary>
public sealed class SweepPool : IAsyncDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-sweep-").FullName;
    private int _size;

    public string Socket => Path.Combine(_folder, "pool.sock");

    /// <summary>Running, with at least <paramref name="participants"/> nodes, every one booted and idle.</summary>
    public async Task ReadyAsync(int participants, CancellationToken cancellationToken)
    {
        if (_size > 0 && _size < participants)
            await StopAsync(cancellationToken);
        if (_size == 0)
        {
            // Set first: a pool whose start is interrupted is still stopped at the end.
            _size = participants;
            await WarmPool.StartServerAsync(participants, Socket, WarmPool.StartTimeout, cancellationToken, TimeSpan.FromHours(1));
        }
        await WarmPool.WaitFullAsync(Socket, cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_size == 0)
            return;
        _size = 0;
        await WarmPool.StopServerAsync(Socket, TimeSpan.FromSeconds(60), cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync(CancellationToken.None);
        }
        finally
        {
            try
            {
                Directory.Delete(_folder, recursive: true);
            }
            catch (IOException)
            {
                // A stopping server may still remove its socket: an empty temporary folder is harmless.
            }
        }
    }
}
