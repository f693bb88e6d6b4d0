using System.Text.Json;
using Xunit;

namespace Sim.Tests;

/// <summary>The ticket scenario end to end: the real launcher, one real OS process per buyer, a real file.</summary>
[Collection(ProcessTests.Name)]
public sealed class TicketsScenarioTests : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(3);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-scenario-").FullName;

    private string Json => Path.Combine(_folder, "run.json");
    private string Db => Path.Combine(_folder, "tickets.json");

    [Fact]
    public async Task With_the_lock_exactly_the_tickets_are_sold()
    {
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "tickets", "--buyers", "8", "--tickets", "3", "--db", Db, "--json", Json);
        Assert.True(root.GetProperty("ok").GetBoolean());
        var tickets = root.GetProperty("tickets");
        Assert.Equal(3, tickets.GetProperty("initial").GetInt32());
        Assert.Equal(3, tickets.GetProperty("sold").GetInt32());
        Assert.Equal(0, tickets.GetProperty("remaining").GetInt32());
        Assert.Equal(0, tickets.GetProperty("oversold").GetInt32());
        Assert.Equal(0, tickets.GetProperty("lost_updates").GetInt32());

        var processes = root.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(8, processes.Count);
        var pids = processes.Select(p => p.GetProperty("pid").GetInt32()).ToList();
        Assert.Equal(8, pids.Distinct().Count());
        Assert.All(processes, p => Assert.Equal(0, p.GetProperty("exitcode").GetInt32()));
        Assert.Equal(3, processes.Count(p => p.GetProperty("bought").GetBoolean()));
        // Fencing tokens of the buyers are distinct: each bought under its own grant.
        Assert.Equal(8, processes.Select(p => p.GetProperty("token").GetInt64()).Distinct().Count());
        Assert.All(pids, pid => Assert.False(ProcFs.IsRunning(pid), $"buyer pid {pid} still running"));

        using var file = JsonDocument.Parse(File.ReadAllText(Db));
        Assert.Equal(0, file.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
        Assert.Equal(0, root.GetProperty("orphans").GetInt32());
    }

    [Theory]
    [InlineData("--kill")]
    [InlineData("--terminate")]
    public async Task When_the_lock_holder_dies_the_next_buyer_gets_the_lock_and_the_file_stays_consistent(string fault)
    {
        // Each buyer holds the lock for 2 s; the first holder is ended 0.5 s into its turn.
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "tickets", "--buyers", "4", "--tickets", "2", "--delay-ms", "2000",
            fault, "holder@0.5", "--db", Db, "--json", Json);
        var tickets = root.GetProperty("tickets");
        var faults = root.GetProperty("faults").EnumerateArray().ToList();
        var victim = Assert.Single(faults).GetProperty("name").GetString();
        Assert.NotNull(victim);
        var processes = root.GetProperty("processes").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(fault == "--kill" ? -9 : -15, processes[victim].GetProperty("exitcode").GetInt32());
        Assert.All(processes.Values.Where(p => p.GetProperty("name").GetString() != victim),
            p => Assert.Equal(0, p.GetProperty("exitcode").GetInt32()));
        // The victim died before writing: survivors sold both tickets, nothing lost or oversold, file whole.
        var sold = tickets.GetProperty("sold").GetInt32();
        var landed = tickets.GetProperty("landed_unreported").GetInt32();
        var remaining = tickets.GetProperty("remaining").GetInt32();
        Assert.Equal(2, sold + landed + remaining);
        Assert.Equal(0, tickets.GetProperty("oversold").GetInt32());
        Assert.Equal(0, tickets.GetProperty("lost_updates").GetInt32());
        Assert.Equal(2, sold);
        using var file = JsonDocument.Parse(File.ReadAllText(Db));
        Assert.Equal(remaining, file.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
        if (fault == "--kill")
            Assert.True(root.GetProperty("timing").GetProperty("handover_after_kill_ms").GetInt64() < 2000);
    }

    [Fact]
    public async Task Phases_a_failed_run_never_reached_are_shown_as_not_reached_not_as_times()
    {
        // 20 buyers cannot all be ready within 1 s on this machine: the run fails before the work starts.
        var run = await SimCli.RunAsync(HardTimeout, "tickets", "--buyers", "20", "--timeout", "1", "--db", Db, "--json", Json);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("all ready: not reached, work: not reached", run.Stdout);
        Assert.DoesNotContain(" -", run.Stdout.Split('\n').First(l => l.Contains("not reached")));
        using var doc = JsonDocument.Parse(File.ReadAllText(Json));
        var timing = doc.RootElement.GetProperty("timing");
        Assert.Equal(JsonValueKind.Null, timing.GetProperty("ready_s").ValueKind);
        Assert.Equal(JsonValueKind.Null, timing.GetProperty("work_s").ValueKind);
        Assert.Equal(0, doc.RootElement.GetProperty("zombies").GetInt32());
    }

    [Fact]
    public async Task Without_the_lock_the_race_oversells_and_is_reported()
    {
        // Every buyer reads before any writes: with 500 ms between read and write this cannot pass by luck.
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json,
            "tickets", "--buyers", "6", "--tickets", "2", "--no-lock", "--delay-ms", "500", "--db", Db, "--json", Json);
        var tickets = root.GetProperty("tickets");
        var oversold = tickets.GetProperty("oversold").GetInt32();
        var lost = tickets.GetProperty("lost_updates").GetInt32();
        Assert.True(oversold > 0 || lost > 0, $"no race seen: {tickets}");
        Assert.Equal(tickets.GetProperty("sold").GetInt32() - (2 - tickets.GetProperty("remaining").GetInt32()), lost);
        Assert.False(root.GetProperty("lock").GetBoolean());
        Assert.Contains("INCONSISTENT", run.Stdout);
    }

    [Theory]
    [InlineData("'abc'", "tickets", "--buyers", "abc")]
    [InlineData("0", "tickets", "--buyers", "0")]
    [InlineData("-5", "tickets", "--tickets", "-5")]
    [InlineData("--frobnicate", "tickets", "--frobnicate")]
    [InlineData("/no/such/folder/t.json", "tickets", "--db", "/no/such/folder/t.json")]
    [InlineData("/tmp", "tickets", "--db", "/tmp")]
    [InlineData("nosuchscenario", "nosuchscenario")]
    public async Task Bad_input_is_one_line_naming_the_value_and_exit_code_2(string named, params string[] args)
    {
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), args);
        Assert.Equal(2, run.ExitCode);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("   at ", run.Stderr + run.Stdout);
        Assert.DoesNotContain("started", run.Stdout);
    }

    [Fact]
    public async Task Interrupting_the_launcher_ends_every_buyer()
    {
        using var cli = SimCli.Start("tickets", "--buyers", "4", "--tickets", "4", "--delay-ms", "3000", "--db", Db);
        await cli.WaitForOutputAsync("ready after", TimeSpan.FromMinutes(2));
        var children = ProcFs.ChildrenOf(cli.Pid);
        Assert.Equal(4, children.Count);

        Signals.Send(cli.Pid, Signals.SIGINT);
        var run = await cli.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(130, run.ExitCode);
        Assert.All(children, pid => Assert.False(ProcFs.IsRunning(pid), $"buyer pid {pid} outlived the launcher"));
    }

    [Fact]
    public async Task Killing_the_launcher_outright_still_ends_every_buyer()
    {
        using var cli = SimCli.Start("tickets", "--buyers", "3", "--tickets", "3", "--delay-ms", "5000", "--db", Db);
        await cli.WaitForOutputAsync("ready after", TimeSpan.FromMinutes(2));
        var children = ProcFs.ChildrenOf(cli.Pid);
        Assert.Equal(3, children.Count);

        Signals.Send(cli.Pid, Signals.SIGKILL);
        await cli.WaitAsync(TimeSpan.FromSeconds(10));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (children.Any(ProcFs.IsRunning) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.All(children, pid => Assert.False(ProcFs.IsRunning(pid), $"buyer pid {pid} outlived a SIGKILLed launcher"));
    }

    [Fact]
    public async Task A_participant_hanging_past_the_timeout_is_ended_and_the_run_fails()
    {
        // The first buyer holds the lock for a minute: the work phase cannot finish within 15 s.
        using var cli = SimCli.Start("tickets", "--buyers", "2", "--tickets", "1", "--delay-ms", "60000",
            "--timeout", "15", "--db", Db, "--json", Json);
        await cli.WaitForOutputAsync("ready after", TimeSpan.FromMinutes(1));
        var children = ProcFs.ChildrenOf(cli.Pid);
        var run = await cli.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("not done within 15 s", run.Stdout);
        Assert.All(children, pid => Assert.False(ProcFs.IsRunning(pid), $"buyer pid {pid} outlived the timeout"));
        using var doc = JsonDocument.Parse(File.ReadAllText(Json));
        Assert.False(doc.RootElement.GetProperty("ok").GetBoolean());
        // The file is whole and untouched: nobody finished a purchase.
        using var file = JsonDocument.Parse(File.ReadAllText(Db));
        Assert.Equal(1, file.RootElement.GetProperty("count").GetInt32());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class ProcessTests
{
    // Tests that start many processes run one at a time: the machine has 2 cores.
    public const string Name = "processes";
}

internal static class Signals
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public static void Send(int pid, int signal) => Assert.Equal(0, kill(pid, signal));
}
