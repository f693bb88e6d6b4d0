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
                // A holder that lost its lease (paused, cut off) and wrote afterwards: the store refused its stale token.
                ScenarioFigure.Of("refused_writes", "count(rejected)"),
            ],
            Checks = useLock ? [new ExpressionCheck("oversold == 0"), new ExpressionCheck("lost_updates == 0")] : [],
            ExpectRace = !useLock,
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
            Checks = faults is { Count: > 0 }
                ? [new ExactlyOnceCheck(queue), new ExpressionCheck("sum(corrupt) == 0")]
                : [new ExactlyOnceCheck(queue), new ExpressionCheck("sum(corrupt) == 0"), new ExpressionCheck($"{queue}.put == items")],
            Columns = ["produced", "consumed"],
        };
    }

    /// <summary>
    /// The shared-data race: <paramref name="processes"/> counters each add 1 to the shared value <see cref="Counter.ObjectName"/>
    /// <paramref name="increments"/> times by read-then-write (<paramref name="mode"/> lock, nolock) or atomically (atomic).
    /// The value counts the writes it accepted, so an ended process's unfinished share is no lost update. Without the lock
    /// the loss is the lesson, so no check holds it to zero then.
    /// </summary>
    public static Scenario Counter(int processes, int increments, string mode = "lock", int delayMs = 0, TimeSpan? timeout = null,
        IReadOnlyList<ScenarioFault>? faults = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        return new Scenario
        {
            Name = "counter",
            Description = $"{processes} processes x {increments} increments, mode {mode}",
            Timeout = limit,
            Parameters = new Dictionary<string, string> { ["processes"] = Text(processes), ["increments"] = Text(increments), ["mode"] = mode },
            Participants =
            [
                new ParticipantGroup(new Counter().Name, processes, "counter-{i}", new Dictionary<string, string>
                {
                    ["increments"] = Text(increments),
                    ["mode"] = mode,
                    ["delay-ms"] = Text(delayMs),
                    ["timeout-ms"] = Milliseconds(limit),
                }),
            ],
            // The lock is declared so that a fault's 'holder' is whoever holds it.
            Primitives = [new PrimitiveDeclaration(PrimitiveKind.Value, Roles.Counter.ObjectName), new PrimitiveDeclaration(PrimitiveKind.Lock, Roles.Counter.LockName)],
            Faults = faults ?? [],
            Figures =
            [
                ScenarioFigure.Of("planned", "processes * increments"),
                ScenarioFigure.Of("expected", $"{Roles.Counter.ObjectName}.writes"),
                ScenarioFigure.Of("final", $"{Roles.Counter.ObjectName}.value"),
                ScenarioFigure.Of("lost_updates", "expected - final"),
            ],
            Checks = mode == "nolock" ? [] : [new ExpressionCheck("lost_updates == 0")],
            ExpectRace = mode == "nolock",
            Columns = ["increments", "work_ms"],
        };
    }

    /// <summary>
    /// Mutual exclusion under contention: <paramref name="processes"/> lockers each acquire and release the lock
    /// <see cref="Locker.LockName"/> <paramref name="acquires"/> times, holding it <paramref name="holdMs"/> ms. In a run
    /// without faults the fencing tokens must come out as 1..N*K, each once (a killed holder's grant is taken back and
    /// counted by nobody, so a run with faults is not held to it). Each locker's <paramref name="warmup"/> untimed acquires
    /// come first and count as grants too.
    /// </summary>
    public static Scenario Lock(int processes, int acquires, int holdMs = 0, TimeSpan? timeout = null, IReadOnlyList<ScenarioFault>? faults = null,
        int warmup = 0)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        return new Scenario
        {
            Name = "lock",
            Description = $"{processes} process(es) x {acquires} acquires, hold {holdMs} ms",
            Timeout = limit,
            Parameters = new Dictionary<string, string> { ["processes"] = Text(processes), ["acquires"] = Text(acquires) },
            Participants =
            [
                new ParticipantGroup(new Locker().Name, processes, "locker-{i}", new Dictionary<string, string>
                {
                    ["acquires"] = Text(acquires),
                    ["warmup"] = Text(warmup),
                    ["hold-ms"] = Text(holdMs),
                    ["timeout-ms"] = Milliseconds(limit),
                }),
            ],
            Primitives = [new PrimitiveDeclaration(PrimitiveKind.Lock, Locker.LockName)],
            Faults = faults ?? [],
            Figures =
            [
                ScenarioFigure.Of("grants", "sum(acquires) + sum(warmup_acquires)"),
                // Tokens count up from 1 per lock: N*K grants, each distinct and none skipped, sum to N*K*(N*K+1)/2.
                ScenarioFigure.Computed("tokens_in_sequence", v => v.Figure("grants") is { } grants
                    && v.Aggregate("sum", "token_sum") == grants * (grants + 1) / 2
                    && (v.Aggregate("max", "token_max") ?? 0) == grants ? 1 : 0),
                ScenarioFigure.Of("acquire_us_p99", "max(acquire_us_p99)"),
            ],
            Checks = faults is { Count: > 0 } ? [] : [new ExpressionCheck("tokens_in_sequence == 1")],
            Columns = ["acquires", "acquire_us_median", "acquire_us_p99"],
        };
    }

    /// <summary>Messages <c>pipe-b</c> sends right before it is killed.</summary>
    public const int PipeBurst = 200;

    /// <summary>
    /// A pipe between two processes: round trips and a one-way stream of <paramref name="messages"/> numbered messages
    /// (checked in order), then <c>pipe-b</c> sends a burst, reports, and is killed at once (a fault after its report);
    /// <c>pipe-a</c> must read the whole burst and then see end-of-file. <paramref name="warmup"/> untimed round trips and
    /// stream messages come first.
    /// </summary>
    public static Scenario Pipe(int messages, int size = 64, bool duplex = false, TimeSpan? timeout = null, int warmup = 0)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(120);
        var parameters = new Dictionary<string, string>
        {
            ["messages"] = Text(messages),
            ["warmup"] = Text(warmup),
            ["size"] = Text(size),
            ["duplex"] = duplex ? "true" : "false",
            ["burst"] = Text(PipeBurst),
            ["timeout-ms"] = Milliseconds(limit),
        };
        return new Scenario
        {
            Name = "pipe",
            Description = $"{messages} messages of {size} bytes, {(duplex ? "duplex" : "one-way")} stream",
            Timeout = limit,
            Parameters = new Dictionary<string, string> { ["messages"] = Text(messages), ["size"] = Text(size) },
            Participants =
            [
                new ParticipantGroup(new PipeSender().Name, 1, "pipe-a", parameters),
                new ParticipantGroup(new PipeReceiver().Name, 1, "pipe-b", new Dictionary<string, string>(parameters)),
            ],
            Primitives = [new PrimitiveDeclaration(PrimitiveKind.Pipe, "ping"), new PrimitiveDeclaration(PrimitiveKind.Pipe, "stream")],
            Faults = [new ScenarioFault(ScenarioFaultAction.Kill, "pipe-b", 0) { AfterReport = true }],
            // Each figure is one end's (max of the one report; undefined, so failing its check, if that end never reported).
            Figures =
            [
                ScenarioFigure.Of("received", "max(received)"),
                ScenarioFigure.Of("out_of_order", "max(out_of_order)"),
                ScenarioFigure.Of("eof", "max(eof)"),
                ScenarioFigure.Of("burst_sent", "max(burst_sent)"),
                ScenarioFigure.Of("burst_received", "max(burst_received)"),
                ScenarioFigure.Of("burst_out_of_order", "max(burst_out_of_order)"),
            ],
            Checks =
            [
                new ExpressionCheck("received == messages"),
                new ExpressionCheck("out_of_order == 0"),
                new ExpressionCheck("eof == 1"),
                new ExpressionCheck("burst_received == burst_sent"),
                new ExpressionCheck("burst_out_of_order == 0"),
            ],
        };
    }

    private static string Milliseconds(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
