using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sim.Launcher;

/// <summary>
/// The warm pool (Python's forkserver idea for processes that cannot fork): keeps <c>size</c> Sim.Node
/// processes booted and idle, hands them to launchers that claim them over a Unix socket, reports each claimed
/// node's exit code and stderr back to its launcher, and starts replacements. The server is the nodes' parent
/// and reaps them. When a launcher's connection closes, the server closes the stdin of that launcher's nodes:
/// for them, as for nodes a launcher starts itself, end-of-file means the parent is gone.
/// </summary>
public sealed class PoolServer
{
    private sealed class PoolNode(Process process)
    {
        public Process Process { get; } = process;
        public int Pid { get; } = process.Id;
        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<int> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Claimed { get; set; }
        public Action<string>? Stderr { get; set; }

        public void CloseStdin()
        {
            try
            {
                Process.StandardInput.Close();
            }
            catch (Exception e) when (e is IOException or InvalidOperationException)
            {
                // Already gone.
            }
        }
    }

    private readonly int _size;
    private readonly string _socketPath;
    private readonly NodeBinary _node;
    private readonly object _gate = new();
    private readonly List<PoolNode> _idle = new();
    private readonly List<PoolNode> _booting = new();
    private readonly HashSet<PoolNode> _claimed = new();
    private readonly CancellationTokenSource _stop = new();
    private long _served;
    // The coordinator each new node warms up against (see WarmStart in Sim.Node).
    private Sim.Core.Coordinator _warmUp = null!;

    public PoolServer(int size, string socketPath, NodeBinary node)
    {
        _size = size;
        _socketPath = socketPath;
        _node = node;
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var (listener, owner) = WarmPool.Listen(_socketPath);
        using var ownsSocket = owner;
        using var listens = listener;
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, cancellationToken);
        using var system = Akka.Actor.ActorSystem.Create(Sim.Core.SimConfig.SystemName, Sim.Core.SimConfig.Node("127.0.0.1", 0));
        _warmUp = Sim.Core.Coordinator.Start(system);
        Refill();
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                var connection = await listener.AcceptAsync(stopping.Token).ConfigureAwait(false);
                _ = ServeAsync(connection, stopping.Token); // each launcher's connection runs on its own
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            File.Delete(_socketPath);
            await ShutDownAsync().ConfigureAwait(false);
        }
        return 0;
    }

    private JsonObject Status()
    {
        lock (_gate)
        {
            return new JsonObject
            {
                ["op"] = "status",
                ["pid"] = Environment.ProcessId,
                ["size"] = _size,
                ["idle"] = _idle.Count,
                ["booting"] = _booting.Count,
                ["claimed"] = _claimed.Count,
                ["served"] = _served,
                ["idle_pids"] = new JsonArray(_idle.Select(n => (JsonNode)n.Pid).ToArray()),
                ["booting_pids"] = new JsonArray(_booting.Select(n => (JsonNode)n.Pid).ToArray()),
            };
        }
    }

    private void Refill()
    {
        lock (_gate)
        {
            while (!_stop.IsCancellationRequested && _idle.Count + _booting.Count < _size)
                _booting.Add(StartNode());
        }
    }

    private PoolNode StartNode()
    {
        var info = new ProcessStartInfo(_node.FileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in _node.PrefixArguments)
            info.ArgumentList.Add(argument);
        info.ArgumentList.Add("--pool");
        info.ArgumentList.Add("--warm-up");
        info.ArgumentList.Add(_warmUp.Address.ToString());
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        PoolNode? node = null;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data != "READY" || node is null)
                return;
            lock (_gate)
            {
                if (_booting.Remove(node) && !node.Claimed)
                    _idle.Add(node);
            }
            node.Ready.TrySetResult();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                node?.Stderr?.Invoke(e.Data);
        };
        process.Start();
        node = new PoolNode(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _ = WatchAsync(process, node);
        return node;
    }

    /// <summary>
    /// Reports the node's end once its streams are drained (every stderr line went out before the exit). Awaited,
    /// not waited for: 50 nodes ending together must not hold 50 pool threads, which the runtime adds one by one.
    /// </summary>
    private async Task WatchAsync(Process process, PoolNode node)
    {
        await process.WaitForExitAsync().ConfigureAwait(false);
        var code = SimProcess.PythonExitCode(process.ExitCode);
        lock (_gate)
        {
            _idle.Remove(node);
            _booting.Remove(node);
            _claimed.Remove(node);
        }
        node.Ready.TrySetResult();
        node.Exited.TrySetResult(code);
        process.Dispose();
        // An idle node that died (killed from outside) is replaced; used ones are replaced when their run ends.
        if (!node.Claimed)
            Refill();
    }

    /// <summary>An idle node if there is one, else a fresh one that gets its work once booted (a cold start).</summary>
    private PoolNode Take()
    {
        lock (_gate)
        {
            _served++;
            PoolNode node;
            if (_idle.Count > 0)
            {
                node = _idle[0];
                _idle.RemoveAt(0);
            }
            else
                node = StartNode();
            node.Claimed = true;
            _claimed.Add(node);
            return node;
        }
    }

    private async Task ServeAsync(Socket socket, CancellationToken cancellationToken)
    {
        var mine = new List<PoolNode>();
        var writeGate = new SemaphoreSlim(1, 1);
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        using var reader = new StreamReader(stream);
        await using var writer = new StreamWriter(stream) { AutoFlush = true };

        async Task SendAsync(JsonObject message)
        {
            await writeGate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await writer.WriteLineAsync(message.ToJsonString()).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The launcher is gone; its nodes learn it from their stdin.
            }
            finally
            {
                writeGate.Release();
            }
        }

        try
        {
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                var request = JsonNode.Parse(line)?.AsObject();
                switch (request?["op"]?.GetValue<string>())
                {
                    case "status":
                        await SendAsync(Status()).ConfigureAwait(false);
                        break;
                    case "wait":
                        await WaitFullAsync(TimeSpan.FromMilliseconds(request["timeout_ms"]?.GetValue<long>() ?? 600_000), cancellationToken)
                            .ConfigureAwait(false);
                        await SendAsync(Status()).ConfigureAwait(false);
                        break;
                    case "stop":
                        await SendAsync(new JsonObject { ["op"] = "stopping" }).ConfigureAwait(false);
                        _stop.Cancel();
                        return;
                    case "claim":
                        foreach (var entry in request["nodes"]!.AsArray())
                        {
                            var name = entry!["name"]!.GetValue<string>();
                            var arguments = entry["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();
                            var node = Take();
                            mine.Add(node);
                            node.Stderr = text => _ = SendAsync(new JsonObject { ["op"] = "stderr", ["name"] = name, ["line"] = text });
                            await SendAsync(new JsonObject { ["op"] = "claimed", ["name"] = name, ["pid"] = node.Pid }).ConfigureAwait(false);
                            _ = node.Exited.Task.ContinueWith(t => SendAsync(new JsonObject { ["op"] = "exited", ["name"] = name, ["code"] = t.Result }),
                                TaskScheduler.Default);
                            _ = AssignWhenReadyAsync(node, arguments);
                        }
                        // No replacements while the run is on: 50 nodes booting would take the CPU the run needs.
                        break;
                    default:
                        await SendAsync(new JsonObject { ["op"] = "error", ["reason"] = $"unknown request: {line}" }).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or JsonException)
        {
        }
        finally
        {
            // The launcher that claimed these nodes is gone (or done): for them, the parent is gone.
            foreach (var node in mine)
                node.CloseStdin();
            // Its run is over: now replace what it used.
            if (mine.Count > 0)
                Refill();
        }
    }

    private static async Task AssignWhenReadyAsync(PoolNode node, string[] arguments)
    {
        await node.Ready.Task.ConfigureAwait(false);
        if (node.Exited.Task.IsCompleted)
            return;
        try
        {
            // Sim.Node's WarmStart reads this: the count on a line, then each argument NUL-terminated.
            await node.Process.StandardInput.WriteAsync($"{arguments.Length}\n{string.Concat(arguments.Select(a => a + "\0"))}").ConfigureAwait(false);
            await node.Process.StandardInput.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            // It died in between: its exit is reported as for any other.
        }
    }

    private async Task WaitFullAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            lock (_gate)
            {
                if (_idle.Count >= _size)
                    return;
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Idle and booting nodes are told there is no work (stdin closed: they exit 0); claimed ones are their launchers' business.</summary>
    private async Task ShutDownAsync()
    {
        List<PoolNode> unclaimed;
        lock (_gate)
        {
            unclaimed = _idle.Concat(_booting).ToList();
            _idle.Clear();
            _booting.Clear();
        }
        foreach (var node in unclaimed)
            node.CloseStdin();
        // Claimed nodes run on for their launchers (which end them, or close their stdin by going away):
        // their parent stays until they are reaped.
        List<PoolNode> claimed;
        lock (_gate)
            claimed = _claimed.ToList();
        await Task.WhenAll(claimed.Select(n => n.Exited.Task)).ConfigureAwait(false);
        var all = Task.WhenAll(unclaimed.Select(n => n.Exited.Task));
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false) != all)
        {
            foreach (var node in unclaimed.Where(n => !n.Exited.Task.IsCompleted))
                Posix.kill(-node.Pid, Posix.SIGKILL);
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        }
    }
}
