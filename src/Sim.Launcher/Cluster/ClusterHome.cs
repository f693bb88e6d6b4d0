using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using AkkaCluster = Akka.Cluster.Cluster;
using MemberStatus = Akka.Cluster.MemberStatus;

namespace Sim.Launcher.Cluster;

/// <summary>
/// Participants started by the cluster's agents: for one run the launcher joins the cluster (role <c>coordinator</c>),
/// asks the agents for their slots (pub-sub, no agent address known beforehand), places the participants, has each agent
/// start its share, and leaves when the run ends. Each agent reports every start (pid) and end (exit code) at once; an
/// agent that becomes unreachable or leaves loses its participants that have not ended (<see cref="SimProcess.Lose"/>),
/// and both reach the coordinator through <see cref="SimProcess.OnExit"/> as a local child's exit does.
/// </summary>
public sealed class ClusterHome : IParticipantHome
{
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan DiscoveryTimeout = TimeSpan.FromSeconds(10);

    private readonly ActorSystem _system;
    private readonly ClusterRunOptions _options;
    private readonly string _coordinator;
    private readonly TimeSpan _connectTimeout;
    private readonly Func<SimProcess, ParticipantOrder> _order;
    private readonly Action<string> _progress;
    private readonly string _run = Guid.NewGuid().ToString("N")[..12];
    private readonly ConcurrentDictionary<string, AgentStatus> _statuses = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SimProcess> _processes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AgentStatus> _placedOn = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<string> _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IActorRef? _link;
    private IActorRef? _mediator;
    private volatile bool _leaving;

    // One launcher process makes one run: when the cluster downs it mid-run, the command line ends the run.
    private static readonly CancellationTokenSource DownedSource = new();
    private static volatile string? _downedReason;

    public ClusterHome(ActorSystem system, ClusterRunOptions options, string coordinator, TimeSpan connectTimeout,
        Func<SimProcess, ParticipantOrder> order, Action<string> progress)
    {
        _system = system;
        _options = options;
        _coordinator = coordinator;
        _connectTimeout = connectTimeout;
        _order = order;
        _progress = progress;
    }

    /// <summary>Cancelled when the cluster downed this launcher during its run.</summary>
    public static CancellationToken DownedToken => DownedSource.Token;

    /// <summary>Why the run was ended by the cluster (one line); null while that has not happened.</summary>
    public static string? DownedReason => DownedSource.IsCancellationRequested ? _downedReason : null;

    /// <summary>How long joining the cluster took (until this launcher was Up), and leaving it (until removed).</summary>
    public TimeSpan? JoinTime { get; private set; }
    public TimeSpan? LeaveTime { get; private set; }

    public string Started(int count) =>
        $"{count} processes started by {_placedOn.Values.Select(a => a.Name).Distinct().Count()} agent(s): " +
        string.Join(", ", _placedOn.GroupBy(kv => kv.Value.Name).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));

    public async Task PrepareAsync(IReadOnlyList<SimProcess> processes, CancellationToken cancellationToken)
    {
        var cluster = AkkaCluster.Get(_system);
        _mediator = DistributedPubSub.Get(_system).Mediator;
        _link = _system.ActorOf(RunLink.Props(this), RunLink.Name);
        var clock = Stopwatch.StartNew();
        cluster.JoinSeedNodes([_options.Seed]);
        while (cluster.SelfMember.Status is not (MemberStatus.Up or MemberStatus.WeaklyUp))
        {
            if (clock.Elapsed > JoinTimeout)
                throw new UsageException($"--cluster {_options.SeedText}: no cluster answered within {JoinTimeout.TotalSeconds:0} s (no agent there, or it refused this node's certificate)");
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
        JoinTime = clock.Elapsed;
        _ = _system.WhenTerminated.ContinueWith(_ => OnDowned(), TaskScheduler.Default);

        var agents = await DiscoverAsync(cluster, cancellationToken).ConfigureAwait(false);
        _progress($"joined the cluster at {_options.SeedText} in {JoinTime.Value.TotalMilliseconds:0} ms; agents: " +
                  string.Join(", ", agents.Select(a => $"{a.Name} at {a.Host} ({a.Free}/{a.Slots} free)")));
        foreach (var (participant, agent) in ClusterRunOptions.Place(processes.Select(p => p.Name).ToList(), agents, _options.Placement, _options.On))
            _placedOn[participant] = agent;
        // A command published before this node's mediator knows the agent's topic would be dropped.
        var topics = _placedOn.Values.Select(a => AgentTopics.Of(a.Name)).ToHashSet();
        while (true)
        {
            var known = await _mediator!.Ask<CurrentTopics>(GetTopics.Instance, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            if (topics.IsSubsetOf(known.Topics))
                break;
            if (clock.Elapsed > JoinTimeout + DiscoveryTimeout)
                throw new RunFailedException($"the agents' topics did not reach this launcher within {(JoinTimeout + DiscoveryTimeout).TotalSeconds:0} s");
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every reachable agent's status: asks them all (pub-sub) until as many answered as the cluster has agents.</summary>
    private async Task<IReadOnlyList<AgentStatus>> DiscoverAsync(AkkaCluster cluster, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var state = cluster.State;
            var expected = state.Members.Count(m => m.HasRole(ClusterConfig.AgentRole)
                && (m.Status is MemberStatus.Up or MemberStatus.WeaklyUp) && !state.Unreachable.Contains(m));
            if (expected > 0 && _statuses.Count >= expected)
                break;
            if (clock.Elapsed > DiscoveryTimeout)
            {
                if (_statuses.IsEmpty)
                    throw new UsageException($"--cluster {_options.SeedText}: no agent in the cluster answered within {DiscoveryTimeout.TotalSeconds:0} s");
                break;
            }
            _mediator!.Tell(new Publish(AgentTopics.All, AgentQuery.Instance), _link);
            await Task.Delay(150, cancellationToken).ConfigureAwait(false);
        }
        return _statuses.Values.OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
    }

    public async Task StartAsync(IReadOnlyList<SimProcess> processes, CancellationToken cancellationToken)
    {
        foreach (var process in processes)
        {
            _processes[process.Name] = process;
            _started[process.Name] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        foreach (var group in processes.GroupBy(p => _placedOn[p.Name].Name))
        {
            var orders = group.Select(_order).ToList();
            _mediator!.Tell(new Publish(AgentTopics.Of(group.Key),
                new StartParticipants(_run, _coordinator, (long)_connectTimeout.TotalMilliseconds, orders)), _link);
        }
        // Each process is started (pid known) or already over (lost: its agent went away meanwhile).
        var all = Task.WhenAll(processes.Select(p => Task.WhenAny(_started[p.Name].Task, p.Exited)));
        var timeout = TimeSpan.FromSeconds(30 + processes.Count / 2);
        var first = await Task.WhenAny(all, _refused.Task, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        if (first == _refused.Task)
            throw new RunFailedException(await _refused.Task.ConfigureAwait(false));
        if (first != all)
        {
            var missing = processes.Where(p => !_started[p.Name].Task.IsCompleted && !p.Exited.IsCompleted).Select(p => p.Name).ToList();
            throw new RunFailedException($"the agents did not start {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")} within {timeout.TotalSeconds:0} s");
        }
    }

    internal void OnStatus(AgentStatus status) => _statuses[status.Name] = status;

    internal void OnStarted(ParticipantStarted m)
    {
        if (m.Run != _run || !_processes.TryGetValue(m.Name, out var process) || !_placedOn.TryGetValue(m.Name, out var agent))
            return;
        var (mediator, link, run, topic) = (_mediator!, _link!, _run, AgentTopics.Of(agent.Name));
        process.AttachRemote(m.Pid, agent.Name, agent.Host,
            (signal, group) => mediator.Tell(new Publish(topic, new SignalParticipant(run, m.Name, signal, group)), link));
        _started[m.Name].TrySetResult();
    }

    internal void OnRefused(StartRefused m)
    {
        if (m.Run == _run)
            _refused.TrySetResult($"agent {m.Agent} refused to start participants: {m.Reason}");
    }

    internal void OnEnded(ParticipantEnded m)
    {
        if (m.Run == _run && _processes.TryGetValue(m.Name, out var process))
            process.EndRemote(m.ExitCode, m.StderrTail);
    }

    /// <summary>An agent is unreachable or removed: whatever of this run it had not reported ended is lost.</summary>
    internal void OnAgentGone(Address address, string why)
    {
        var agent = _statuses.Values.FirstOrDefault(a => a.Address == address.ToString());
        if (agent is null || _leaving)
            return;
        var lost = _processes.Values.Where(p => _placedOn.TryGetValue(p.Name, out var a) && a.Name == agent.Name && !p.Exited.IsCompleted).ToList();
        if (lost.Count == 0)
            return;
        _progress($"agent {agent.Name} at {agent.Host} {why}: {lost.Count} participant(s) lost");
        foreach (var process in lost)
            process.Lose($"lost: agent {agent.Name} at {agent.Host} {why}");
    }

    /// <summary>This launcher's actor system ended while the run was on: the cluster downed it.</summary>
    private void OnDowned()
    {
        // Leaving at the end of the run also ends the actor system: only a downing is news (seen as this member's status
        // before the shutdown it starts has a reason).
        var downed = CoordinatedShutdown.Get(_system).ShutdownReason is CoordinatedShutdown.ClusterDowningReason
            || AkkaCluster.Get(_system).SelfMember.Status == MemberStatus.Down;
        if (!downed || DownedSource.IsCancellationRequested)
            return;
        _downedReason = "the cluster downed this launcher (it was unreachable from the agents): the run is ended";
        foreach (var process in _processes.Values)
            process.Lose("lost: the cluster downed this launcher");
        DownedSource.Cancel();
    }

    public async ValueTask DisposeAsync()
    {
        if (JoinTime is null || _system.WhenTerminated.IsCompleted || DownedSource.IsCancellationRequested)
            return;
        _leaving = true;
        // Whatever of the run still runs is ended by its agent (agents also end it when this launcher's link goes).
        foreach (var agent in _placedOn.Values.Select(a => a.Name).Distinct())
            _mediator!.Tell(new Publish(AgentTopics.Of(agent), new EndRun(_run)), _link);
        var cluster = AkkaCluster.Get(_system);
        var clock = Stopwatch.StartNew();
        try
        {
            await cluster.LeaveAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            LeaveTime = clock.Elapsed;
            _progress($"left the cluster in {LeaveTime.Value.TotalMilliseconds:0} ms");
        }
        catch (TimeoutException)
        {
            _progress("leaving the cluster took more than 10 s; ending anyway");
        }
        // Cut off (e.g. this process was stopped) and downed meanwhile: it saw every agent unreachable, but the news is
        // that the cluster went on without it. Said here, before the command line reads it, not in a later continuation.
        OnDowned();
    }
}
