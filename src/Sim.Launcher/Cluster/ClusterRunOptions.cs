using Akka.Actor;

namespace Sim.Launcher.Cluster;

/// <summary>How participants are spread over the agents: across all of them in turn, or filling one before the next.</summary>
public enum Placement
{
    Spread,
    Pack,
}

/// <summary>
/// A run across the cluster (<c>--cluster HOST:PORT --host ADDR [--placement spread|pack] [--on NAME,...]</c>): the member to
/// join, the address this launcher binds (participants connect to it), how to place the participants and on which agents.
/// </summary>
public sealed record ClusterRunOptions(Address Seed, string SeedText, string Host, Placement Placement, IReadOnlyList<string>? On)
{
    /// <summary>
    /// Which agent runs each participant (in order). Spread: the agents in turn, skipping full ones; pack: the agent with
    /// the most free slots first, filled before the next. Too few free slots, or an --on naming no agent: one line.
    /// </summary>
    public static IReadOnlyList<(string Participant, AgentStatus Agent)> Place(
        IReadOnlyList<string> participants, IReadOnlyList<AgentStatus> agents, Placement placement, IReadOnlyList<string>? on)
    {
        var chosen = agents.OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
        if (on is not null)
        {
            var unknown = on.Where(n => chosen.All(a => a.Name != n)).ToList();
            if (unknown.Count > 0)
                throw new UsageException($"--on {string.Join(",", on)}: no agent named {string.Join(", ", unknown)} in the cluster (agents: {Names(chosen)})");
            chosen = chosen.Where(a => on.Contains(a.Name)).ToList();
        }
        var free = chosen.ToDictionary(a => a.Name, a => a.Free);
        if (participants.Count > free.Values.Sum())
        {
            throw new UsageException(
                $"not enough free slots: {participants.Count} participants, {free.Values.Sum()} free ({string.Join(", ", chosen.Select(a => $"{a.Name} {a.Free}/{a.Slots}"))})");
        }
        var placed = new List<(string, AgentStatus)>();
        if (placement == Placement.Pack)
        {
            var order = chosen.OrderByDescending(a => a.Free).ThenBy(a => a.Name, StringComparer.Ordinal).ToList();
            var index = 0;
            foreach (var participant in participants)
            {
                while (free[order[index].Name] == 0)
                    index++;
                free[order[index].Name]--;
                placed.Add((participant, order[index]));
            }
            return placed;
        }
        var next = 0;
        foreach (var participant in participants)
        {
            while (free[chosen[next % chosen.Count].Name] == 0)
                next++;
            var agent = chosen[next % chosen.Count];
            free[agent.Name]--;
            placed.Add((participant, agent));
            next++;
        }
        return placed;
    }

    private static string Names(IEnumerable<AgentStatus> agents) =>
        string.Join(", ", agents.Select(a => a.Name)) is { Length: > 0 } names ? names : "none";
}
