namespace Sim.Launcher.Cluster;

/// <summary>
/// Every message between launchers and agents (launcher to launcher, never to a participant): carried by
/// <see cref="AgentSerializer"/>, never as JSON.
/// </summary>
public interface IAgentMessage;

/// <summary>Published to <see cref="AgentTopics.All"/>: every agent answers its sender with its <see cref="AgentStatus"/>.</summary>
public sealed record AgentQuery : IAgentMessage
{
    public static readonly AgentQuery Instance = new();
}

/// <summary>A participant process an agent runs for a run's coordinator.</summary>
public sealed record AgentParticipant(string Run, string Name, string Role, int Pid, string Coordinator);

/// <summary>An agent: its name, the address it and its participants bind, its slots, and what it runs.</summary>
public sealed record AgentStatus(string Name, string Host, string Address, int Slots, IReadOnlyList<AgentParticipant> Running) : IAgentMessage
{
    public int Free => Math.Max(0, Slots - Running.Count);
}

/// <summary>One participant a run asks an agent to start: a role Sim.Node knows (never a command), its name and parameters.</summary>
public sealed record ParticipantOrder(string Name, string Role, bool Daemon, IReadOnlyList<KeyValuePair<string, string>> Parameters);

/// <summary>
/// To <see cref="AgentTopics.Of"/> one agent: start these participants for the run whose coordinator is at
/// <paramref name="Coordinator"/>. Its sender (the run's link) hears every start and end, and its end ends them all.
/// </summary>
public sealed record StartParticipants(string Run, string Coordinator, long ConnectTimeoutMs, IReadOnlyList<ParticipantOrder> Participants) : IAgentMessage;

/// <summary>An agent refused a whole <see cref="StartParticipants"/> (not enough free slots, a role it does not know).</summary>
public sealed record StartRefused(string Run, string Agent, string Reason) : IAgentMessage;

/// <summary>A participant's process started on the agent with this pid.</summary>
public sealed record ParticipantStarted(string Run, string Name, string Agent, int Pid) : IAgentMessage;

/// <summary>
/// A participant's process ended and was reaped by its agent: exit code as Python gives it (−N for signal N), and the
/// last lines of its stderr.
/// </summary>
public sealed record ParticipantEnded(string Run, string Name, string Agent, int ExitCode, IReadOnlyList<string> StderrTail) : IAgentMessage;

/// <summary>Deliver a signal (SIGTERM 15, SIGKILL 9) to a participant, or to its whole process group.</summary>
public sealed record SignalParticipant(string Run, string Name, int Signal, bool Group) : IAgentMessage;

/// <summary>The run is over: kill (and reap) whatever of it still runs.</summary>
public sealed record EndRun(string Run) : IAgentMessage;

/// <summary>Asked of one agent by <c>sim cluster</c>: the members and every agent's status.</summary>
public sealed record ClusterQuery : IAgentMessage
{
    public static readonly ClusterQuery Instance = new();
}

/// <summary>A member of the cluster as one agent sees it.</summary>
public sealed record MemberView(string Address, IReadOnlyList<string> Roles, string Status, bool Reachable);

/// <summary>The answer to <see cref="ClusterQuery"/>.</summary>
public sealed record ClusterView(IReadOnlyList<MemberView> Members, IReadOnlyList<AgentStatus> Agents) : IAgentMessage;

/// <summary>The pub-sub topics of the agents.</summary>
public static class AgentTopics
{
    /// <summary>Every agent subscribes: queries for all of them.</summary>
    public const string All = "sim-agents";

    /// <summary>One agent's own topic: the commands of a run for it.</summary>
    public static string Of(string agent) => $"sim-agent-{agent}";
}
