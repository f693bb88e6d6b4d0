using System.Diagnostics;
using System.Text.Json.Nodes;
using Sim.Core.Roles;
using Spectre.Console;

namespace Sim.Launcher;

/// <summary>
/// The lesson's section on the Process object, walked through with real processes: name and pid, join,
/// join with a timeout, is_alive right after terminate, exit codes, daemon children dying with their parent
/// (even a SIGKILLed one), and a zombie made on purpose, seen in /proc, then reaped.
/// </summary>
public static class LifecycleScenario
{
    public const string ParentCommand = "_lifecycle-parent";
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(string? jsonPath, IAnsiConsole console, CancellationToken cancellationToken)
    {
        var steps = new JsonObject();
        var failures = new List<string>();
        void Say(string point, string text) => console.MarkupLineInterpolated($"[bold]{point}[/]: {text}");
        void Check(bool condition, string what)
        {
            if (!condition)
                failures.Add(what);
        }

        await using var run = new ScenarioRun(NodeBinary.Locate(), _ => { });
        // Released up front: each worker passes the barrier as soon as it arrives, and the barrier's count
        // of arrivals tells when a worker is up (so terminate meets a running node, not a half-booted one).
        await run.ReleaseAsync();
        SimProcess Worker(string name, int workMs, int exitCode = 0) =>
            run.Add(name, new Worker().Name, new Dictionary<string, string>
            {
                ["work-ms"] = workMs.ToString(),
                ["exit-code"] = exitCode.ToString(),
                ["wait-barrier"] = "true",
            });
        Task WaitUntilConnectedAsync(int count) => run.Coordinator.AwaitReadyAsync(count, Boot, cancellationToken);

        // 1. name, pid, join: the parent blocks until the child ends.
        var first = Worker("child-1", 1500);
        Say("p.name, p.pid", $"before start: name={first.Name}, pid={first.Pid?.ToString() ?? "None"}, exitcode={Show(first.ExitCode)}, is_alive={first.IsAlive}");
        first.Start();
        Say("p.start()", $"name={first.Name}, pid={first.Pid}, daemon={first.Daemon}, is_alive={first.IsAlive}, exitcode={Show(first.ExitCode)}");
        var clock = Stopwatch.StartNew();
        first.Join(Boot);
        Say("p.join()", $"the parent waited {clock.Elapsed.TotalSeconds:0.00} s for the child to finish its 1.5 s of work: exitcode={Show(first.ExitCode)}, is_alive={first.IsAlive}");
        steps["join"] = new JsonObject { ["pid"] = first.Pid, ["waited_s"] = Math.Round(clock.Elapsed.TotalSeconds, 3), ["exitcode"] = first.ExitCode };
        Check(first.ExitCode == 0, "child-1 did not exit 0");

        // 2. join with a timeout returns while the child runs; terminate; is_alive may still be true right after.
        var second = Worker("child-2", 60_000);
        second.Start();
        await WaitUntilConnectedAsync(2);
        clock.Restart();
        var joined = second.Join(TimeSpan.FromMilliseconds(300));
        Say("p.join(0.3)", $"returned after {clock.Elapsed.TotalSeconds:0.00} s with the child still running: joined={joined}, is_alive={second.IsAlive}, exitcode={Show(second.ExitCode)}");
        second.Terminate();
        var aliveRightAfter = second.IsAlive;
        second.Join(TimeSpan.FromSeconds(30));
        Say("p.terminate()", $"is_alive right after terminate: {aliveRightAfter} (the signal is not instant); after join: is_alive={second.IsAlive}, exitcode={Show(second.ExitCode)} (SIGTERM)");
        steps["terminate"] = new JsonObject
        {
            ["join_timeout_returned_alive"] = !joined && second.Pid is not null, ["alive_right_after"] = aliveRightAfter,
            ["exitcode"] = second.ExitCode,
        };
        Check(!joined, "join(0.3) did not return while the child ran");
        Check(second.ExitCode == -15, $"terminate gave exit code {second.ExitCode}, not -15");

        // 3. kill, and an ordinary non-zero exit code.
        var third = Worker("child-3", 60_000);
        var fourth = Worker("child-4", 100, exitCode: 3);
        third.Start();
        fourth.Start();
        await WaitUntilConnectedAsync(4);
        third.Kill();
        third.Join(TimeSpan.FromSeconds(30));
        fourth.Join(Boot);
        Say("p.kill()", $"exitcode={Show(third.ExitCode)} (SIGKILL: no clean-up at all)");
        Say("exitcode", $"a child that returns 3 has exitcode={Show(fourth.ExitCode)}; one still running has None");
        steps["kill"] = new JsonObject { ["exitcode"] = third.ExitCode };
        steps["exit_code"] = new JsonObject { ["exitcode"] = fourth.ExitCode };
        Check(third.ExitCode == -9, $"kill gave exit code {third.ExitCode}, not -9");
        Check(fourth.ExitCode == 3, $"child-4 gave exit code {fourth.ExitCode}, not 3");

        // 4. daemon: a parent that is SIGKILLed, with a daemon and a non-daemon child.
        var daemon = await DaemonDemoAsync(cancellationToken);
        Say("p.daemon = True", daemon.DaemonGoneMs is { } d
            ? $"the parent (pid {daemon.ParentPid}) was SIGKILLed; its daemon child (pid {daemon.DaemonPid}) ended {d} ms later. Python leaves it running as an orphan."
            : $"the daemon child (pid {daemon.DaemonPid}) was still running 10 s after its parent was killed");
        Say("p.daemon = False", daemon.WorkerGoneMs is { } w
            ? $"the non-daemon child (pid {daemon.WorkerPid}) lost its parent mid-work, abandoned it and ended {w} ms later (exit code 5), not running on as an orphan"
            : $"the non-daemon child (pid {daemon.WorkerPid}) was still running 10 s after its parent was killed");
        steps["daemon"] = new JsonObject
        {
            ["parent_pid"] = daemon.ParentPid, ["daemon_pid"] = daemon.DaemonPid, ["daemon_gone_ms"] = daemon.DaemonGoneMs,
            ["worker_pid"] = daemon.WorkerPid, ["worker_gone_ms"] = daemon.WorkerGoneMs,
        };
        Check(daemon.DaemonGoneMs is not null, "the daemon child outlived its killed parent");
        Check(daemon.WorkerGoneMs is not null, "the non-daemon child ran on after its parent was killed");

        // 5. zombie: a child that ended and that nobody waited for.
        var zombie = await ZombieDemoAsync(cancellationToken);
        Say("zombie", zombie.Seen
            ? $"a child (pid {zombie.Pid}) started behind .NET's back ended; /proc showed it as state Z (zombie) until the parent reaped it with waitpid: reaped={zombie.Reaped}"
            : $"could not make a zombie here (pid {zombie.Pid}, state {zombie.State})");
        steps["zombie"] = new JsonObject { ["pid"] = zombie.Pid, ["seen"] = zombie.Seen, ["reaped"] = zombie.Reaped };
        Check(zombie.Reaped, "the zombie demo child was not reaped");

        var census = run.Census();
        Say("clean-up", $"zombies {census.Zombies.Count}, orphans {census.Orphans.Count} left by this run");
        Check(census.Zombies.Count == 0 && census.Orphans.Count == 0, "zombies or orphans were left");
        foreach (var failure in failures)
            console.MarkupLineInterpolated($"[red]unexpected: {failure}[/]");

        if (jsonPath is not null)
        {
            RunReport.WriteJson(jsonPath, new JsonObject
            {
                ["scenario"] = "lifecycle",
                ["ok"] = failures.Count == 0,
                ["errors"] = new JsonArray(failures.Select(f => (JsonNode?)JsonValue.Create(f)).ToArray()),
                ["steps"] = steps,
                ["zombies"] = census.Zombies.Count,
                ["orphans"] = census.Orphans.Count,
                ["processes"] = RunReport.Processes(run, (_, _) => { }),
            });
        }
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// The hidden parent of the daemon demo: starts a daemon and a non-daemon worker, prints their pids, and
    /// waits to be killed (at most two minutes).
    /// </summary>
    public static async Task<int> RunParentAsync(CancellationToken cancellationToken)
    {
        await using var run = new ScenarioRun(NodeBinary.Locate(), _ => { });
        var work = new Dictionary<string, string> { ["work-ms"] = "120000", ["wait-barrier"] = "true" };
        var daemon = run.Add("daemon-1", new Worker().Name, work, daemon: true);
        var worker = run.Add("worker-1", new Worker().Name, work);
        await run.ReleaseAsync();
        run.StartAll();
        await run.Coordinator.AwaitReadyAsync(2, Boot, cancellationToken);
        Console.WriteLine($"PIDS {daemon.Pid} {worker.Pid}");
        await Task.Delay(TimeSpan.FromMinutes(2), cancellationToken);
        return 0;
    }

    private sealed record DaemonDemo(int ParentPid, int DaemonPid, int WorkerPid, long? DaemonGoneMs, long? WorkerGoneMs);

    private static async Task<DaemonDemo> DaemonDemoAsync(CancellationToken cancellationToken)
    {
        var info = SelfProcess.StartInfo([ParentCommand]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardInput = true;
        using var parent = Process.Start(info) ?? throw new InvalidOperationException("could not start the demo parent");
        try
        {
            string? line;
            do
                line = await parent.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(Boot, cancellationToken);
            while (line is not null && !line.StartsWith("PIDS ", StringComparison.Ordinal));
            var pids = line?.Split(' ') ?? throw new InvalidOperationException("the demo parent ended before starting its children");
            var daemonPid = int.Parse(pids[1]);
            var workerPid = int.Parse(pids[2]);

            Posix.kill(parent.Id, Posix.SIGKILL);
            var clock = Stopwatch.StartNew();
            await parent.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            long? daemonGone = null, workerGone = null;
            while (clock.Elapsed < TimeSpan.FromSeconds(10) && (daemonGone is null || workerGone is null))
            {
                daemonGone ??= IsRunning(daemonPid) ? null : clock.ElapsedMilliseconds;
                workerGone ??= IsRunning(workerPid) ? null : clock.ElapsedMilliseconds;
                await Task.Delay(5, cancellationToken);
            }
            // Whatever is still there after the demo is ended here: the demo must not leave orphans.
            foreach (var pid in new[] { daemonPid, workerPid }.Where(IsRunning))
                Posix.kill(-pid, Posix.SIGKILL);
            return new DaemonDemo(parent.Id, daemonPid, workerPid, daemonGone, workerGone);
        }
        finally
        {
            if (!parent.HasExited)
                parent.Kill(entireProcessTree: true);
        }
    }

    private sealed record ZombieDemo(int Pid, char? State, bool Seen, bool Reaped);

    private static async Task<ZombieDemo> ZombieDemoAsync(CancellationToken cancellationToken)
    {
        var pid = Posix.SpawnUnreaped("true");
        char? state = null;
        for (var i = 0; i < 100 && state != 'Z'; i++)
        {
            await Task.Delay(20, cancellationToken);
            state = ProcStat.Read(pid)?.State;
        }
        var seen = state == 'Z';
        var reaped = false;
        for (var i = 0; i < 100 && !reaped; i++)
        {
            reaped = Posix.Reap(pid) || ProcStat.Read(pid) is null;
            if (!reaped)
                await Task.Delay(20, cancellationToken);
        }
        return new ZombieDemo(pid, state, seen, reaped);
    }

    private static bool IsRunning(int pid) => ProcStat.Read(pid) is { State: not ('Z' or 'X') };

    private static string Show(int? exitCode) => exitCode?.ToString() ?? "None";

}
