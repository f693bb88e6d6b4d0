using System.Diagnostics;
using System.Text.Json;
using Sim.Core.Scenarios;
using Sim.Launcher;
using Sim.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Tests;

/// <summary>
/// One scenario, two shells: in-process (each participant its own actor system over loopback) and real processes
/// (<c>sim run</c>, <c>sim tickets</c>) reach the same verdicts. Also: a user's role library refused before anything starts.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ScenarioRunTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-scenario-run-").FullName;

    private static string ScenarioFile(string name) => Path.Combine(AppContext.BaseDirectory, "scenarios", name + ".hocon");

    private static async Task<ScenarioReport> InProcessAsync(Scenario scenario)
    {
        using var hard = new CancellationTokenSource(HardTimeout);
        return await InProcessScenarioRunner.RunAsync(scenario, hard.Token).WaitAsync(HardTimeout);
    }

    [Theory]
    [InlineData("tickets-model", new string[0])]
    [InlineData("tickets-model", new[] { "lock=false", "delay_ms=400", "buyers=5" })]
    [InlineData("prodcons-model", new string[0])]
    public async Task In_process_and_real_processes_reach_the_same_verdicts(string name, string[] set)
    {
        var overrides = set.Select(s => s.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
        var processes = await ProcessScenarioRunner.RunAsync(ScenarioFile(name), HardTimeout, set: overrides);
        Assert.True(processes.Summary is not null, processes.Stdout + processes.Stderr);
        var inProcess = ScenarioRunSummary.From(await InProcessAsync(ScenarioLoader.LoadFile(ScenarioFile(name), overrides)));
        output.WriteLine($"processes: {processes.Summary}\nin-process: {inProcess}");
        ScenarioAssert.SameVerdicts(processes.Summary, inProcess);
        Assert.Equal(processes.Summary.Ok ? 0 : 1, processes.ExitCode);
        // Not vacuous: the lock-free race fails both checks in both shells; the others pass them all.
        Assert.Equal(set.Contains("lock=false"), !inProcess.Ok);
        Assert.All(inProcess.ExitCodes.Values, code => Assert.Equal(0, code));
    }

    [Fact]
    public async Task The_built_in_tickets_and_prodcons_run_in_process_with_the_checks_of_sim()
    {
        var clock = Stopwatch.StartNew();
        var tickets = await InProcessAsync(BuiltInScenarios.Tickets(10, 3));
        output.WriteLine($"tickets, 10 buyers, in-process: {clock.Elapsed.TotalSeconds:0.000} s wall");
        ScenarioAssert.Ok(tickets);
        Assert.Equal(3, tickets.Figure("sold"));
        Assert.Equal(0, tickets.Figure("remaining"));
        Assert.Equal(0, tickets.Figure("oversold"));
        Assert.Equal(0, tickets.Figure("lost_updates"));

        foreach (var joinable in new[] { false, true })
        {
            var prodcons = await InProcessAsync(BuiltInScenarios.Prodcons(2, 2, 2000, joinable: joinable, maxSize: 100));
            ScenarioAssert.Ok(prodcons);
            Assert.Equal(2000, prodcons.Figure("consumed"));
            // Joinable: the daemon consumers are ended by the run (−15) and that is expected.
            Assert.All(prodcons.Outcome.Participants.Where(p => p.Spec.Role == "consumer"), p => Assert.Equal(joinable ? -15 : 0, p.ExitCode));
        }
    }

    [Theory]
    [InlineData(ScenarioFaultAction.Kill, "--kill", -9)]
    [InlineData(ScenarioFaultAction.Terminate, "--terminate", -15)]
    public async Task A_fault_in_process_behaves_as_its_process_counterpart(ScenarioFaultAction action, string option, int exitCode)
    {
        // Each buyer holds the lock for 2 s; whoever holds it 0.5 s in is ended: the next gets it, nothing is oversold.
        var json = Path.Combine(_folder, "run.json");
        var (_, root) = await SimCli.RunOkAsync(HardTimeout, json, "tickets", "--buyers", "4", "--tickets", "2", "--delay-ms", "2000",
            option, "holder@0.5", "--db", Path.Combine(_folder, "t.json"), "--json", json);
        var report = await InProcessAsync(BuiltInScenarios.Tickets(4, 2, delayMs: 2000,
            faults: [new ScenarioFault(action, ScenarioFault.Holder, 0.5)]));

        ScenarioAssert.Ok(report);
        var victim = Assert.Single(report.Outcome.Faults).Name;
        var processVictim = Assert.Single(root.GetProperty("faults").EnumerateArray().ToList()).GetProperty("name").GetString();
        Assert.NotNull(victim);
        Assert.NotNull(processVictim);
        var processes = root.GetProperty("processes").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(exitCode, processes[processVictim].GetProperty("exitcode").GetInt32());
        Assert.Equal(exitCode, report.Outcome.Participants.Single(p => p.Spec.Name == victim).ExitCode);
        Assert.All(report.Outcome.Participants.Where(p => p.Spec.Name != victim), p => Assert.Equal(0, p.ExitCode));
        var tickets = root.GetProperty("tickets");
        foreach (var figure in new[] { "sold", "oversold", "lost_updates" })
            Assert.Equal(tickets.GetProperty(figure).GetInt64(), report.Figure(figure));
        Assert.Equal(2, report.Figure("sold"));
    }

    [Fact]
    public async Task Sim_tickets_and_sim_prodcons_reach_the_verdicts_of_their_models_in_process()
    {
        // The built-in commands write the model's figures, checks and facts beside their own keys: one report, two shells.
        var json = Path.Combine(_folder, "run.json");
        var runs = new (string[] Args, Scenario Model)[]
        {
            (["tickets", "--buyers", "5", "--tickets", "2", "--db", Path.Combine(_folder, "t.json")], BuiltInScenarios.Tickets(5, 2)),
            (["prodcons", "--producers", "2", "--consumers", "2", "--items", "500", "--maxsize", "50"], BuiltInScenarios.Prodcons(2, 2, 500, maxSize: 50)),
            (["prodcons", "--producers", "2", "--consumers", "2", "--items", "500", "--mode", "joinable"], BuiltInScenarios.Prodcons(2, 2, 500, joinable: true)),
        };
        foreach (var (args, model) in runs)
        {
            var (_, root) = await SimCli.RunOkAsync(HardTimeout, json, [.. args, "--json", json]);
            var processes = ScenarioRunSummary.FromJson(root);
            var inProcess = ScenarioRunSummary.From(await InProcessAsync(model));
            output.WriteLine($"sim {string.Join(' ', args)}: {processes}\nin-process: {inProcess}");
            ScenarioAssert.SameVerdicts(processes, inProcess);
            Assert.True(inProcess.Ok, inProcess.ToString());
            Assert.NotEmpty(inProcess.Checks);
            Assert.Equal(processes.Figures, inProcess.Figures);
            Assert.Equal(processes.ExitCodes, inProcess.ExitCodes);
        }
    }

    [Theory]
    [InlineData(ScenarioFaultAction.Kill, "--kill", -9)]
    [InlineData(ScenarioFaultAction.Terminate, "--terminate", -15)]
    public async Task A_consumer_ended_mid_item_in_process_is_redelivered_as_with_processes(ScenarioFaultAction action, string option, int exitCode)
    {
        // Slow consumers (300 ms per item, one at a time): consumer-1 holds an unfinished item when it is ended, 0.45 s in.
        var json = Path.Combine(_folder, "run.json");
        var (_, root) = await SimCli.RunOkAsync(HardTimeout, json, "prodcons", "--producers", "2", "--consumers", "3", "--items", "30",
            "--mode", "joinable", "--work-ms", "300", option, "consumer-1@0.45", "--json", json);
        var processes = ScenarioRunSummary.FromJson(root);
        var report = await InProcessAsync(BuiltInScenarios.Prodcons(2, 3, 30, joinable: true, workMs: 300,
            faults: [new ScenarioFault(action, "consumer-1", 0.45)]));
        var inProcess = ScenarioRunSummary.From(report);
        output.WriteLine($"processes: {processes}\nin-process: {inProcess}");

        ScenarioAssert.SameVerdicts(processes, inProcess);
        foreach (var run in new[] { processes, inProcess })
        {
            Assert.True(run.Ok, run.ToString());
            Assert.Equal(exitCode, run.ExitCodes["consumer-1"]);
            Assert.Equal(30, run.Figures["consumed"]);
            Assert.Equal(0, run.Facts["ledger.missing"]);
            // The item consumer-1 held went to another consumer.
            Assert.True(run.Facts["q.redelivered"] >= 1, run.ToString());
        }
        Assert.Equal(-15, inProcess.ExitCodes["consumer-2"]); // a daemon, ended by the run
    }

    [Theory]
    [InlineData("two roles named 'buyer'", "Sim.Tests.dll")]
    [InlineData("has no role", "Akka.TestKit.dll")]
    [InlineData("not found", "/no/such/Roles.dll")]
    [InlineData("cannot be loaded", "xunit.runner.json")]
    public async Task A_bad_role_library_is_one_line_exit_2_and_nothing_starts(string named, string library)
    {
        var path = Path.IsPathRooted(library) ? library : Path.Combine(AppContext.BaseDirectory, library);
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), "run", ScenarioFile("tickets-model"), "--roles", path);
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(named, line);
        Assert.DoesNotContain("started", run.Stdout);
        Assert.DoesNotContain("   at ", run.Stderr + run.Stdout);
    }

    [Fact]
    public async Task A_bad_scenario_file_is_one_line_exit_2_and_nothing_starts()
    {
        var file = Path.Combine(_folder, "bad.hocon");
        await File.WriteAllTextAsync(file, "participants = [ { role = buyer, count = 2, colour = red } ]\n");
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), "run", file);
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("unknown key 'participants[0].colour'", line);
        Assert.DoesNotContain("started", run.Stdout);
    }

    [Theory]
    [InlineData("akka.actor.provider = NoSuchProvider", "not a valid type name", "tickets", "--buyers", "2", "--tickets", "2")]
    [InlineData("akka.loglevel = LOUD", "Unknown LogLevel", "lock", "--processes", "2", "--acquires", "5")]
    [InlineData("akka.remote.default-remote-dispatcher.executor = \"No.Such, Executor\"", "No.Such, Executor", "pipe", "--messages", "10")]
    [InlineData("akka.remote.dot-netty.tcp.port = abc", "'abc'", "pool", "start")]
    public async Task A_setting_of_SIM_AKKA_CONFIG_the_actor_system_cannot_start_with_is_one_line_exit_2(string setting, string named, params string[] args)
    {
        var socket = Path.Combine(_folder, "pool.sock");
        var run = await SimWithEnv.RunAsync(TimeSpan.FromMinutes(1),
            new Dictionary<string, string> { ["SIM_AKKA_CONFIG"] = setting, ["SIM_POOL_SOCKET"] = socket }, args);
        Assert.Equal(2, run.ExitCode);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sim: the actor system did not start with SIM_AKKA_CONFIG=", line);
        Assert.Contains(named, line);
        Assert.DoesNotContain("started", run.Stdout);
        Assert.DoesNotContain("   at ", run.Stderr + run.Stdout);
        Assert.Null(await WarmPool.TryConnectAsync(socket)); // a pool server that cannot start does not linger
    }

    [Theory]
    [InlineData("0", "C", "tickets", "--buyers", "2", "--tickets", "1", "--delay-ms", "4000")]
    [InlineData("1", "PGO", "lock", "--processes", "2", "--acquires", "10", "--hold-ms", "400", "--warmup", "10")]
    public async Task Participants_get_the_runtime_settings_of_their_kind_of_run(string callCounting, string kind, params string[] args)
    {
        using var cli = SimCli.Start(args);
        await cli.WaitForOutputAsync("all 2 ready", TimeSpan.FromSeconds(90));
        var nodes = ProcFs.ChildrenOf(cli.Pid);
        Assert.Equal(2, nodes.Count);
        foreach (var pid in nodes)
        {
            var environment = File.ReadAllText($"/proc/{pid}/environ").Split('\0');
            Assert.Contains("DOTNET_TieredCompilation=1", environment);
            Assert.Contains($"DOTNET_TC_CallCounting={callCounting}", environment);
            // Runs that warm up tier up with dynamic PGO and .NET's spinning; the others never recompile.
            Assert.Equal(kind == "PGO", environment.Contains("DOTNET_TieredPGO=1"));
            Assert.Equal(kind == "PGO", environment.Contains("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=46"));
        }
        var run = await cli.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
