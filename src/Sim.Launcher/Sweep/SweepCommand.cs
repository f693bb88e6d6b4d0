using System.CommandLine;

namespace Sim.Launcher.Sweep;

/// <summary><c>sim sweep SCENARIO|FILE --vary KEY=V1,V2,... [--vary ...] [--set KEY=VALUE] [--runs R] [--out DIR] [--compare python] [--pool] [--cluster HOST:PORT]</c>.</summary>
public static class SweepCommand
{
    public static Command Create(Option<bool> pool)
    {
        var scenario = new Argument<string>("scenario")
        {
            Description = $"A scenario command ({string.Join(", ", SweepTarget.Commands)}; startup is counter --increments 1 --atomic, next to Python's startup.py) or a scenario file",
        };
        var vary = new Option<string[]>("--vary")
        {
            Description = "A key and its values, e.g. buyers=10,50,100: any option of the scenario (without its dashes), a setting of a scenario file, start-method (spawn,forkserver), or agents (with --cluster); repeatable: the grid is every combination",
            HelpName = "KEY=V1,V2,...", Required = true,
        };
        var set = new Option<string[]>("--set") { Description = "A setting fixed for every run, e.g. tickets=10; repeatable", HelpName = "KEY=VALUE" };
        var runs = Cli.IntOption("--runs", "Runs per point, interleaved: run 1 of every point, then run 2, ...", 3, 1, 100);
        var output = new Option<string?>("--out")
        {
            Description = "The sweep's folder (default: sweep-SCENARIO here): runs.csv, summary.csv, charts, report.md, index.html; the same command into the same folder resumes",
            HelpName = "DIR",
        };
        var compare = new Option<string?>("--compare") { Description = "Also run the Python multiprocessing reference (bench/python) at each point, with the same parameters", HelpName = "python" };
        compare.AcceptOnlyFromAmong("python");
        var cluster = new Option<string?>("--cluster") { Description = "Run every Sim run across the cluster this member (an agent, HOST:PORT) belongs to; agents=N then varies how many agents run participants", HelpName = "HOST:PORT" };
        var runTimeout = Cli.IntOption("--run-timeout", "Seconds one run may take before it is ended and recorded as failed", 1800, 10, 86_400);
        var command = new Command("sweep",
            "A scaling experiment: every combination of the varied keys, several runs each in interleaved order (next to Python's with --compare python); runs.csv, summary.csv, charts (PNG, SVG) and a report.")
        {
            scenario, vary, set, runs, output, compare, cluster, runTimeout,
        };
        command.SetAction((parsed, cancellationToken) => SweepRunner.RunAsync(
            new SweepOptions(parsed.GetValue(scenario)!, parsed.GetValue(vary) ?? [], parsed.GetValue(set) ?? [], parsed.GetValue(runs), parsed.GetValue(output),
                parsed.GetValue(compare), parsed.GetValue(pool), parsed.GetValue(cluster), TimeSpan.FromSeconds(parsed.GetValue(runTimeout)), CommandLine()),
            Output.Console, cancellationToken));
        return command;
    }

    /// <summary>This sweep's command line, as the user typed it (near enough: arguments with spaces quoted).</summary>
    private static string CommandLine() =>
        "sim " + string.Join(" ", Environment.GetCommandLineArgs().Skip(1).Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) ? $"'{a}'" : a));
}
