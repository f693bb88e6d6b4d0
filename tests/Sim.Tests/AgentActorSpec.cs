using Akka.Actor;
using Akka.Configuration;
using Sim.Launcher;
using Sim.Launcher.Cluster;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// An agent refuses what it must never do, without starting anything: roles Sim does not know (an agent is no remote
/// shell) and more participants than it has slots. Runs with the cluster members' configuration, every message serialized.
/// </summary>
public sealed class AgentActorSpec() : Akka.TestKit.Xunit2.TestKit(ConfigurationFactory.ParseString("""
    akka.actor.serialize-messages = on
    akka.actor.serialize-creators = off
    akka.loglevel = WARNING
    """).WithFallback(ClusterConfig.Member(ClusterConfig.AgentRole, "127.0.0.1", 0)))
{
    private IActorRef Agent(int slots)
    {
        // A program that must never run: the refusals below come before any start.
        var node = new NodeBinary("/nonexistent/Sim.Node", []);
        return Sys.ActorOf(AgentActor.Props(new AgentSettings("a1", "127.0.0.1", slots, node, null), new AgentProcesses()));
    }

    private static StartParticipants Start(params (string Name, string Role)[] participants) =>
        new("run1", "akka.tcp://sim@127.0.0.1:1", 1000,
            participants.Select(p => new ParticipantOrder(p.Name, p.Role, false, [])).ToList());

    [Fact]
    public void An_unknown_role_is_refused_and_nothing_starts()
    {
        var agent = Agent(slots: 4);
        agent.Tell(Start(("x", "/bin/sh"), ("buyer-1", "buyer")));
        var refused = ExpectMsg<StartRefused>();
        Assert.Contains("unknown role(s) /bin/sh", refused.Reason);
        agent.Tell(AgentQuery.Instance);
        Assert.Empty(ExpectMsg<AgentStatus>().Running);
    }

    [Fact]
    public void More_participants_than_free_slots_are_refused()
    {
        var agent = Agent(slots: 1);
        agent.Tell(Start(("buyer-1", "buyer"), ("buyer-2", "buyer")));
        Assert.Contains("2 participants asked, 1 of 1 slots free", ExpectMsg<StartRefused>().Reason);
    }
}
