using System.Globalization;
using Sim.Core.Roles;

namespace Sim.Core.Scenarios;

/// <summary>The lesson's scenarios as instances of the model, built in code; <c>sim tickets</c> and the tests run these.</summary>
public static class BuiltInScenarios
{
    /// <summary>The ticket file's primitive (the buyers' lock has the same name, see <see cref="Buyer.LockName"/>).</summary>
    public const string TicketsName = "tickets";

    /// <summary>
    /// Ticket grabbing: <paramref name="buyers"/> buyers race for <paramref name="tickets"/> tickets in a JSON file. With the
    /// lock, nothing may be oversold or lost; without it the race is the lesson, so no check holds it to that.
    /// </summary>
    public static Scenario Tickets(int buyers, int tickets, bool useLock = true, int delayMs = 10, TimeSpan? timeout = null,
        IReadOnlyList<ScenarioFault>? faults = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        var ms = ((int)limit.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        return new Scenario
        {
            Name = "tickets",
            Description = $"{buyers} buyers, {tickets} tickets, {(useLock ? "with the lock" : "WITHOUT the lock")}",
            Timeout = limit,
            Parameters = new Dictionary<string, string> { ["buyers"] = Text(buyers), ["tickets"] = Text(tickets) },
            Participants =
            [
                new ParticipantGroup(new Buyer().Name, "buyers", "buyer-{i}", new Dictionary<string, string>
                {
                    ["delay-ms"] = Text(delayMs),
                    ["lock"] = useLock ? "true" : "false",
                    ["lock-timeout-ms"] = ms,
                    ["ready-timeout-ms"] = ms,
                }),
            ],
            Primitives = [new PrimitiveDeclaration(PrimitiveKind.Tickets, TicketsName, "tickets"), new PrimitiveDeclaration(PrimitiveKind.Lock, Buyer.LockName)],
            Faults = faults ?? [],
            Figures =
            [
                ScenarioFigure.Of("sold", "count(bought)"),
                ScenarioFigure.Of("landed_unreported", "tickets.unreported_writers"),
                ScenarioFigure.Of("remaining", "tickets.remaining"),
                ScenarioFigure.Computed("oversold", v => v.Figure("sold") + v.Figure("landed_unreported") - v.Fact("tickets.initial") is { } over ? Math.Max(0, over) : null),
                ScenarioFigure.Of("lost_updates", "sold + landed_unreported - (tickets.initial - remaining)"),
            ],
            Checks = useLock ? [new ExpressionCheck("oversold == 0"), new ExpressionCheck("lost_updates == 0")] : [],
            Columns = ["searched", "seen", "bought", "token"],
        };
    }

    /// <summary>
    /// Producers and consumers around one queue: <paramref name="items"/> split over the producers; sentinel mode ends each
    /// consumer with a None once the producers have ended, joinable mode makes the consumers daemons and the producers join
    /// the queue. Every item must be consumed exactly once.
    /// </summary>
    public static Scenario Prodcons(int producers, int consumers, int items, bool joinable = false, int maxSize = 0, int itemBytes = 64,
        int workMs = 0, int batch = 5000, TimeSpan? timeout = null, IReadOnlyList<ScenarioFault>? faults = null, string queue = "q")
    {
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        var mode = joinable ? "joinable" : "sentinel";
        var common = new Dictionary<string, string>
        {
            ["queue"] = queue,
            ["mode"] = mode,
            ["maxsize"] = Text(maxSize),
            ["batch"] = Text(batch),
            ["timeout-ms"] = ((long)limit.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
        };
        // Each producer its own group: the items are split unevenly when they do not divide.
        var groups = Enumerable.Range(1, producers).Select(p => new ParticipantGroup(new Producer().Name, 1, $"producer-{p}",
            new Dictionary<string, string>(common)
            {
                ["producer-index"] = Text(p),
                ["count"] = Text(items / producers + (p <= items % producers ? 1 : 0)),
                ["item-bytes"] = Text(itemBytes),
            })).ToList();
        groups.Add(new ParticipantGroup(new Consumer().Name, consumers, "consumer-{i}",
            new Dictionary<string, string>(common) { ["work-ms"] = Text(workMs) }, daemon: joinable));
        return new Scenario
        {
            Name = "prodcons",
            Description = $"{producers} producer(s), {consumers} consumer(s), {items} items, mode {mode}",
            Timeout = limit,
            Parameters = new Dictionary<string, string> { ["items"] = Text(items) },
            Participants = groups,
            Primitives = [new PrimitiveDeclaration(joinable ? PrimitiveKind.JoinableQueue : PrimitiveKind.Queue, queue, Text(maxSize))],
            Sentinels = joinable ? [] : [new ScenarioSentinel(queue, new Producer().Name, new Consumer().Name)],
            Faults = faults ?? [],
            Figures = [ScenarioFigure.Of("produced", $"{queue}.put"), ScenarioFigure.Of("consumed", "ledger.distinct")],
            // A killed producer puts less than planned: then only what it did put must be consumed exactly once.
            Checks = faults is { Count: > 0 } ? [new ExactlyOnceCheck(queue)] : [new ExactlyOnceCheck(queue), new ExpressionCheck($"{queue}.put == items")],
            Columns = ["produced", "consumed"],
        };
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
