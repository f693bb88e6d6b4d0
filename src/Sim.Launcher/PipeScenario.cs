using System.Text.Json.Nodes;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Spectre.Console;

namespace Sim.Launcher;

public sealed record PipeOptions(int Messages, int Size, bool Duplex, string? JsonPath, TimeSpan Timeout, int Warmup = 0);

/// <summary>
/// The lesson's pipe, between two processes whose endpoint actors talk directly: round-trip latency,
/// one-way throughput with every message checked in order, then one end sends a burst and is killed at
/// once, and the other must read the whole burst and then see end-of-file, rather than lose it or hang.
/// An instance of the model (<see cref="BuiltInScenarios.Pipe"/>: the kill is a fault due when pipe-b has reported);
/// only its lines and JSON are its own.
/// </summary>
public static class PipeScenario
{
    /// <summary>Messages pipe-b sends right before it is killed.</summary>
    public const int Burst = BuiltInScenarios.PipeBurst;

    public static async Task<int> RunAsync(PipeOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        console.MarkupLineInterpolated(
            $"[bold]pipe[/]: {options.Messages} messages of {options.Size} bytes, {(options.Duplex ? "duplex" : "one-way")} stream{(options.Warmup > 0 ? $", after {options.Warmup} untimed" : "")}");
        var scenario = BuiltInScenarios.Pipe(options.Messages, options.Size, options.Duplex, options.Timeout, options.Warmup);
        return await ModelScenario.RunAsync(scenario, RoleLibrary.BuiltIn, console, _ => throw new InvalidOperationException("pipe has no ticket file"),
            result => Task.FromResult(Present(options, result, console)), cancellationToken);
    }

    private static int Present(PipeOptions options, ProcessScenarioResult result, IAnsiConsole console)
    {
        var (run, report, census, results, phases) = (result.Run, result.Report, result.Census, result.Results, result.Phases);
        results.TryGetValue("pipe-a", out var a);
        results.TryGetValue("pipe-b", out var b);
        long Figure(Sim.Core.ParticipantResult? r, string key) => r?.Figures.GetValueOrDefault(key) ?? -1;
        // pipe-b is killed by the scenario's fault once it has reported; its news reaches pipe-a at once.
        var killedAt = run.FaultOutcomes.FirstOrDefault(f => f.Name == "pipe-b")?.SignalledAt;
        var eofAfterMs = killedAt is { } k && Figure(a, "eof_at_ms") > 0 ? Figure(a, "eof_at_ms") - k.ToUnixTimeMilliseconds() : (long?)null;
        var burstWhole = Figure(a, "burst_received") == Figure(b, "burst_sent") && Figure(a, "burst_out_of_order") == 0;
        var unexpectedExits = run.Processes.Where(p => report.UnexpectedExits.Any(u => u.Spec.Name == p.Name)).ToList();
        var ok = result.Ok;

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
                ["warmup"] = options.Warmup,
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
            ModelScenario.AddModelReport(json, report);
            RunReport.WriteJson(options.JsonPath, json);
        }
        return ok ? 0 : 1;
    }
}
