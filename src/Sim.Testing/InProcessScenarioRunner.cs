using System.Diagnostics;
using Akka.Actor;
using Sim.Core;
using Sim.Core.Roles;
using Sim.Core.Scenarios;

namespace Sim.Testing;

/// <summary>
/// Runs a scenario of the model in this process: the coordinator in one actor system, each participant in its own
/// actor system over loopback remoting (every message serialized, as between processes), the same primitives, work
/// phase, facts, figures and checks as <c>sim run</c>. Faults: kill stops a participant's system at once (nothing
/// more is sent), terminate cancels its role and says goodbye first. Roles: Sim's own, those of the scenario's
/// <see cref="Scenario.RolesAssembly"/>, and any given in code.
/// </summary>
public sealed class InProcessScenarioRunner
{
    private readonly Dictionary<string, Func<IRole>> _extraRoles = new(StringComparer.Ordinal);

    /// <summary>Adds a role given in code (e.g. one the test project references); it wins over one of the same name.</summary>
    public InProcessScenarioRunner WithRole<TRole>() where TRole : IRole, new()
    {
        _extraRoles[new TRole().Name] = () => new TRole();
        return this;
    }

    /// <summary>Runs <paramref name="scenario"/> to its report; a run that fails (a phase timed out) says why in the report.</summary>
    public static Task<ScenarioReport> RunAsync(Scenario scenario, CancellationToken cancellationToken = default) =>
        new InProcessScenarioRunner().ExecuteAsync(scenario, cancellationToken);

    public async Task<ScenarioReport> ExecuteAsync(Scenario scenario, CancellationToken cancellationToken = default)
    {
        var library = RoleLibrary.Load(scenario.RolesAssembly);
        var roles = library.Names.ToDictionary(n => n, n => (Func<IRole>)(() => library.Create(n)!), StringComparer.Ordinal);
        foreach (var (name, create) in _extraRoles)
            roles[name] = create;
        scenario.Validate(roles.Keys);
        if (scenario.Faults.FirstOrDefault(f => f.Lasts) is { } lasting)
            throw new ScenarioException(
                $"a {lasting.Action.ToString().ToLowerInvariant()} ({lasting.Target}@{lasting.AtSeconds}) acts on a whole process or its network: run this scenario with the process runner");
        var specs = scenario.Expand();

        var clock = Stopwatch.StartNew();
        var folder = Directory.CreateTempSubdirectory("sim-inprocess-").FullName;
        var system = ActorSystem.Create(SimConfig.SystemName, SimConfig.Node("127.0.0.1", 0));
        var participants = new List<InProcessParticipant>();
        try
        {
            var coordinator = Coordinator.Start(system);
            // The run's history, checked as `sim run` checks it.
            var history = Sim.Core.History.HistoryLog.Of(system);
            history.Enabled = true;
            var releasedAt = DateTime.UtcNow;
            var primitives = await ScenarioPrimitives.DeclareAsync(coordinator, scenario, d => Path.Combine(folder, d.Name + ".json")).ConfigureAwait(false);
            participants.AddRange(specs.Select(s => new InProcessParticipant(s, roles[s.Role](), coordinator)));
            foreach (var participant in participants)
                participant.Start(scenario.Timeout);

            string? failure = null;
            TimeSpan ready = default, released = default, done = default;
            var faults = new List<(ScenarioFault Fault, Task<AppliedFault> Applied)>();
            IReadOnlySet<string> endedByRun = new HashSet<string>();
            using var stopFaults = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            try
            {
                ready = await AwaitReadyAsync(coordinator, participants, scenario.Timeout, cancellationToken).ConfigureAwait(false);
                releasedAt = DateTime.UtcNow;
                await coordinator.ReleaseBarrierAsync().ConfigureAwait(false);
                released = clock.Elapsed;
                foreach (var fault in scenario.Faults)
                    faults.Add((fault, InjectAsync(scenario, fault, coordinator, participants, clock, released, stopFaults.Token)));
                var started = clock.Elapsed;
                var work = await ScenarioWork.RunAsync(scenario, specs, primitives, new Shell(participants), cancellationToken).ConfigureAwait(false);
                (endedByRun, done) = (work.EndedByRun, started + work.Done);
                await Task.WhenAll(participants.Select(p => p.Ended)).WaitAsync(TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or RunFailure or DeadlockException)
            {
                failure = e.Message;
                done = clock.Elapsed;
                foreach (var participant in participants)
                    participant.Kill();
            }
            await stopFaults.CancelAsync().ConfigureAwait(false);
            var applied = new List<AppliedFault>();
            foreach (var (fault, task) in faults)
            {
                try
                {
                    applied.Add(await task.ConfigureAwait(false));
                }
                catch (OperationCanceledException)
                {
                    applied.Add(new AppliedFault(fault, null, null, "the run ended before it was due"));
                }
            }
            var wall = clock.Elapsed;
            var results = (await coordinator.ResultsAsync().ConfigureAwait(false)).ToDictionary(r => r.Name);
            var hit = applied.Where(a => a.Note is null).Select(a => a.Name).ToHashSet();
            var outcomes = participants.Select(p => new ParticipantOutcome(p.Spec, p.ExitCode, hit.Contains(p.Name),
                endedByRun.Contains(p.Name) && p.ExitCode == -15, results.GetValueOrDefault(p.Name))).ToList();
            var facts = await primitives.CollectFactsAsync(outcomes).ConfigureAwait(false);
            var outcome = new ScenarioOutcome(scenario, outcomes, facts, applied, failure, ready, done - released, wall, primitives.Deadlock,
                primitives.LeaseExpiries);
            var recorded = Sim.Report.History.Build(history.Snapshot(), specs.Select(s => s.Name).ToList(), (releasedAt.Ticks - DateTime.UnixEpoch.Ticks) / 10,
                history.Dropped);
            return ScenarioReport.Evaluate(outcome) with
            {
                History = Sim.Report.Checkers.HistoryCheckers.Check(scenario, recorded).Select(v => v.ToCheck()).ToList(),
            };
        }
        finally
        {
            await Task.WhenAll(participants.Select(p => p.ShutdownAsync())).ConfigureAwait(false);
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }).ConfigureAwait(false);
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Until every participant waits at the start barrier; a participant that ends first fails the run, naming it.</summary>
    private static async Task<TimeSpan> AwaitReadyAsync(Coordinator coordinator, IReadOnlyList<InProcessParticipant> participants, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var ready = coordinator.AwaitReadyAsync(participants.Count, timeout, cancellationToken);
        var firstEnd = Task.WhenAny(participants.Select(p => p.Ended));
        if (await Task.WhenAny(ready, firstEnd).ConfigureAwait(false) != ready)
        {
            var ended = participants.First(p => p.Ended.IsCompleted);
            throw new RunFailure($"{ended.Name} exited with code {ended.ExitCode} before it was ready: {ended.Error ?? "no message"}");
        }
        try
        {
            await ready.ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw new RunFailure($"not every participant was ready within {timeout.TotalSeconds:0.#} s");
        }
        return clock.Elapsed;
    }

    private static async Task<AppliedFault> InjectAsync(Scenario scenario, ScenarioFault fault, Coordinator coordinator,
        IReadOnlyList<InProcessParticipant> participants, Stopwatch clock, TimeSpan released, CancellationToken cancellationToken)
    {
        if (fault.AfterReport)
        {
            try
            {
                await ScenarioWork.AwaitReportAsync(coordinator, fault.Target, scenario.Timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                return new AppliedFault(fault, fault.Target, null, $"{fault.Target} never reported");
            }
        }
        var due = (fault.AfterReport ? clock.Elapsed : released) + TimeSpan.FromSeconds(fault.AtSeconds) - clock.Elapsed;
        if (due > TimeSpan.Zero)
            await Task.Delay(due, cancellationToken).ConfigureAwait(false);
        var name = fault.Target;
        if (fault.Target == ScenarioFault.Holder)
        {
            var state = await coordinator.LockManager.Ask<LockState>(new GetLockState(scenario.HolderLock(fault)!), TimeSpan.FromSeconds(5))
                .ConfigureAwait(false);
            name = state.Holders.FirstOrDefault()?.OwnerName;
        }
        var at = (clock.Elapsed - released).TotalSeconds;
        var target = participants.FirstOrDefault(p => p.Name == name);
        if (target is null || target.Ended.IsCompleted)
            return new AppliedFault(fault, name, at, name is null ? "nobody held the lock" : $"{name} was not running");
        Sim.Core.History.HistoryLog.Of(coordinator.System).Launcher(target.Name, fault.Action == ScenarioFaultAction.Kill ? "kill" : "terminate", []);
        if (fault.Action == ScenarioFaultAction.Kill)
            target.Kill();
        else
            target.Terminate();
        return new AppliedFault(fault, name, at, null);
    }

    private sealed class RunFailure(string message) : Exception(message);

    private sealed class Shell(IReadOnlyList<InProcessParticipant> participants) : IParticipantShell
    {
        public async Task<bool> JoinAsync(string name, TimeSpan timeout, CancellationToken cancellationToken)
        {
            try
            {
                await participants.First(p => p.Name == name).Ended.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        public void Terminate(string name) => participants.First(p => p.Name == name).Terminate();
    }
}
