using System.Collections.Concurrent;

namespace Sim.Launcher.Cluster;

/// <summary>
/// The participant processes an agent has started and not yet reaped, by run and name. It outlives the agent's actor
/// system: when the cluster downs the agent, its actor system ends and whatever still runs here is ended and reaped.
/// </summary>
public sealed class AgentProcesses
{
    private readonly ConcurrentDictionary<(string Run, string Name), SimProcess> _running = new();

    public int Count => _running.Count;

    public IReadOnlyList<KeyValuePair<(string Run, string Name), SimProcess>> Snapshot() => _running.ToList();

    public bool TryAdd(string run, SimProcess process) => _running.TryAdd((run, process.Name), process);

    public SimProcess? Find(string run, string name) => _running.GetValueOrDefault((run, name));

    public IReadOnlyList<SimProcess> OfRun(string run) => _running.Where(kv => kv.Key.Run == run).Select(kv => kv.Value).ToList();

    public void Remove(string run, string name)
    {
        if (_running.TryRemove((run, name), out var process))
            process.Dispose();
    }

    /// <summary>SIGKILL to every process group of <paramref name="processes"/>; waits (bounded) until each is reaped.</summary>
    public static async Task KillAsync(IReadOnlyList<SimProcess> processes, TimeSpan timeout)
    {
        foreach (var process in processes.Where(p => p.IsAlive))
            process.KillTree();
        await Task.WhenAll(processes.Where(p => p.Pid is not null).Select(p => p.Exited)).WaitAsync(timeout)
            .ContinueWith(_ => { }, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Ends everything still running (the agent was downed or is stopping).</summary>
    public async Task<int> KillAllAsync(TimeSpan timeout)
    {
        var all = _running.Values.ToList();
        await KillAsync(all, timeout).ConfigureAwait(false);
        foreach (var key in _running.Keys.ToList())
            Remove(key.Run, key.Name);
        return all.Count;
    }
}
