using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Akka.Actor;
using Sim.Core;
using Spectre.Console;

namespace Sim.Launcher.Cluster;

/// <summary>
/// <c>sim cluster</c>: asks one agent (as a remote-only node, not a member: no join, no leave) for the members it sees
/// and every agent's slots and participants, and prints them.
/// </summary>
public static class ClusterStatus
{
    public static async Task<int> RunAsync(Address member, string memberText, string host, X509Certificate2? certificate, bool json,
        IAnsiConsole console, CancellationToken cancellationToken)
    {
        var config = Akka.Configuration.ConfigurationFactory.ParseString(
            """
            akka.actor.serializers.sim-agent = "Sim.Launcher.Cluster.AgentSerializer, sim"
            akka.actor.serialization-bindings { "Sim.Launcher.Cluster.IAgentMessage, sim" = sim-agent }
            """).WithFallback(SimConfig.Node(host, 0));
        var system = SimTls.Create(SimConfig.SystemName, config, certificate);
        try
        {
            var agent = system.ActorSelection(new RootActorPath(member) / "user" / AgentActor.Name);
            ClusterView view;
            try
            {
                view = await agent.Ask<ClusterView>(ClusterQuery.Instance, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            }
            catch (AskTimeoutException)
            {
                throw new UsageException($"--cluster {memberText}: no agent answered within 10 s (none there, or it refused this node's certificate)");
            }
            if (json)
            {
                console.WriteLine(ToJson(view).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            var members = new Table().Border(TableBorder.Rounded).AddColumns("member", "roles", "status", "reachable", "agent", "slots", "running");
            foreach (var m in view.Members)
            {
                var a = view.Agents.FirstOrDefault(x => x.Address == m.Address);
                members.AddRow(Markup.Escape(m.Address), Markup.Escape(string.Join(",", m.Roles)), m.Status, m.Reachable ? "yes" : "[red]no[/]",
                    Markup.Escape(a?.Name ?? "-"), a is null ? "-" : $"{a.Running.Count}/{a.Slots}", a is null ? "-" : a.Running.Count.ToString());
            }
            console.Write(members);
            var running = view.Agents.SelectMany(a => a.Running.Select(p => (Agent: a, Participant: p))).ToList();
            if (running.Count == 0)
            {
                console.WriteLine("no participant runs on the agents");
                return 0;
            }
            var table = new Table().Border(TableBorder.Rounded).AddColumns("agent", "host", "run", "name", "role", "pid", "coordinator");
            foreach (var (a, p) in running)
                table.AddRow(Markup.Escape(a.Name), Markup.Escape(a.Host), p.Run, Markup.Escape(p.Name), Markup.Escape(p.Role), p.Pid.ToString(), Markup.Escape(p.Coordinator));
            console.Write(table);
            return 0;
        }
        finally
        {
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public static JsonObject ToJson(ClusterView view) => new()
    {
        ["members"] = new JsonArray(view.Members.Select(m => (JsonNode)new JsonObject
        {
            ["address"] = m.Address,
            ["roles"] = new JsonArray(m.Roles.Select(r => (JsonNode)r).ToArray()),
            ["status"] = m.Status,
            ["reachable"] = m.Reachable,
        }).ToArray()),
        ["agents"] = new JsonArray(view.Agents.Select(a => (JsonNode)new JsonObject
        {
            ["name"] = a.Name,
            ["host"] = a.Host,
            ["address"] = a.Address,
            ["slots"] = a.Slots,
            ["free"] = a.Free,
            ["running"] = new JsonArray(a.Running.Select(p => (JsonNode)new JsonObject
            {
                ["run"] = p.Run,
                ["name"] = p.Name,
                ["role"] = p.Role,
                ["pid"] = p.Pid,
                ["coordinator"] = p.Coordinator,
            }).ToArray()),
        }).ToArray()),
    };
}
