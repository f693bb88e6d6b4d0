namespace Sim.Core.Scenarios;

/// <summary>How a shell waits for and ends its participants (OS processes, or actor systems in a test).</summary>
public interface IParticipantShell
{
    /// <summary>True once <paramref name="name"/> has ended, false if it is still running after <paramref name="timeout"/>.</summary>
    Task<bool> JoinAsync(string name, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Ends <paramref name="name"/> as <c>terminate()</c> does (it says goodbye first).</summary>
    void Terminate(string name);
}

/// <summary>
/// The work phase of every model scenario, as Python's main program would do it: put the None sentinels once their
/// producers have ended, join every non-daemon participant, then end the daemons (they die with the main program).
/// </summary>
public static class ScenarioWork
{
    /// <summary>Returns the daemons the run ended; throws <see cref="TimeoutException"/> when the work was not done in time.</summary>
    public static async Task<IReadOnlySet<string>> RunAsync(Scenario scenario, IReadOnlyList<ParticipantSpec> participants,
        ScenarioPrimitives primitives, IParticipantShell shell, CancellationToken cancellationToken)
    {
        var timeout = scenario.Timeout;
        var deadline = DateTime.UtcNow + timeout;
        TimeSpan Left() => deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
        async Task JoinAllAsync(IEnumerable<ParticipantSpec> which)
        {
            var joined = await Task.WhenAll(which.Select(p => shell.JoinAsync(p.Name, Left(), cancellationToken))).ConfigureAwait(false);
            if (!joined.All(j => j))
                throw new TimeoutException($"the work was not done within {timeout.TotalSeconds:0.#} s");
        }
        foreach (var sentinel in scenario.Sentinels)
        {
            await JoinAllAsync(participants.Where(p => p.Role == sentinel.AfterRole)).ConfigureAwait(false);
            var count = participants.Count(p => p.Role == sentinel.PerRole);
            await primitives.Queue(sentinel.Queue).PutManyAsync(Enumerable.Repeat(QueueItem.None, count).ToList(), Left()).ConfigureAwait(false);
        }
        await JoinAllAsync(participants.Where(p => !p.Daemon)).ConfigureAwait(false);
        var ended = new HashSet<string>(StringComparer.Ordinal);
        foreach (var daemon in participants.Where(p => p.Daemon))
        {
            shell.Terminate(daemon.Name);
            ended.Add(daemon.Name);
        }
        return ended;
    }
}
