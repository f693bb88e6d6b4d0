using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Sim.Launcher;

/// <summary>
/// A launcher's connection to the warm pool (<see cref="PoolServer"/>): claims booted nodes for a run's
/// participants instead of starting processes, and relays their exit codes and stderr to their
/// <see cref="SimProcess"/>. Closing the connection tells the server this launcher is gone.
/// </summary>
public sealed class WarmPool : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly StreamWriter _writer;
    private readonly Dictionary<string, SimProcess> _claimed = new(StringComparer.Ordinal);
    private Task _events = Task.CompletedTask;

    private WarmPool(Socket socket)
    {
        _socket = socket;
        var stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(stream);
        _writer = new StreamWriter(stream) { AutoFlush = true };
    }

    /// <summary>The pool's socket: <c>SIM_POOL_SOCKET</c>, else one per user in the temp folder.</summary>
    public static string SocketPath =>
        Environment.GetEnvironmentVariable("SIM_POOL_SOCKET") is { Length: > 0 } path
            ? Path.GetFullPath(path)
            : Path.Combine(Path.GetTempPath(), $"sim-pool-{Environment.UserName}", "pool.sock");

    public static async Task<WarmPool?> TryConnectAsync(string path, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
            return null;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new WarmPool(socket);
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null; // a stale socket file: no server behind it
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
        var folder = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
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

    /// <summary>One request, one reply (status, wait, stop).</summary>
    public async Task<JsonObject> RequestAsync(JsonObject request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        await _writer.WriteLineAsync(request.ToJsonString().AsMemory(), deadline.Token).ConfigureAwait(false);
        var line = await _reader.ReadLineAsync(deadline.Token).ConfigureAwait(false)
            ?? throw new IOException("the warm pool closed the connection");
        return JsonNode.Parse(line)!.AsObject();
    }

    public Task<JsonObject> StatusAsync(CancellationToken cancellationToken = default) =>
        RequestAsync(new JsonObject { ["op"] = "status" }, TimeSpan.FromSeconds(10), cancellationToken);

    /// <summary>Waits until every node of the pool at <paramref name="path"/> is booted and idle; returns its status.</summary>
    public static async Task<JsonObject> WaitFullAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var pool = await ConnectAsync(path, cancellationToken).ConfigureAwait(false);
        return await pool.RequestAsync(new JsonObject { ["op"] = "wait", ["timeout_ms"] = 600_000 }, TimeSpan.FromMinutes(11), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Stops the pool at <paramref name="path"/> and waits up to <paramref name="timeout"/> for its server to exit (its
    /// idle nodes gone, those in use finished). True when it has exited; false when there was no pool at all.
    /// </summary>
    public static async Task<bool> StopServerAsync(string path, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (await TryConnectAsync(path, cancellationToken).ConfigureAwait(false) is not { } pool)
            return false;
        int server;
        await using (pool)
        {
            server = (await pool.StatusAsync(cancellationToken).ConfigureAwait(false))["pid"]!.GetValue<int>();
            await pool.RequestAsync(new JsonObject { ["op"] = "stop" }, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        }
        var clock = Stopwatch.StartNew();
        while (Posix.kill(server, 0) == 0)
        {
            if (clock.Elapsed > timeout)
                throw new RunFailedException($"the pool server (pid {server}) is still stopping after {timeout.TotalSeconds:0} s: nodes in use are still running");
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Claims a booted node for each process, in order; they are attached (pid, running) when this returns.</summary>
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
        await _writer.WriteLineAsync(new JsonObject { ["op"] = "claim", ["nodes"] = nodes }.ToJsonString().AsMemory(), cancellationToken)
            .ConfigureAwait(false);
        var attached = 0;
        while (attached < processes.Count)
        {
            var line = await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new RunFailedException("the warm pool went away while handing out nodes");
            if (Dispatch(JsonNode.Parse(line)!.AsObject()))
                attached++;
        }
        _events = Task.Run(ReadEventsAsync, CancellationToken.None);
    }

    /// <summary>True when the message attached a claimed node.</summary>
    private bool Dispatch(JsonObject message)
    {
        var name = message["name"]?.GetValue<string>();
        if (name is null || !_claimed.TryGetValue(name, out var process))
            return false;
        switch (message["op"]?.GetValue<string>())
        {
            case "claimed":
                process.AttachPooled(message["pid"]!.GetValue<int>());
                return true;
            case "exited":
                process.EndPooled(message["code"]!.GetValue<int>());
                return false;
            case "stderr":
                process.AddStderr(message["line"]!.GetValue<string>());
                return false;
            default:
                return false;
        }
    }

    private async Task ReadEventsAsync()
    {
        try
        {
            while (await _reader.ReadLineAsync().ConfigureAwait(false) is { } line)
                Dispatch(JsonNode.Parse(line)!.AsObject());
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or System.Text.Json.JsonException)
        {
        }
    }

    /// <summary>Waits (bounded) for every claimed node to be reported ended, then hangs up.</summary>
    public async ValueTask DisposeAsync()
    {
        var ended = Task.WhenAll(_claimed.Values.Where(p => p.Pid is not null).Select(p => p.Exited));
        await Task.WhenAny(ended, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        _socket.Shutdown(SocketShutdown.Both);
        _socket.Dispose();
        await Task.WhenAny(_events, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
    }

    /// <summary>Starts a pool server in the background, detached from this terminal, and waits until it answers.</summary>
    public static async Task<int> StartServerAsync(int size, string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (await TryConnectAsync(path, cancellationToken).ConfigureAwait(false) is { } running)
        {
            await running.DisposeAsync().ConfigureAwait(false);
            throw new UsageException($"a warm pool is already running at {path}");
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var info = SelfProcess.StartInfo([PoolServerCommand, "--size", size.ToString(), "--socket", path]);
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        var server = Process.Start(info)!;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (server.HasExited)
                throw new RunFailedException($"the pool server ended at once (exit {server.ExitCode}): {(await server.StandardError.ReadToEndAsync(cancellationToken)).Trim()}");
            if (await TryConnectAsync(path, cancellationToken).ConfigureAwait(false) is { } pool)
            {
                await pool.DisposeAsync().ConfigureAwait(false);
                return server.Id;
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
        server.Kill(entireProcessTree: true);
        throw new RunFailedException($"the pool server did not answer within {timeout.TotalSeconds:0} s");
    }

    public const string PoolServerCommand = "_pool-server";
}
