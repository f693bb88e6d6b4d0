using System.Text.Json.Nodes;
using Sim.Core.Roles;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record PipeOptions(int Messages, int Size, bool Duplex, string? JsonPath, TimeSpan Timeout);

/// <summary>
/// The lesson's pipe, between two processes whose endpoint actors talk directly: round-trip latency,
/// one-way throughput with every message checked in order, then one end sends a burst and is killed at
/// once, and the other must read the whole burst and then see end-of-file, rather than lose it or hang.
/// </summary>
public static class PipeScenario
{
    /// <summary>Messages pipe-b sends right before it is killed.</summary>
    public const int Burst = 200;

    public static async Task<int> RunAsync(PipeOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        console.MarkupLineInterpolated(
            $"[bold]pipe[/]: {options.Messages} messages of {options.Size} bytes, {(options.Duplex ? "duplex" : "one-way")} stream");
        await using var run = new ScenarioRun(NodeBinary.Locate(), line => console.MarkupLineInterpolated($"[grey]{line}[/]"))
        {
            ConnectTimeout = options.Timeout,
        };
        var parameters = new Dictionary<string, string>
        {
            ["messages"] = options.Messages.ToString(),
            ["size"] = options.Size.ToString(),
            ["duplex"] = options.Duplex ? "true" : "false",
            ["burst"] = Burst.ToString(),
            ["timeout-ms"] = ((long)options.Timeout.TotalMilliseconds).ToString(),
        };
        var sender = run.Add("pipe-a", new PipeSender().Name, parameters);
        var receiver = run.Add("pipe-b", new PipeReceiver().Name, parameters);
        DateTimeOffset? killedAt = null;
        var phases = await run.ExecuteAsync(options.Timeout, [], async () =>
        {
            // pipe-b reports once it has the whole stream; then it is killed, and pipe-a must see end-of-file.
            await run.Coordinator.AwaitResultsAsync(1, options.Timeout, cancellationToken);
            var done = run.Elapsed;
            killedAt = DateTimeOffset.UtcNow;
            receiver.Kill();
            // A SIGKILL is certain death: the launcher says so at once rather than after it has reaped the
            // process, so the news reaches pipe-a by a short way while pipe-b's last messages may still be
            // on theirs, and pipe-a must read them all before end-of-file all the same.
            run.Coordinator.ReportExited(receiver.Name, -9);
            if (!await sender.JoinAsync(options.Timeout, cancellationToken))
                throw new RunFailedException($"pipe-a did not see end-of-file within {options.Timeout.TotalSeconds:0.#} s of pipe-b's death");
            return done;
        }, cancellationToken);
        var census = run.Census();
        var results = (await run.Coordinator.ResultsAsync()).ToDictionary(r => r.Name);
        results.TryGetValue("pipe-a", out var a);
        results.TryGetValue("pipe-b", out var b);
        long Figure(Sim.Core.ParticipantResult? r, string key) => r?.Figures.GetValueOrDefault(key) ?? -1;
        var eofAfterMs = killedAt is { } k && Figure(a, "eof_at_ms") > 0 ? Figure(a, "eof_at_ms") - k.ToUnixTimeMilliseconds() : (long?)null;
        var inOrder = Figure(b, "received") == options.Messages && Figure(b, "out_of_order") == 0;
        var burstWhole = Figure(a, "burst_received") == Figure(b, "burst_sent") && Figure(a, "burst_out_of_order") == 0;
        var unexpectedExits = run.UnexpectedExits(p => p == receiver && p.ExitCode == -9);
        var ok = phases.Failure is null && unexpectedExits.Count == 0 && inOrder && burstWhole && Figure(a, "eof") == 1
                 && census.Zombies.Count == 0 && census.Orphans.Count == 0;

        console.MarkupLine($"round trip: median {Figure(a, "rtt_median_us")} µs, p99 {Figure(a, "rtt_p99_us")} µs");
        console.MarkupLine($"one-way: {Figure(a, "messages_per_s")} messages/s, {Figure(b, "received")} received, {Figure(b, "out_of_order")} out of order");
        console.MarkupLine(Figure(a, "eof") == 1
            ? $"pipe-b killed: pipe-a's recv raised end-of-file {eofAfterMs} ms later"
            : "[red]pipe-a did not see end-of-file[/]");
        console.MarkupLine(burstWhole
            ? $"pipe-b's last {Figure(b, "burst_sent")} messages before the kill: all received, in order, before end-of-file"
            : $"[red]pipe-b's last {Figure(b, "burst_sent")} messages before the kill: {Figure(a, "burst_received")} received, {Figure(a, "burst_out_of_order")} out of order[/]");
        RunReport.PrintEnd(console, census, phases.Failure, unexpectedExits);

        if (options.JsonPath is not null)
        {
            var json = new JsonObject
            {
                ["scenario"] = "pipe",
                ["ok"] = ok,
                ["duplex"] = options.Duplex,
                ["error"] = phases.Failure,
                ["messages"] = options.Messages,
                ["size"] = options.Size,
                ["rtt_median_us"] = Figure(a, "rtt_median_us"),
                ["rtt_p99_us"] = Figure(a, "rtt_p99_us"),
                ["one_way_messages_per_s"] = Figure(a, "messages_per_s"),
                ["received"] = Figure(b, "received"),
                ["out_of_order"] = Figure(b, "out_of_order"),
                ["eof"] = Figure(a, "eof") == 1,
                ["burst_sent"] = Figure(b, "burst_sent"),
                ["burst_received"] = Figure(a, "burst_received"),
                ["burst_out_of_order"] = Figure(a, "burst_out_of_order"),
                ["eof_after_kill_ms"] = eofAfterMs,
            };
            RunReport.AddRunFacts(json, run, census, results);
            RunReport.WriteJson(options.JsonPath, json);
        }
        return ok ? 0 : 1;
    }
}
