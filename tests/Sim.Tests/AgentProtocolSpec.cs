using Akka.Actor;
using Sim.Launcher;
using Sim.Launcher.Cluster;
using Xunit;

namespace Sim.Tests;

/// <summary>The agents' messages survive their serializer, and placement honours slots, spread, pack and --on.</summary>
public sealed class AgentProtocolSpec
{
    private static IEnumerable<IAgentMessage> Samples()
    {
        yield return AgentQuery.Instance;
        yield return ClusterQuery.Instance;
        var status = new AgentStatus("a1", "127.0.0.2", "akka.tcp://sim@127.0.0.2:4053", 8,
            [new AgentParticipant("run1", "buyer-1", "buyer", 1234, "akka.tcp://sim@127.0.0.1:5000")]);
        yield return status;
        yield return new StartParticipants("run1", "akka.tcp://sim@127.0.0.1:5000", 120_000,
            [new ParticipantOrder("buyer-1", "buyer", true, [KeyValuePair.Create("delay-ms", "10"), KeyValuePair.Create("x", "")])]);
        yield return new StartRefused("run1", "a1", "3 participants asked, 2 of 8 slots free");
        yield return new ParticipantStarted("run1", "buyer-1", "a1", 4321);
        yield return new ParticipantEnded("run1", "buyer-1", "a1", -9, ["line one", "line two"]);
        yield return new SignalParticipant("run1", "buyer-1", 15, true);
        yield return new EndRun("run1");
        yield return new ClusterView([new MemberView("akka.tcp://sim@127.0.0.2:4053", ["agent"], "Up", true)], [status]);
    }

    [Fact]
    public void Every_agent_message_round_trips_through_its_serializer()
    {
        using var system = ActorSystem.Create("spec");
        var serializer = new AgentSerializer((ExtendedActorSystem)system);
        foreach (var message in Samples())
        {
            var back = serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
            // Records with lists compare lists by reference: compare their printed forms, lists expanded.
            Assert.Equal(Describe(message), Describe(back));
        }
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([], "Z"));
        // A count larger than the bytes left is refused, not allocated.
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([0xff, 0xff, 0xff, 0x7f], "V"));
    }

    private static string Describe(object o) => System.Text.Json.JsonSerializer.Serialize(o, o.GetType());

    private static AgentStatus Agent(string name, int slots, int running = 0) =>
        new(name, name, name, slots, Enumerable.Range(0, running).Select(i => new AgentParticipant("r", $"p{i}", "buyer", i, "")).ToList());

    [Fact]
    public void Spread_takes_the_agents_in_turn_and_skips_full_ones()
    {
        var placed = ClusterRunOptions.Place(["b1", "b2", "b3", "b4", "b5"], [Agent("a2", 1), Agent("a1", 4)], Placement.Spread, null);
        Assert.Equal(["a1", "a2", "a1", "a1", "a1"], placed.Select(p => p.Agent.Name));
    }

    [Fact]
    public void Pack_fills_the_agent_with_most_free_slots_first()
    {
        var placed = ClusterRunOptions.Place(["b1", "b2", "b3", "b4"], [Agent("a1", 4, running: 2), Agent("a2", 3)], Placement.Pack, null);
        Assert.Equal(["a2", "a2", "a2", "a1"], placed.Select(p => p.Agent.Name));
    }

    [Fact]
    public void Too_few_slots_and_unknown_agents_are_usage_errors()
    {
        var agents = new[] { Agent("a1", 2), Agent("a2", 2) };
        Assert.Contains("not enough free slots: 3 participants, 2 free",
            Assert.Throws<UsageException>(() => ClusterRunOptions.Place(["b1", "b2", "b3"], agents, Placement.Spread, ["a1"])).Message);
        Assert.Contains("no agent named a9",
            Assert.Throws<UsageException>(() => ClusterRunOptions.Place(["b1"], agents, Placement.Spread, ["a1", "a9"])).Message);
        Assert.All(ClusterRunOptions.Place(["b1", "b2"], agents, Placement.Spread, ["a2"]), p => Assert.Equal("a2", p.Agent.Name));
    }
}
