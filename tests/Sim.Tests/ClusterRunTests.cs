using System.Diagnostics;
using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Tests;

/// <summary>
/// Runs across machines, on one machine: two real agents on their own loopback addresses (127.0.0.2, 127.0.0.3) and the
/// launcher on 127.0.0.1, every participant a real process started by an agent.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ClusterRunTests(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-cluster-").FullName;

    private string Json => Path.Combine(_folder, "run.json");
    private string Db => Path.Combine(_folder, "tickets.json");

    [Fact]
    public async Task Tickets_with_buyers_on_both_agents_are_consistent_and_every_process_names_its_host()
    {
        var (a1, a2) = await ClusterAgent.StartPairAsync();
        using (a1)
        using (a2)
        {
            // holder@0.5: the signal reaches a buyer on another "machine" through its agent.
            var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "tickets", "--buyers", "6", "--tickets", "3", "--delay-ms", "1000",
                "--kill", "holder@0.5", "--cluster", a1.Member, "--host", "127.0.0.1", "--db", Db, "--json", Json);
            output.WriteLine(run.Stdout);
            var tickets = root.GetProperty("tickets");
            Assert.Equal(3, tickets.GetProperty("sold").GetInt32());
            Assert.Equal(0, tickets.GetProperty("oversold").GetInt32());
            Assert.Equal(0, tickets.GetProperty("lost_updates").GetInt32());
            var processes = root.GetProperty("processes").EnumerateArray().ToList();
            Assert.Equal(["127.0.0.2", "127.0.0.3"], processes.Select(p => p.GetProperty("host").GetString()).Distinct().Order());
            Assert.Equal(3, processes.Count(p => p.GetProperty("agent").GetString() == "a1"));
            var victim = Assert.Single(root.GetProperty("faults").EnumerateArray()).GetProperty("name").GetString();
            Assert.All(processes, p => Assert.Equal(p.GetProperty("name").GetString() == victim ? -9 : 0, p.GetProperty("exitcode").GetInt32()));
            Assert.Contains("left the cluster", run.Stdout);
            // The agents reaped them all: nothing runs, the agents hold nothing.
            Assert.All(processes, p => Assert.False(ProcFs.IsRunning(p.GetProperty("pid").GetInt32())));
            // The launcher left: only the two agents are members, once the leaving has reached a2 by gossip (it said
            // "left" when its own node was removed; another member's view follows within a gossip round or two).
            JsonDocument view;
            var settle = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                var status = await SimCli.RunAsync(TimeSpan.FromSeconds(60), "cluster", "--cluster", a2.Member, "--json");
                Assert.True(status.ExitCode == 0, status.Stdout + status.Stderr);
                view = JsonDocument.Parse(status.Stdout);
                if (view.RootElement.GetProperty("members").GetArrayLength() == 2 || settle.Elapsed > TimeSpan.FromSeconds(15))
                    break;
                view.Dispose();
                await Task.Delay(500);
            }
            using (view)
            {
                var agents = view.RootElement.GetProperty("agents").EnumerateArray().ToList();
                Assert.Equal(["a1", "a2"], agents.Select(a => a.GetProperty("name").GetString()));
                Assert.All(agents, a => Assert.Equal(0, a.GetProperty("running").GetArrayLength()));
                Assert.Equal(2, view.RootElement.GetProperty("members").GetArrayLength());
            }

            // Placement: pack fills one agent first; --on restricts; too few slots and unknown agents are one-line usage errors.
            var (packed, packedRoot) = await SimCli.RunOkAsync(HardTimeout, Json, "tickets", "--buyers", "3", "--tickets", "1",
                "--cluster", a1.Member, "--placement", "pack", "--db", Db, "--json", Json);
            Assert.Single(packedRoot.GetProperty("processes").EnumerateArray().Select(p => p.GetProperty("agent").GetString()).Distinct());
            var unknown = await SimCli.RunAsync(HardTimeout, "tickets", "--buyers", "2", "--cluster", a1.Member, "--on", "a9");
            Assert.Equal(2, unknown.ExitCode);
            Assert.Contains("--on a9: no agent named a9", unknown.Stderr);
            var full = await SimCli.RunAsync(HardTimeout, "tickets", "--buyers", "200", "--cluster", a1.Member, "--on", "a2");
            Assert.Equal(2, full.ExitCode);
            Assert.Contains("not enough free slots", full.Stderr);
            Assert.Single(full.Stderr.Trim().Split('\n'));
        }
    }

    [Fact]
    public async Task Killing_an_agent_mid_run_loses_its_buyers_the_lock_passes_on_and_the_run_ends_with_a_clear_result()
    {
        var (a1, a2) = await ClusterAgent.StartPairAsync();
        using (a1)
        using (a2)
        {
            // Each buyer holds the lock 600 ms: a2 dies while some of its buyers wait for the lock or hold it.
            using var launcher = SimCli.Start("tickets", "--buyers", "6", "--tickets", "6", "--delay-ms", "600",
                "--cluster", a1.Member, "--db", Db, "--json", Json);
            await launcher.WaitForOutputAsync("all 6 ready", HardTimeout);
            await Task.Delay(700);
            var a2Children = ProcFs.ChildrenOf(a2.Cli.Pid);
            var killedAt = Stopwatch.StartNew();
            Signals.Send(a2.Cli.Pid, Signals.SIGKILL);
            var result = await launcher.WaitAsync(HardTimeout);
            output.WriteLine(result.Stdout + result.Stderr);
            output.WriteLine($"run ended {killedAt.Elapsed.TotalSeconds:0.00} s after the agent's SIGKILL");
            Assert.Equal(1, result.ExitCode);
            using var doc = JsonDocument.Parse(File.ReadAllText(Json));
            var root = doc.RootElement;
            Assert.False(root.GetProperty("ok").GetBoolean());
            var processes = root.GetProperty("processes").EnumerateArray().ToList();
            var onA2 = processes.Where(p => p.GetProperty("agent").GetString() == "a2").ToList();
            var onA1 = processes.Where(p => p.GetProperty("agent").GetString() == "a1").ToList();
            // a2's buyers that had not ended before the kill are lost; a1's all ended well and bought (6 tickets for 6
            // buyers): the lock passed on from a2's dead buyers.
            var lost = onA2.Where(p => p.GetProperty("lost").GetBoolean()).ToList();
            Assert.NotEmpty(lost);
            Assert.All(lost, p => Assert.Equal(JsonValueKind.Null, p.GetProperty("exitcode").ValueKind));
            Assert.All(onA1, p => Assert.Equal(0, p.GetProperty("exitcode").GetInt32()));
            Assert.All(onA1, p => Assert.True(p.GetProperty("bought").GetBoolean()));
            var tickets = root.GetProperty("tickets");
            Assert.Equal(0, tickets.GetProperty("oversold").GetInt32());
            Assert.Equal(0, tickets.GetProperty("lost_updates").GetInt32());
            Assert.Contains("lost: agent a2 at 127.0.0.3", result.Stdout);
            // Bounded: detection (failure detector) plus the rest of the run, far from a hang.
            Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(30), $"{killedAt.Elapsed}");
            // a2's buyers end with their agent (stdin closed): none is left running.
            await WaitUntilAsync(() => a2Children.All(pid => !ProcFs.IsRunning(pid)), TimeSpan.FromSeconds(15), "a2's buyers still run");
        }
    }

    [Fact]
    public async Task A_launcher_the_cluster_downs_ends_its_run_with_one_line_and_exit_code_1()
    {
        var (a1, a2) = await ClusterAgent.StartPairAsync();
        using (a1)
        using (a2)
        {
            using var launcher = SimCli.Start("tickets", "--buyers", "4", "--tickets", "4", "--delay-ms", "3000", "--cluster", a1.Member);
            await launcher.WaitForOutputAsync("all 4 ready", HardTimeout);
            // Stopped long past the failure detector's pause and the resolver's 4 s: the agents down it meanwhile.
            Signals.Send(launcher.Pid, Signals.SIGSTOP);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(14));
            }
            finally
            {
                Signals.Send(launcher.Pid, Signals.SIGCONT);
            }
            var result = await launcher.WaitAsync(HardTimeout);
            output.WriteLine(result.Stdout + result.Stderr);
            Assert.Equal(1, result.ExitCode);
            Assert.Equal("sim: the cluster downed this launcher (it was unreachable from the agents): the run is ended", result.Stderr.Trim());
        }
    }

    [Fact]
    public async Task Over_TLS_a_node_with_the_cluster_certificate_runs_and_a_node_with_another_is_refused()
    {
        var cert = Path.Combine(_folder, "cluster.pfx");
        var other = Path.Combine(_folder, "other.pfx");
        foreach (var file in new[] { cert, other })
        {
            var made = await SimCli.RunAsync(TimeSpan.FromSeconds(60), "cert", "new", "--out", file);
            Assert.True(made.ExitCode == 0, made.Stderr);
        }
        using var agent = await ClusterAgent.StartAsync("127.0.0.2", "t1", cert: cert);
        // Agent, launcher and the participants (started by the agent with its certificate) all talk TLS.
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "tickets", "--buyers", "3", "--tickets", "2",
            "--cluster", agent.Member, "--cert", cert, "--db", Db, "--json", Json);
        Assert.Equal(2, root.GetProperty("tickets").GetProperty("sold").GetInt32());
        Assert.Contains("akka.ssl.tcp://", agent.Cli.Stdout);
        // Another certificate, or none: the agent refuses the connection, so the join finds no cluster.
        var stranger = await SimCli.RunAsync(HardTimeout, "tickets", "--buyers", "2", "--cluster", agent.Member, "--cert", other);
        Assert.Equal(2, stranger.ExitCode);
        Assert.Contains("no cluster answered", stranger.Stderr);
        var plain = await SimCli.RunAsync(HardTimeout, "cluster", "--cluster", agent.Member);
        Assert.Equal(2, plain.ExitCode);
        var status = await SimCli.RunAsync(HardTimeout, "cluster", "--cluster", agent.Member, "--cert", cert, "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Contains("\"t1\"", status.Stdout);
    }

    [Fact]
    public async Task Bad_cluster_input_is_one_line_and_exit_code_2()
    {
        async Task Refused(string expected, params string[] args)
        {
            var result = await SimCli.RunAsync(TimeSpan.FromSeconds(60), args);
            Assert.True(result.ExitCode == 2, $"{string.Join(' ', args)}: {result.ExitCode}\n{result.Stdout}{result.Stderr}");
            Assert.Contains(expected, result.Stderr);
            Assert.Single(result.Stderr.Trim().Split('\n'));
        }
        await Refused("--host 10.1.2.3 is not a loopback address", "agent", "--host", "10.1.2.3");
        await Refused("--host 10.1.2.3 is not a loopback address", "tickets", "--cluster", "127.0.0.2:4999", "--host", "10.1.2.3");
        await Refused("--host 127.0.0.1 applies only with --cluster", "tickets", "--host", "127.0.0.1");
        await Refused("--cluster 'nohost:99999' is not HOST:PORT", "tickets", "--cluster", "nohost:99999");
        var missing = Path.Combine(_folder, "missing.pfx");
        await Refused($"--cert {missing}: no such file", "agent", "--host", "127.0.0.2", "--cert", missing);
        var notCert = Path.Combine(_folder, "not.pfx");
        File.WriteAllText(notCert, "hello");
        await Refused("not a PFX certificate", "tickets", "--cert", notCert);
        // Nobody at that address: refused after the join timeout, nothing left running.
        var sw = Stopwatch.StartNew();
        await Refused("--cluster 127.0.0.9:4999: no cluster answered", "tickets", "--buyers", "2", "--cluster", "127.0.0.9:4999");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(40), $"{sw.Elapsed}");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail(what);
            await Task.Delay(100);
        }
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

/// <summary>
/// Hosts with network stacks of their own (network namespaces, root only): an agent in each, the launcher outside, over
/// TLS (the addresses are not loopback); then the link to one namespace goes down mid-run: a partition.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ClusterPartitionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-netns-").FullName;

    [NetnsFact]
    public async Task A_partition_mid_run_marks_the_agent_unreachable_and_the_run_ends_with_a_clear_result()
    {
        using var lab = new NetnsLab();
        var cert = Path.Combine(_folder, "cluster.pfx");
        var json = Path.Combine(_folder, "run.json");
        Assert.Equal(0, (await SimCli.RunAsync(TimeSpan.FromSeconds(60), "cert", "new", "--out", cert)).ExitCode);
        using var a = await ClusterAgent.StartAsync(lab.HostA, "a", cert: cert, wrapper: NetnsLab.Exec(lab.A));
        using var b = await ClusterAgent.StartAsync(lab.HostB, "b", a, cert: cert, wrapper: NetnsLab.Exec(lab.B));
        // Spread by name: producer-1 on a, consumer-1 on b, consumer-2 on a. Consumers take 40 ms an item: ~8 s of work.
        using var launcher = SimCli.Start("prodcons", "--producers", "1", "--consumers", "2", "--items", "400", "--work-ms", "40",
            "--mode", "joinable", "--timeout", "60", "--cluster", a.Member, "--host", lab.Launcher, "--cert", cert, "--json", json);
        await launcher.WaitForOutputAsync("all 3 ready", TimeSpan.FromSeconds(120));
        await Task.Delay(1500);
        var cut = Stopwatch.StartNew();
        lab.Cut(lab.B);
        var result = await launcher.WaitAsync(TimeSpan.FromSeconds(120));
        output.WriteLine(result.Stdout + result.Stderr);
        output.WriteLine($"run ended {cut.Elapsed.TotalSeconds:0.00} s after the cut");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("agent b at", result.Stdout);
        Assert.Contains("unreachable", result.Stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var consumer1 = doc.RootElement.GetProperty("processes").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "consumer-1");
        Assert.Equal("b", consumer1.GetProperty("agent").GetString());
        Assert.True(consumer1.GetProperty("lost").GetBoolean());
        Assert.True(cut.Elapsed < TimeSpan.FromSeconds(60), $"{cut.Elapsed}");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
