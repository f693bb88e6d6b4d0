using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Sim.Core.Roles;
using ClusterMember = Akka.Cluster.Member;

namespace Sim.Launcher.Cluster;

/// <summary>What an agent is: its name, the address it and its participants bind, its slots, and how it starts Sim.Node.</summary>
public sealed record AgentSettings(string Name, string Host, int Slots, NodeBinary Node, string? Certificate);

/// <summary>
/// A machine's agent in the cluster (<c>/user/agent</c>): starts Sim.Node participants when a run asks (only roles Sim
/// knows, never a command), is their parent (stdin pipe; reaps them), and tells the run's link every start (pid) and
/// every end (exit code, signal) at once. The run's link is watched: when its launcher goes, so do its participants.
/// </summary>
public sealed class AgentActor : ReceiveActor
{
    public const string Name = "agent";

    private readonly AgentSettings _settings;
    private readonly AgentProcesses _processes;
    private readonly Dictionary<string, IActorRef> _links = new(StringComparer.Ordinal);
    // Slots promised to starts still under way (by run), so two runs asking at once cannot overbook, and a run's link is
    // kept while its starts go on even if its first participant has already ended.
    private readonly Dictionary<string, int> _starting = new(StringComparer.Ordinal);

    private sealed record Started(string Run, SimProcess Process);
    private sealed record StartFailed(string Run, string Name, string Reason);
    private sealed record Exited(string Run, SimProcess Process);
    private sealed record StartsDone(string Run, int Count);

    public static Props Props(AgentSettings settings, AgentProcesses processes) => Akka.Actor.Props.Create(() => new AgentActor(settings, processes));

    public AgentActor(AgentSettings settings, AgentProcesses processes)
    {
        _settings = settings;
        _processes = processes;
        Receive<AgentQuery>(_ => Sender.Tell(Status()));
        Receive<StartParticipants>(OnStart);
        Receive<Started>(m =>
        {
            if (_links.TryGetValue(m.Run, out var link))
                link.Tell(new ParticipantStarted(m.Run, m.Process.Name, _settings.Name, m.Process.Pid ?? 0));
        });
        Receive<StartFailed>(m =>
        {
            if (_links.TryGetValue(m.Run, out var link))
                link.Tell(new StartRefused(m.Run, _settings.Name, $"{m.Name}: {m.Reason}"));
        });
        Receive<StartsDone>(m =>
        {
            if ((_starting[m.Run] -= m.Count) <= 0)
                _starting.Remove(m.Run);
            ForgetRunIfOver(m.Run);
        });
        Receive<Exited>(m =>
        {
            if (_links.TryGetValue(m.Run, out var link))
            {
                link.Tell(new ParticipantEnded(m.Run, m.Process.Name, _settings.Name, m.Process.ExitCode ?? -1,
                    m.Process.StderrTail.TakeLast(5).ToList()));
            }
            _processes.Remove(m.Run, m.Process.Name);
            ForgetRunIfOver(m.Run);
        });
        Receive<SignalParticipant>(m =>
        {
            if (_processes.Find(m.Run, m.Name) is not { IsAlive: true } process)
                return;
            try
            {
                switch (m.Signal, m.Group)
                {
                    case (Posix.SIGKILL, false): process.Kill(); break;
                    case (Posix.SIGKILL, true): process.KillTree(); break;
                    case (Posix.SIGTERM, false): process.Terminate(); break;
                    case (Posix.SIGTERM, true): process.TerminateTree(); break;
                }
            }
            catch (InvalidOperationException)
            {
                // Ended in between.
            }
        });
        Receive<EndRun>(m => EndRunProcesses(m.Run));
        Receive<Terminated>(m =>
        {
            // The run's launcher is gone (left, downed or dead): its participants must not live on.
            foreach (var run in _links.Where(kv => kv.Value.Equals(m.ActorRef)).Select(kv => kv.Key).ToList())
                EndRunProcesses(run);
        });
        Receive<ClusterQuery>(_ =>
        {
            var cluster = Akka.Cluster.Cluster.Get(Context.System);
            var state = cluster.State;
            var members = state.Members.Select(m => new MemberView(m.Address.ToString(), m.Roles.ToList(), m.Status.ToString(),
                !state.Unreachable.Contains(m))).ToList();
            var agents = state.Members.Count(m => m.HasRole(ClusterConfig.AgentRole) && IsServing(m) && !state.Unreachable.Contains(m));
            Context.ActorOf(StatusGatherer.Props(Sender, members, agents));
        });
    }

    private static bool IsServing(ClusterMember m) => m.Status is Akka.Cluster.MemberStatus.Up or Akka.Cluster.MemberStatus.WeaklyUp;

    protected override void PreStart()
    {
        var mediator = DistributedPubSub.Get(Context.System).Mediator;
        mediator.Tell(new Subscribe(AgentTopics.All, Self));
        mediator.Tell(new Subscribe(AgentTopics.Of(_settings.Name), Self));
    }

    private AgentStatus Status() =>
        new(_settings.Name, _settings.Host, Akka.Cluster.Cluster.Get(Context.System).SelfAddress.ToString(), _settings.Slots,
            _processes.Snapshot().Select(kv => new AgentParticipant(kv.Key.Run, kv.Key.Name, kv.Value.Role, kv.Value.Pid ?? 0,
                _links.TryGetValue(kv.Key.Run, out var link) ? link.Path.Address.ToString() : "")).ToList());

    private void OnStart(StartParticipants m)
    {
        var free = _settings.Slots - _processes.Count - _starting.Values.Sum();
        var unknown = m.Participants.Select(p => p.Role).Where(r => !RoleLibrary.BuiltIn.Names.Contains(r)).Distinct().ToList();
        if (unknown.Count > 0)
        {
            Sender.Tell(new StartRefused(m.Run, _settings.Name, $"unknown role(s) {string.Join(", ", unknown)}: an agent starts only Sim's own roles"));
            return;
        }
        if (m.Participants.Count > free)
        {
            Sender.Tell(new StartRefused(m.Run, _settings.Name, $"{m.Participants.Count} participants asked, {Math.Max(0, free)} of {_settings.Slots} slots free"));
            return;
        }
        if (!_links.ContainsKey(m.Run))
        {
            _links[m.Run] = Sender;
            Context.Watch(Sender);
        }
        _starting[m.Run] = _starting.GetValueOrDefault(m.Run) + m.Participants.Count;
        var self = Self;
        var (settings, processes) = (_settings, _processes);
        // Starting a process forks and execs (a few ms each): not on the actor's thread.
        _ = Task.Run(() =>
        {
            foreach (var order in m.Participants)
            {
                var arguments = new List<string>
                {
                    "--role", order.Role, "--name", order.Name, "--coordinator", m.Coordinator, "--watch-stdin",
                    "--host", settings.Host, "--connect-timeout-ms", m.ConnectTimeoutMs.ToString(),
                };
                if (settings.Certificate is not null)
                    arguments.AddRange(["--cert", settings.Certificate]);
                foreach (var (key, value) in order.Parameters)
                    arguments.AddRange(["--param", $"{key}={value}"]);
                var process = settings.Node.Create(order.Name, order.Role, arguments);
                process.Daemon = order.Daemon;
                if (!processes.TryAdd(m.Run, process))
                {
                    self.Tell(new StartFailed(m.Run, order.Name, "a participant of that name already runs for this run"));
                    continue;
                }
                process.OnExit += p => self.Tell(new Exited(m.Run, p));
                try
                {
                    process.Start();
                    self.Tell(new Started(m.Run, process));
                }
                catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
                {
                    processes.Remove(m.Run, order.Name);
                    self.Tell(new StartFailed(m.Run, order.Name, e.Message));
                }
            }
            self.Tell(new StartsDone(m.Run, m.Participants.Count));
        });
    }

    private void EndRunProcesses(string run)
    {
        foreach (var process in _processes.OfRun(run).Where(p => p.IsAlive))
            process.KillTree();
    }

    /// <summary>A run with nothing running and nothing being started is over here: its link is no longer needed.</summary>
    private void ForgetRunIfOver(string run)
    {
        if (_starting.ContainsKey(run) || _processes.OfRun(run).Count > 0 || !_links.Remove(run, out var link))
            return;
        if (!_links.ContainsValue(link))
            Context.Unwatch(link);
    }

    protected override void PostStop()
    {
        foreach (var (_, process) in _processes.Snapshot())
        {
            if (process.IsAlive)
                process.KillTree();
        }
    }
}
