using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Runtime.Versioning;
using Sim.Launcher;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// Local trust of the warm pool: its socket folder must be private (and is never chmod-ed), each side checks the
/// other's uid (SO_PEERCRED), the launcher checks the server's pid, and it signals a pooled node only while /proc
/// shows it is the verified server's child with the start time the server reported.
/// </summary>
[Collection(ProcessTests.Name)]
[UnsupportedOSPlatform("windows")] // Unix sockets, modes, uids and /proc
public sealed class WarmPoolTrustTests : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(2);
    private const int Nobody = 65534;
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-pool-trust-").FullName;
    private readonly List<Process> _started = new();

    private static bool IsRoot => Posix.getuid() == 0;

    private async Task<CliResult> SimAsync(string socket, params string[] args) =>
        await SimWithEnv.RunAsync(HardTimeout, new Dictionary<string, string> { ["SIM_POOL_SOCKET"] = socket }, args);

    private static UnixFileMode ModeOf(string path) => File.GetUnixFileMode(path);

    /// <summary><c>sim pool start</c> that must be refused; should it start a server anyway, that server is killed.</summary>
    private async Task<CliResult> StartRefusedAsync(string socket)
    {
        var start = await SimAsync(socket, "pool", "start", "--size", "1");
        if (start.ExitCode == 0 && System.Text.RegularExpressions.Regex.Match(start.Stdout, @"server pid (\d+)") is { Success: true } match)
            Process.GetProcessById(int.Parse(match.Groups[1].Value)).Kill(entireProcessTree: true);
        return start;
    }

    [Fact]
    public async Task A_socket_folder_that_is_not_private_is_refused_by_server_and_client_and_never_chmod_ed()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_folder, "shared")).FullName;
        const UnixFileMode open = (UnixFileMode)0b111_111_111;
        File.SetUnixFileMode(shared, open);
        var start = await StartRefusedAsync(Path.Combine(shared, "pool.sock"));
        Assert.Equal(2, start.ExitCode);
        Assert.Contains($"folder {shared} has mode 0777", Assert.Single(start.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Equal(open, ModeOf(shared));
        Assert.False(File.Exists(Path.Combine(shared, "pool.sock")));
        var status = await SimAsync(Path.Combine(shared, "pool.sock"), "pool", "status");
        Assert.Equal(2, status.ExitCode);
        Assert.Contains("has mode 0777", status.Stderr);

        // A symlink to a private folder is not the private folder.
        var target = Directory.CreateDirectory(Path.Combine(_folder, "target")).FullName;
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var link = Path.Combine(_folder, "link");
        File.CreateSymbolicLink(link, target);
        var linked = await StartRefusedAsync(Path.Combine(link, "pool.sock"));
        Assert.Equal(2, linked.ExitCode);
        Assert.Contains("is a symlink", linked.Stderr);
        Assert.Empty(Directory.EnumerateFileSystemEntries(target));

        if (IsRoot)
        {
            // A folder of another user, even with mode 0700.
            var theirs = Directory.CreateDirectory(Path.Combine(_folder, "theirs")).FullName;
            File.SetUnixFileMode(theirs, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await RunToolAsync("chown", $"{Nobody}:{Nobody}", theirs);
            var owned = await StartRefusedAsync(Path.Combine(theirs, "pool.sock"));
            Assert.Equal(2, owned.ExitCode);
            Assert.Contains($"belongs to uid {Nobody}", owned.Stderr);
        }
    }

    [Fact]
    public async Task A_missing_socket_folder_is_created_private()
    {
        var socket = Path.Combine(_folder, "fresh", "pool.sock");
        try
        {
            var start = await SimAsync(socket, "pool", "start", "--size", "1");
            Assert.True(start.ExitCode == 0, start.Stdout + start.Stderr);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, ModeOf(Path.GetDirectoryName(socket)!));
        }
        finally
        {
            await PoolTeardown.RunAsync(socket, []);
        }
    }

    [Fact]
    public void The_default_socket_is_per_user_in_XDG_RUNTIME_DIR_or_else_the_temp_folder()
    {
        Assert.Equal("/run/user/1000/sim-pool/pool.sock", WarmPool.DefaultSocketPath("/run/user/1000", "/tmp/", 1000));
        Assert.Equal("/tmp/sim-pool-1000/pool.sock", WarmPool.DefaultSocketPath(null, "/tmp/", 1000));
        Assert.Equal("/tmp/sim-pool-1000/pool.sock", WarmPool.DefaultSocketPath("relative", "/tmp/", 1000));
    }

    [Fact]
    public async Task The_client_refuses_a_server_whose_status_names_another_pid_than_the_kernel()
    {
        var socket = Path.Combine(_folder, "fake.sock");
        await using var fake = new FakePoolServer(socket, request => [new JsonObject { ["op"] = "status", ["pid"] = 1 }]);
        var refused = await Assert.ThrowsAsync<UsageException>(() => WarmPool.TryConnectAsync(socket));
        Assert.Contains($"says its server is pid 1, but the socket's peer is pid {Environment.ProcessId}", refused.Message);
    }

    [Fact]
    public async Task The_client_refuses_a_server_of_another_uid()
    {
        if (!IsRoot)
            return; // needs a listener of another uid: only root can make one here
        var socket = Path.Combine(_folder, "theirs.sock");
        // Bound as root in our private folder, then listening as nobody: SO_PEERCRED reports the listener's uid.
        var script = $$"""
            import os, socket
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.bind({{PythonString(socket)}})
            os.setgid({{Nobody}}); os.setuid({{Nobody}})
            s.listen(1)
            print("listening", flush=True)
            s.settimeout(30)
            c, _ = s.accept()
            c.settimeout(10)
            try:
                if c.recv(4096): c.sendall(b'{"op":"status","pid":' + str(os.getpid()).encode() + b'}\n')
            except OSError:
                pass
            """;
        using var python = StartPython(script);
        Assert.Equal("listening", await python.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        var refused = await Assert.ThrowsAsync<UsageException>(() => WarmPool.TryConnectAsync(socket));
        Assert.Contains($"served by uid {Nobody} (pid {python.Id}), not by you (uid 0)", refused.Message);
    }

    [Fact]
    public async Task The_server_closes_the_connection_of_another_uid_without_a_word()
    {
        if (!IsRoot)
            return; // needs a client of another uid: only root can make one here
        var socket = Path.Combine(_folder, "pool.sock");
        try
        {
            var start = await SimAsync(socket, "pool", "start", "--size", "1");
            Assert.True(start.ExitCode == 0, start.Stdout + start.Stderr);
            // Open the way to the socket (the private folder is the first guard; this tests the second one).
            File.SetUnixFileMode(_folder, (UnixFileMode)0b111_001_001);
            File.SetUnixFileMode(socket, (UnixFileMode)0b111_111_111);
            var script = $$"""
                import socket
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(10)
                s.connect({{PythonString(socket)}})
                try:
                    s.sendall(b'{"op":"status"}\n')
                    print("reply:" + s.recv(4096).decode().strip(), flush=True)
                except OSError as e:
                    print("reply:" + type(e).__name__, flush=True)
                """;
            using var python = StartPython(script, asNobody: true);
            var reply = await python.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.True(reply is "reply:" or "reply:ConnectionResetError" or "reply:BrokenPipeError", $"a client of uid {Nobody} got: {reply} {await python.StandardError.ReadToEndAsync()}");
            File.SetUnixFileMode(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await using var pool = await WarmPool.ConnectAsync(socket);
            Assert.Equal(1, (await pool.StatusAsync())["refused_peers"]!.GetValue<long>());
        }
        finally
        {
            File.SetUnixFileMode(_folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await PoolTeardown.RunAsync(socket, []);
        }
    }

    [Fact]
    public async Task A_pooled_node_is_signalled_only_while_it_is_the_verified_servers_child_with_its_start_time()
    {
        // This test process plays the pool server: its children are "its nodes".
        var child = Start("sleep", "60");
        var other = Start("sleep", "60");
        var grandchild = await StartOrphanSleepAsync();
        Assert.NotEqual(Environment.ProcessId, ProcFs.ParentOf(grandchild));
        var pids = new Dictionary<string, (int Pid, long StartTime)>
        {
            ["ours"] = (child.Id, StartTimeOf(child.Id)),
            ["orphan"] = (grandchild, StartTimeOf(grandchild)),
            ["reused"] = (other.Id, StartTimeOf(other.Id) + 1), // as if the pid now held a later process
        };
        var socket = Path.Combine(_folder, "fake.sock");
        await using var fake = new FakePoolServer(socket, request => request["op"]!.GetValue<string>() switch
        {
            "status" => [new JsonObject { ["op"] = "status", ["pid"] = Environment.ProcessId }],
            "claim" => pids.Select(p => new JsonObject { ["op"] = "claimed", ["name"] = p.Key, ["pid"] = p.Value.Pid, ["start_time"] = p.Value.StartTime }),
            _ => [],
        });
        var processes = pids.Keys.ToDictionary(name => name, name => new SimProcess(name, "counter", "/bin/false", []));
        var pool = await WarmPool.ConnectAsync(socket);
        try
        {
            await pool.ClaimAsync(processes.Values.ToList());
            foreach (var name in new[] { "orphan", "reused" })
            {
                var refused = Assert.Throws<InvalidOperationException>(processes[name].Kill);
                Assert.Contains("not signalling", refused.Message);
                processes[name].KillTree(); // clean-up call: refused quietly, reported in the stderr tail
                Assert.Contains(processes[name].StderrTail, l => l.Contains("not signalling"));
            }
            processes["ours"].Kill();
            Assert.True(child.WaitForExit(TimeSpan.FromSeconds(10)), "the verified node was not killed");
            Assert.True(ProcFs.IsRunning(other.Id), "a pid with another start time was signalled");
            Assert.True(ProcFs.IsRunning(grandchild), "a process that is not the server's child was signalled");

            // Once its end is reported, the pid is never signalled again (it may be someone else's by then).
            await fake.PushAsync(new JsonObject { ["op"] = "exited", ["name"] = "ours", ["code"] = -9 });
            Assert.Equal(-9, await processes["ours"].Exited.WaitAsync(TimeSpan.FromSeconds(10)));
            processes["ours"].Kill();
            foreach (var name in new[] { "orphan", "reused" })
                await fake.PushAsync(new JsonObject { ["op"] = "exited", ["name"] = name, ["code"] = 0 });
        }
        finally
        {
            await pool.DisposeAsync();
            KillSleep(grandchild);
        }
    }

    private Process Start(string program, params string[] args)
    {
        var process = Process.Start(new ProcessStartInfo(program, args) { UseShellExecute = false })!;
        _started.Add(process);
        return process;
    }

    /// <summary>A sleep whose parent (a shell) has exited: not a child of this process.</summary>
    private static async Task<int> StartOrphanSleepAsync()
    {
        var shell = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "sleep 60 >/dev/null 2>&1 & echo $!"])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
        })!;
        var pid = int.Parse((await shell.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!);
        await shell.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return pid;
    }

    private static void KillSleep(int pid)
    {
        try
        {
            if (ProcFs.IsRunning(pid) && File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("sleep", StringComparison.Ordinal))
                Signals.Send(pid, Signals.SIGKILL);
        }
        catch (IOException)
        {
        }
    }

    private static long StartTimeOf(int pid)
    {
        var text = File.ReadAllText($"/proc/{pid}/stat");
        return long.Parse(text[(text.LastIndexOf(')') + 2)..].Split(' ')[19]);
    }

    private static string PythonString(string text) => "'" + text.Replace("\\", "\\\\").Replace("'", "\\'") + "'";

    private Process StartPython(string script, bool asNobody = false)
    {
        var info = asNobody
            ? new ProcessStartInfo("setpriv", [$"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "/usr/bin/python3", "-c", script])
            : new ProcessStartInfo("/usr/bin/python3", ["-c", script]);
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var process = Process.Start(info)!;
        _started.Add(process);
        return process;
    }

    private static async Task RunToolAsync(string program, params string[] args)
    {
        using var tool = Process.Start(new ProcessStartInfo(program, args) { UseShellExecute = false })!;
        await tool.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, tool.ExitCode);
    }

    public void Dispose()
    {
        foreach (var process in _started)
        {
            try
            {
                if (!process.HasExited)
                    process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        Directory.Delete(_folder, recursive: true);
    }
}
