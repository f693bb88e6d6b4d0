using Akka.Actor;
using Akka.Configuration;
using Sim.Core;

namespace Sim.Launcher.Cluster;

/// <summary>
/// The configuration of the cluster's members only: the agents (role <c>agent</c>) and a launcher for the length of a run
/// (role <c>coordinator</c>). Participants never load it: they stay remote-only nodes (DESIGN.md section 7).
/// </summary>
public static class ClusterConfig
{
    public const string AgentRole = "agent";
    public const string CoordinatorRole = "coordinator";

    /// <summary>The port an agent binds unless told otherwise, so that <c>--cluster HOST</c> needs no port to be guessed.</summary>
    public const int DefaultAgentPort = 4053;

    /// <summary>
    /// Failure detection, measured here (see README "Across machines"): a member that stops answering is unreachable
    /// after heartbeat pause + interval (~3-4 s); the split-brain resolver downs it after stable-after (4 s) more. The
    /// run does not wait for the downing: a participant counts as lost once its agent has been unreachable for
    /// <see cref="LostAfterUnreachable"/>.
    /// keep-oldest among the agents: the long-lived first agent decides, a launcher (never oldest) cut off from it is
    /// the side that goes, and an oldest agent left alone downs itself (down-if-alone) instead of the others.
    /// </summary>
    private const string Hocon = """
        akka.actor.provider = cluster
        akka.cluster {
          failure-detector {
            heartbeat-interval = 1 s
            acceptable-heartbeat-pause = 3 s
            threshold = 8.0
          }
          # A downed member's actor system ends (the process decides what then: an agent rejoins, a launcher ends its run).
          run-coordinated-shutdown-when-down = on
          downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
          split-brain-resolver {
            active-strategy = keep-oldest
            stable-after = 4 s
            keep-oldest {
              down-if-alone = on
              role = "agent"
            }
          }
          # A launcher joins for one run: members become Up sooner than with the 1 s defaults.
          gossip-interval = 300 ms
          leader-actions-interval = 300 ms
          periodic-tasks-initial-delay = 100 ms
          seed-node-timeout = 3 s
          retry-unsuccessful-join-after = 2 s
          min-nr-of-members = 1
          log-info = off
        }
        # A second agent must not bind the port of one that runs (SO_REUSEADDR let it, measured): the bind fails instead.
        akka.remote.dot-netty.tcp.tcp-reuse-addr = off
        akka.cluster.pub-sub {
          gossip-interval = 200 ms
          send-to-dead-letters-when-no-subscribers = off
        }
        akka.actor.serializers.sim-agent = "Sim.Launcher.Cluster.AgentSerializer, sim"
        akka.actor.serialization-bindings {
          "Sim.Launcher.Cluster.IAgentMessage, sim" = sim-agent
        }
        """;

    /// <summary>How long an agent may stay unreachable before the run counts its participants as lost.</summary>
    public static readonly TimeSpan LostAfterUnreachable = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// Paths other members reach by actor selection, besides the coordinator's doors: untrusted mode stays on, so only
    /// the cluster's own daemons, the pub-sub mediator and the agent (for <c>sim cluster</c>) are added.
    /// </summary>
    private static readonly string[] ClusterSelectionPaths =
    [
        "/system/cluster/core/daemon", "/system/cluster/heartbeatReceiver", "/system/distributedPubSubMediator", "/user/" + AgentActor.Name,
    ];

    /// <summary>The node configuration of a member with <paramref name="role"/>, bound to <paramref name="host"/>:<paramref name="port"/>.</summary>
    public static Config Member(string role, string host, int port)
    {
        var node = SimConfig.Node(host, port, serves: true);
        var trusted = node.GetStringList("akka.remote.trusted-selection-paths").Concat(ClusterSelectionPaths)
            .Select(p => $"\"{p}\"");
        var config = $"""
            akka.cluster.roles = ["{role}"]
            akka.remote.trusted-selection-paths = [{string.Join(", ", trusted)}]
            {Hocon}
            """;
        return ConfigurationFactory.ParseString(config).WithFallback(node);
    }

    /// <summary>
    /// <c>HOST:PORT</c> (port optional: the agents' default) as the address of a member's actor system; over TLS the
    /// protocol is <c>akka.ssl.tcp</c>.
    /// </summary>
    public static Address ParseMember(string option, string text, bool tls)
    {
        var colon = text.LastIndexOf(':');
        var host = colon < 0 ? text : text[..colon];
        var port = DefaultAgentPort;
        if (colon >= 0 && (!int.TryParse(text[(colon + 1)..], out port) || port is < 1 or > 65535))
            throw new UsageException($"{option} '{text}' is not HOST:PORT (port 1 to 65535)");
        if (host.Length == 0 || Uri.CheckHostName(host) == UriHostNameType.Unknown)
            throw new UsageException($"{option} '{text}' is not HOST:PORT (no host name or IP address)");
        return new Address(tls ? "akka.ssl.tcp" : "akka.tcp", SimConfig.SystemName, host, port);
    }

    /// <summary>Whether <paramref name="host"/> is a loopback address (127.0.0.0/8, ::1, localhost).</summary>
    public static bool IsLoopback(string host) =>
        host == "localhost" || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));

    /// <summary>Without a certificate a member binds loopback only: the cluster must not accept strangers (DESIGN.md section 7).</summary>
    public static void RequireCertificateOffLoopback(string host, string? certificate, string who)
    {
        if (certificate is null && !IsLoopback(host))
            throw new UsageException(
                $"--host {host} is not a loopback address: {who} binds other addresses only with --cert FILE (TLS with mutual authentication; make one with `sim cert new`)");
    }
}
