using System.Diagnostics;

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
/// What the work phase did: the daemons the run ended, and when the work was done (from the phase's start): the
/// moment every non-daemon participant had reported or ended. A participant reports as its last act; the exit of its
/// process after that is no part of the work (and would make rates such as handoffs/s depend on process shutdown).
/// </summary>
public sealed record ScenarioWorkResult(IReadOnlySet<string> EndedByRun, TimeSpan Done);

/// <summary>
/// The work phase of every model scenario, as Python's main program would do it: put the None sentinels once their
/// producers have ended, join every non-daemon participant, then end the daemons (they die with the main program).
/// </summary>
public static class ScenarioWork
{
    /// <summary>
    /// Runs the phase; throws <see cref="TimeoutException"/> when the work was not done in time, <see cref="DeadlockException"/>
    /// when the lock manager found a deadlock and the scenario's <see cref="Scenario.OnDeadlock"/> is <see cref="DeadlockPolicy.Fail"/>.
    /// </summary>
    public static async Task<ScenarioWorkResult> RunAsync(Scenario scenario, IReadOnlyList<ParticipantSpec> participants,
        ScenarioPrimitives primitives, IParticipantShell shell, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var timeout = scenario.Timeout;
        var deadline = DateTime.UtcNow + timeout;
        TimeSpan Left() => deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A deadlock ends the work at once (the default), instead of the participants waiting out their timeouts.
        var deadlock = scenario.OnDeadlock == DeadlockPolicy.Fail
            ? primitives.Coordinator.AwaitDeadlockAsync(Left(), watching.Token)
            : null;
        async Task JoinAllAsync(IEnumerable<ParticipantSpec> which)
        {
            var joining = Task.WhenAll(which.Select(p => shell.JoinAsync(p.Name, Left(), cancellationToken)));
            if (deadlock is not null && await Task.WhenAny(joining, deadlock).ConfigureAwait(false) == deadlock && deadlock.Result is { } found)
                throw new DeadlockException(found);
            var joined = await joining.ConfigureAwait(false);
            if (!joined.All(j => j))
                throw new TimeoutException($"the work was not done within {timeout.TotalSeconds:0.#} s");
        }
        var workDone = WorkDoneAsync(primitives.Coordinator, participants.Where(p => !p.Daemon).Select(p => p.Name).ToList(), shell, Left(),
            clock, watching.Token);
        try
        {
            foreach (var sentinel in scenario.Sentinels)
            {
                await JoinAllAsync(participants.Where(p => p.Role == sentinel.AfterRole)).ConfigureAwait(false);
                var count = participants.Count(p => p.Role == sentinel.PerRole);
                await primitives.Queue(sentinel.Queue).PutManyAsync(Enumerable.Repeat(QueueItem.None, count).ToList(), Left()).ConfigureAwait(false);
            }
            await JoinAllAsync(participants.Where(p => !p.Daemon)).ConfigureAwait(false);
            // Every non-daemon has ended, so the watch ends at once; should it not, the work ended no later than now.
            await Task.WhenAny(workDone, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            var done = (workDone.IsCompletedSuccessfully ? workDone.Result : null) ?? clock.Elapsed;
            var ended = new HashSet<string>(StringComparer.Ordinal);
            foreach (var daemon in participants.Where(p => p.Daemon))
            {
                shell.Terminate(daemon.Name);
                ended.Add(daemon.Name);
            }
            return new ScenarioWorkResult(ended, done);
        }
        finally
        {
            await watching.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Completes once <paramref name="name"/> has reported; throws on timeout or cancellation.</summary>
    public static async Task AwaitReportAsync(Coordinator coordinator, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The result collector answers by count: ask for one more report each time until this name's is among them.
        var known = 0;
        while (true)
        {
            var results = await coordinator.AwaitResultsAsync(known + 1, timeout, cancellationToken).ConfigureAwait(false);
            if (results.Any(r => r.Name == name))
                return;
            known = results.Count;
        }
    }

    /// <summary>When every one of <paramref name="names"/> had reported or ended (null if that could not be told).</summary>
    private static async Task<TimeSpan?> WorkDoneAsync(Coordinator coordinator, IReadOnlyList<string> names, IParticipantShell shell, TimeSpan timeout,
        Stopwatch clock, CancellationToken cancellationToken)
    {
        try
        {
            var pending = new HashSet<string>(names, StringComparer.Ordinal);
            var ended = names.ToDictionary(n => n, n => shell.JoinAsync(n, timeout, cancellationToken), StringComparer.Ordinal);
            Task<IReadOnlyList<ParticipantResult>>? more = null;
            var known = 0;
            while (true)
            {
                foreach (var name in pending.Where(n => ended[n].IsCompleted).ToList())
                {
                    if (!ended[name].IsCompletedSuccessfully || !ended[name].Result)
                        return null;
                    pending.Remove(name);
                }
                if (pending.Count == 0)
                    return clock.Elapsed;
                more ??= coordinator.AwaitResultsAsync(known + 1, timeout, cancellationToken);
                await Task.WhenAny(pending.Select(n => (Task)ended[n]).Append(more)).ConfigureAwait(false);
                if (!more.IsCompleted)
                    continue;
                if (!more.IsCompletedSuccessfully)
                    return null;
                known = more.Result.Count;
                pending.ExceptWith(more.Result.Select(r => r.Name));
                more = null;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException or Akka.Actor.AskTimeoutException)
        {
            return null;
        }
    }
}
