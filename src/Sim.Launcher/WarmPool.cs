using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Sim.Launcher;

/// <summary>
/// A launcher's connection to the warm pool (<see cref="PoolServer"/>): claims booted nodes for a run's
/// participants instead of starting processes, and relays their exit codes and stderr to their
/// <see cref="SimProcess"/>. Closing the connection tells the server this launcher is gone.
/// Trust is local and checked on both sides: the socket lives in a folder of the user's own (a real folder,
/// theirs, mode 0700, never chmod-ed), each side checks the other's uid with SO_PEERCRED, and the launcher
/// signals a pooled node only while /proc shows it is the verified server's child with the start time the
/// server reported.
/// </summary>
public sealed class WarmPool : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly Dictionary<string, SimProcess> _claimed = new(StringComparer.Ordinal);
    private Task _events = Task.CompletedTask;
    private TaskCompletionSource? _allAttached;
    private int _attached;
    private volatile bool _hangingUp;
    private volatile bool _serverGone;

    // One launcher process makes one run: when its pool server goes away mid-run, the command line ends it.
    private static readonly CancellationTokenSource LostSource = new();
    private static volatile string? _lostReason;

    private WarmPool(Socket socket, string path, int serverPid)
    {
        _socket = socket;
        Path = path;
        ServerPid = serverPid;
        var stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(stream);
        _writer = new StreamWriter(stream) { AutoFlush = true };
    }

    public string Path { get; }

    /// <summary>The server's pid as the kernel reports the socket's peer (SO_PEERCRED), not as the server says.</summary>
    public int ServerPid { get; }

    /// <summary>Cancelled when a pool server went away while participants of this process's run were on its nodes.</summary>
    public static CancellationToken LostToken => LostSource.Token;

    /// <summary>Why the run was ended when its pool server went away (one line); null while that has not happened.</summary>
    public static string? LostReason => LostSource.IsCancellationRequested ? _lostReason : null;

    /// <summary>
    /// The pool's socket: <c>SIM_POOL_SOCKET</c>, else one per user: in <c>$XDG_RUNTIME_DIR/sim-pool</c> when that
    /// is set, else in <c>/tmp/sim-pool-UID</c> (the temp folder).
    /// </summary>
    public static string SocketPath =>
        Environment.GetEnvironmentVariable("SIM_POOL_SOCKET") is { Length: > 0 } path
            ? System.IO.Path.GetFullPath(path)
            : DefaultSocketPath(Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"), System.IO.Path.GetTempPath(), Posix.getuid());

    internal static string DefaultSocketPath(string? runtimeDir, string tempDir, uint uid) =>
        runtimeDir is { Length: > 0 } && System.IO.Path.IsPathRooted(runtimeDir)
            ? System.IO.Path.Combine(runtimeDir, "sim-pool", "pool.sock")
            : System.IO.Path.Combine(tempDir, $"sim-pool-{uid}", "pool.sock");

    /// <summary>
    /// Checks that <paramref name="folder"/> is private to this user: a folder (not a symlink), owned by our uid,
    /// mode 0700. With <paramref name="create"/>, a missing folder is made so (its parent must exist); a folder that
    /// exists is never chmod-ed. False when it is missing and not to be created; a folder that fails the check is a
    /// usage error.
    /// </summary>
    internal static bool CheckPrivateFolder(string folder, bool create) =>
        UserFolder.CheckPrivate(folder, create, "warm pool's folder", "; set SIM_POOL_SOCKET to a socket in such a folder");

    /// <summary>The uid and pid of the process at the other end of a Unix socket, as the kernel knows them (SO_PEERCRED).</summary>
    internal static (int Pid, uint Uid)? PeerOf(Socket socket)
    {
        Span<byte> credentials = stackalloc byte[12]; // struct ucred: pid, uid, gid
        try
        {
            if (socket.GetRawSocketOption(1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, credentials) < 12)
                return null;
        }
        catch (SocketException)
        {
            return null;
        }
        return (BitConverter.ToInt32(credentials[..4]), BitConverter.ToUInt32(credentials[4..8]));
    }

    /// <summary>
    /// Connects to the pool at <paramref name="path"/>; null when there is none. Refuses (usage error) a folder that
    /// is not private, a server of another uid, and a server whose status names another pid than the kernel does.
    /// </summary>
    public static async Task<WarmPool?> TryConnectAsync(string path, CancellationToken cancellationToken = default)
    {
        _ = StatusTimeout; // a bad SIM_POOL_ANSWER_TIMEOUT is a usage error whether or not a pool runs
        if (!CheckPrivateFolder(System.IO.Path.GetDirectoryName(path)!, create: false) || !File.Exists(path))
            return null;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null; // a stale socket file: no server behind it
        }
        var uid = Posix.getuid();
        if (PeerOf(socket) is not { } peer || peer.Uid != uid)
        {
            var who = PeerOf(socket) is { } other ? $"uid {other.Uid} (pid {other.Pid})" : "an unknown process";
            socket.Dispose();
            throw new UsageException($"the warm pool at {path} is served by {who}, not by you (uid {uid}): refusing it");
        }
        var pool = new WarmPool(socket, path, peer.Pid);
        try
        {
            await pool.StatusAsync(cancellationToken).ConfigureAwait(false);
            return pool;
        }
        catch
        {
            await pool.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public static async Task<WarmPool> ConnectAsync(string path, CancellationToken cancellationToken = default) =>
        await TryConnectAsync(path, cancellationToken).ConfigureAwait(false)
        ?? throw new UsageException($"no warm pool at {path}: start one with `sim pool start`");

    /// <summary>
    /// The server's listening socket and the lock that makes it the socket's only owner until it exits: a second
    /// server (or one started while the last is still stopping) is refused, and no server deletes another's socket.
    /// </summary>
    internal static (Socket Listener, FileStream Owner) Listen(string path)
    {
        CheckPrivateFolder(System.IO.Path.GetDirectoryName(path)!, create: true);
        FileStream owner;
        try
        {
            owner = new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new UsageException($"a warm pool is already running (or still stopping) at {path}");
        }
        if (File.Exists(path))
        {
            using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                try
                {
                    probe.Connect(new UnixDomainSocketEndPoint(path));
                    throw new UsageException($"a warm pool is already running at {path}");
                }
                catch (SocketException)
                {
                    // Nobody behind it: a stale socket file from a server that died.
                }
            }
            File.Delete(path);
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen(64);
        return (socket, owner);
    }

    /// <summary>Seconds a pool server may take to answer a status request (1 to 3600; default 30).</summary>
    public const string AnswerTimeoutVariable = "SIM_POOL_ANSWER_TIMEOUT";

    /// <summary>
    /// How long a status request may take: a server whose nodes are booting shares 2 cores with all of them, and
    /// answers slowly (seconds) but answers. <see cref="AnswerTimeoutVariable"/> changes it (a slower machine, or a test).
    /// </summary>
    public static TimeSpan StatusTimeout => EnvironmentSeconds.Read(AnswerTimeoutVariable, TimeSpan.FromSeconds(30), 1, 3600);

    /// <summary>
    /// One request, one reply (status, wait, stop). No reply within <paramref name="timeout"/> is the run's failure
    /// (<see cref="PoolNotAnsweringException"/>, one line), not a cancellation, which the command line reports as Ctrl-C.
    /// </summary>
    public async Task<JsonObject> RequestAsync(JsonObject request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await _writer.WriteLineAsync(request.ToJsonString().AsMemory(), deadline.Token).ConfigureAwait(false);
            var line = await _reader.ReadLineAsync(deadline.Token).ConfigureAwait(false)
                ?? throw new IOException("the warm pool closed the connection");
            return JsonNode.Parse(line)!.AsObject();
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PoolNotAnsweringException(
                $"the warm pool at {Path} (server pid {ServerPid}) did not answer '{request["op"]}' within {timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>The server's status; one that names another pid than the socket's peer is refused.</summary>
    public async Task<JsonObject> StatusAsync(CancellationToken cancellationToken = default)
    {
        var status = await RequestAsync(new JsonObject { ["op"] = "status" }, StatusTimeout, cancellationToken).ConfigureAwait(false);
        CheckPid(status);
        return status;
    }

    private void CheckPid(JsonObject reply)
    {
        var said = reply["pid"]?.GetValue<int>();
        if (said != ServerPid)
            throw new UsageException($"the warm pool at {Path} says its server is pid {said?.ToString() ?? "none"}, but the socket's peer is pid {ServerPid}: refusing it");
    }

    /// <summary>Nodes dying unused in a row after which waiting for a full pool fails instead of waiting on.</summary>
    public const int FailuresBeforeWaitGivesUp = 3;

    /// <summary>
    /// Waits until every node of the pool at <paramref name="path"/> is booted and idle; returns its status. Fails
    /// (one line) when its nodes keep dying before they are ready, or when it is stopping.
    /// </summary>
    public static async Task<JsonObject> WaitFullAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var pool = await ConnectAsync(path, cancellationToken).ConfigureAwait(false);
        var status = await pool.RequestAsync(new JsonObject { ["op"] = "wait", ["timeout_ms"] = 600_000 }, TimeSpan.FromMinutes(11), cancellationToken)
            .ConfigureAwait(false);
        pool.CheckPid(status);
        if (status["boot_failures"]?.GetValue<int>() is >= FailuresBeforeWaitGivesUp and var failures)
            throw new RunFailedException(
                $"the warm pool at {path} does not fill: its nodes keep dying unused ({failures} in a row; last: {status["last_failure"]}); it retries with a growing pause");
        if (status["stopping"]?.GetValue<bool>() == true)
            throw new RunFailedException($"the warm pool at {path} is stopping: it will not fill again");
        return status;
    }

    /// <summary>What the server said when told to stop: its pid, and the runs (and nodes) it waits for.</summary>
    public sealed record StopReply(int ServerPid, int Runs, int NodesInUse);

    /// <summary>
    /// Tells the pool at <paramref name="path"/> to stop: it accepts no new connection nor claim at once, its idle
    /// nodes end, runs in progress go on; the server exits when they are over. Null when there was no pool.
    /// </summary>
    public static async Task<StopReply?> RequestStopAsync(string path, CancellationToken cancellationToken = default)
    {
        if (await TryConnectAsync(path, cancellationToken).ConfigureAwait(false) is not { } pool)
            return null;
        await using (pool)
        {
            var reply = await pool.RequestAsync(new JsonObject { ["op"] = "stop" }, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            return new StopReply(pool.ServerPid, reply["runs"]?.GetValue<int>() ?? 0, reply["in_use"]?.GetValue<int>() ?? 0);
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the pool server <paramref name="pid"/> to exit; false if it still runs.</summary>
    public static async Task<bool> AwaitServerExitAsync(int pid, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        // Not kill(pid, 0): the server is init's child once started, and a zombie still answers that.
        while (ProcStat.Read(pid) is { State: not ('Z' or 'X') })
        {
            if (clock.Elapsed > timeout)
                return false;
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>
    /// Stops the pool at <paramref name="path"/> and waits up to <paramref name="timeout"/> for its server to exit (its
    /// idle nodes gone, those in use finished). True when it has exited; false when there was no pool at all.
    /// </summary>
    public static async Task<bool> StopServerAsync(string path, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (await RequestStopAsync(path, cancellationToken).ConfigureAwait(false) is not { } stop)
            return false;
        if (!await AwaitServerExitAsync(stop.ServerPid, timeout, cancellationToken).ConfigureAwait(false))
            throw new RunFailedException($"the pool server (pid {stop.ServerPid}) is still stopping after {timeout.TotalSeconds:0} s: nodes in use are still running");
        return true;
    }

    /// <summary>
    /// Claims a booted node for each process, in order; they are attached (pid, running) when this returns. A claim
    /// the server refuses (it is stopping, or the run asks for more nodes than one run may have) is a usage error.
    /// </summary>
    public async Task ClaimAsync(IReadOnlyList<SimProcess> processes, CancellationToken cancellationToken = default)
    {
        var nodes = new JsonArray();
        foreach (var process in processes)
        {
            _claimed[process.Name] = process;
            nodes.Add(new JsonObject
            {
                ["name"] = process.Name,
                ["args"] = new JsonArray(process.NodeArguments.Select(a => (JsonNode)a).ToArray()),
            });
        }
        _allAttached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (processes.Count == 0)
            _allAttached.TrySetResult();
        // Everything the server sends from now on is read by one loop, which also sees the server go away.
        _events = Task.Run(ReadEventsAsync, CancellationToken.None);
        try
        {
            await _writer.WriteLineAsync(new JsonObject { ["op"] = "claim", ["nodes"] = nodes }.ToJsonString().AsMemory(), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The server is gone: the reading loop reports it.
        }
        await _allAttached.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Dispatch(JsonObject message)
    {
        var op = message["op"]?.GetValue<string>();
        if (op == "error")
        {
            _allAttached?.TrySetException(new UsageException($"the warm pool at {Path} refused the run: {message["reason"]?.GetValue<string>()}"));
            return;
        }
        var name = message["name"]?.GetValue<string>();
        if (name is null || !_claimed.TryGetValue(name, out var process))
            return;
        switch (op)
        {
            case "claimed":
                var pid = message["pid"]!.GetValue<int>();
                var startTime = message["start_time"]?.GetValue<long>();
                process.AttachPooled(pid, () => CheckSignal(pid, startTime));
                if (++_attached == _claimed.Count)
                    _allAttached?.TrySetResult();
                break;
            case "exited":
                process.EndPooled(message["code"]!.GetValue<int>());
                break;
            case "stderr":
                process.AddStderr(message["line"]!.GetValue<string>());
                break;
        }
    }

    /// <summary>
    /// Right before a signal: the node may be signalled only while it is still the verified server's child with the
    /// start time the server reported (a pid freed by the node's end and reused is someone else's), and never once
    /// the server is gone (its nodes then belong to nobody of ours).
    /// </summary>
    private SignalCheck? CheckSignal(int pid, long? startTime)
    {
        if (_serverGone)
            return new SignalCheck(false, $"the pool server (pid {ServerPid}) is gone, so it is no node of ours any more");
        if (ProcStat.Read(pid) is not { } stat || stat.State is 'Z' or 'X')
            return new SignalCheck(true, "it has ended");
        if (stat.Parent != ServerPid)
            return new SignalCheck(false, $"its parent is pid {stat.Parent}, not the pool server (pid {ServerPid})");
        if (startTime is null || stat.StartTime != startTime)
            return new SignalCheck(false, "it is not the process the pool server handed out (its start time differs)");
        return null;
    }

    private async Task ReadEventsAsync()
    {
        try
        {
            while (await _reader.ReadLineAsync().ConfigureAwait(false) is { } line)
                Dispatch(JsonNode.Parse(line)!.AsObject());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException or System.Text.Json.JsonException)
        {
        }
        if (!_hangingUp)
            await ServerGoneAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The server closed the connection without our hanging up. After a run's nodes all ended (a stopped pool
    /// exits then), nothing is lost; before, the run is ended at once: the nodes lost their stdin with the server
    /// and end by themselves (a daemon at once, others within seconds), but nobody reports their ends to us.
    /// </summary>
    private async Task ServerGoneAsync()
    {
        var attached = _claimed.Values.Where(p => p.Pid is not null && !p.Exited.IsCompleted).ToList();
        // A refused claim completed _allAttached too: then nothing of ours ran there.
        if (attached.Count == 0 && _allAttached is { Task.IsCompleted: true })
            return;
        _serverGone = true;
        _lostReason = $"the warm pool server (pid {ServerPid}) went away mid-run: the run was ended";
        await LostSource.CancelAsync().ConfigureAwait(false);
        _allAttached?.TrySetException(new RunFailedException(_lostReason));
        var clock = Stopwatch.StartNew();
        List<SimProcess> running;
        while ((running = attached.Where(p => ProcStat.Read(p.Pid!.Value) is { State: not ('Z' or 'X') }).ToList()).Count > 0
               && clock.Elapsed < TimeSpan.FromSeconds(5))
            await Task.Delay(50).ConfigureAwait(false);
        _lostReason = running.Count == 0
            ? $"the warm pool server (pid {ServerPid}) went away mid-run: the run was ended; its {attached.Count} pooled participant(s) lost their stdin with it and ended"
            : $"the warm pool server (pid {ServerPid}) went away mid-run: the run was ended; {running.Count} pooled participant(s) still run (pids {string.Join(", ", running.Select(p => p.Pid))}), not signalled: they are no children of ours";
        foreach (var process in attached)
            process.LosePooled(process.Daemon ? 4 : 5,
                $"sim: the pool server went away; the node lost its stdin (exit code {(process.Daemon ? 4 : 5)} assumed: nobody reported its end)");
    }

    /// <summary>Waits (bounded) for every claimed node to be reported ended, then hangs up.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_hangingUp)
            return;
        var ended = Task.WhenAll(_claimed.Values.Where(p => p.Pid is not null).Select(p => p.Exited));
        await Task.WhenAny(ended, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        _hangingUp = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // The server hung up first.
        }
        _socket.Dispose();
        await Task.WhenAny(_events, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
    }

    /// <summary>How long a new pool server may take to answer: it boots its nodes meanwhile, which on 2 cores take all the CPU.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The forkserver start method: the pool at <paramref name="path"/>, started on first use (as Python starts its
    /// forkserver) with <paramref name="size"/> nodes, growing to the largest run it serves, and stopping by itself
    /// after <paramref name="idleTimeout"/> with nobody connected. <paramref name="started"/> is told the new server's pid.
    /// </summary>
    public static async Task<WarmPool> ConnectOrStartAsync(string path, int size, TimeSpan idleTimeout, Action<int> started,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await TryConnectAsync(path, cancellationToken).ConfigureAwait(false) is { } pool)
                return pool;
            try
            {
                started(await StartServerAsync(size, path, StartTimeout, cancellationToken, idleTimeout, grow: true).ConfigureAwait(false));
            }
            catch (UsageException) when (clock.Elapsed < StartTimeout && IsRunningOrStopping(path))
            {
                // Another launcher started it a moment earlier, or the last one is still stopping: try it again.
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A server holds the pool's lock file (running, or stopping): <see cref="Listen"/> would refuse.</summary>
    private static bool IsRunningOrStopping(string path)
    {
        try
        {
            using var probe = new FileStream(path + ".lock", FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Starts a pool server in the background, detached from this terminal, and waits until it answers.</summary>
    public static async Task<int> StartServerAsync(int size, string path, TimeSpan timeout, CancellationToken cancellationToken,
        TimeSpan? idleTimeout = null, bool grow = false)
    {
        if (await TryConnectAsync(path, cancellationToken).ConfigureAwait(false) is { } running)
        {
            await running.DisposeAsync().ConfigureAwait(false);
            throw new UsageException($"a warm pool is already running at {path}");
        }
        CheckPrivateFolder(System.IO.Path.GetDirectoryName(path)!, create: true);
        List<string> arguments = [PoolServerCommand, "--size", size.ToString(), "--socket", path];
        if (idleTimeout is { } idle)
            arguments.AddRange(["--idle-timeout", Math.Max(1, (int)Math.Ceiling(idle.TotalSeconds)).ToString()]);
        if (grow)
            arguments.Add("--grow");
        var info = SelfProcess.StartInfo(arguments);
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var server = Process.Start(info)!;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (server.HasExited)
            {
                var error = (await server.StandardError.ReadToEndAsync(cancellationToken)).Trim().Replace("sim: ", "", StringComparison.Ordinal);
                if (server.ExitCode == Cli.UsageExitCode)
                    throw new UsageException(error);
                throw new RunFailedException($"the pool server ended at once (exit {server.ExitCode}): {error}");
            }
            try
            {
                if (await TryConnectAsync(path, cancellationToken).ConfigureAwait(false) is { } pool)
                {
                    await pool.DisposeAsync().ConfigureAwait(false);
                    return server.Id;
                }
            }
            catch (PoolNotAnsweringException) when (clock.Elapsed < timeout)
            {
                // Still starting (its answer is slow, not missing): ask again while the start may take.
            }
            catch (IOException)
            {
                // It listens before its actor system starts: one that cannot start drops the connection and ends,
                // and its own error (read above once it has ended) says why.
                await server.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken)
                    .ContinueWith(_ => { }, CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        server.Kill(entireProcessTree: true);
        throw new RunFailedException($"the pool server did not answer within {timeout.TotalSeconds:0} s");
    }

    public const string PoolServerCommand = "_pool-server";
}

/// <summary>The pool server took the connection but did not answer in time: the run fails with one line (exit 1).</summary>
public sealed class PoolNotAnsweringException(string message) : RunFailedException(message);
