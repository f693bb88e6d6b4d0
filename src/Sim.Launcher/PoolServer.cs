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
/// Stopping keeps the promise to runs in progress: no new connection nor claim, idle nodes end, claimed ones
/// run on and their launchers stay served until they hang up; then the server exits.
/// </summary>
public sealed class PoolServer
{
    private sealed class PoolNode(Process process)
    {
        public Process Process { get; } = process;
        public int Pid { get; } = process.Id;
        // Lets a launcher tell this node from a later process that reuses its pid.
        public long? StartTime { get; } = ProcStat.Read(process.Id)?.StartTime;
        public TaskCompletionSource Ready { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<int> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Claimed { get; set; }
        public bool Booted { get; set; }
        public volatile string? LastStderr;
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

    /// <summary>One launcher's connection and the nodes it claimed (a run, once it claimed any).</summary>
    private sealed class Connection
    {
        public List<PoolNode> Nodes { get; } = new();
        public Task Served { get; set; } = Task.CompletedTask;
    }

    /// <summary>The longest pause between attempts to start a node when nodes keep dying unused.</summary>
    public static readonly TimeSpan MaxRestartDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FirstRestartDelay = TimeSpan.FromMilliseconds(250);

    private int _size;
    private readonly int _maxClaim;
    private readonly TimeSpan? _idleTimeout;
    private readonly bool _grow;
    // Since when nobody has been connected (no run, no request); null while someone is.
    private DateTime? _idleSince = DateTime.UtcNow;
    private readonly string _socketPath;
    private readonly NodeBinary _node;
    private readonly object _gate = new();
    private readonly List<PoolNode> _idle = new();
    private readonly List<PoolNode> _booting = new();
    private readonly HashSet<PoolNode> _claimed = new();
    private readonly HashSet<Connection> _connections = new();
    // Stop accepting (a stop request or a signal); connections are served on until the very end.
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly CancellationTokenSource _closeConnections = new();
    private bool _stopping;
    private long _served;
    private long _started;
    private long _refusedPeers;
    // Nodes that died unused in a row (none has booted since): restarts then wait, longer each time, one at a time.
    private int _failures;
    private DateTime _nextStartAt;
    private string? _lastFailure;
    private bool _restartScheduled;
    // The coordinator each new node warms up against (see WarmStart in Sim.Node).
    private Sim.Core.Coordinator _warmUp = null!;

    /// <param name="idleTimeout">With a value, the server stops by itself once nobody has connected for that long.</param>
    /// <param name="grow">A run that claims more nodes than the pool holds makes it that big from then on.</param>
    public PoolServer(int size, string socketPath, NodeBinary node, TimeSpan? idleTimeout = null, bool grow = false)
    {
        _size = size;
        _idleTimeout = idleTimeout;
        _grow = grow;
        // One run may claim at most this many nodes (the launcher's own limits stay below it): no client makes the
        // server start processes without bound.
        _maxClaim = Math.Max(size, 500);
        _socketPath = socketPath;
        _node = node;
    }

    /// <summary>Serves until stopped; <paramref name="listening"/> runs once the socket is ours (to detach then, not before, so start-up errors reach the caller).</summary>
    public async Task<int> RunAsync(Action listening, CancellationToken cancellationToken)
    {
        var (listener, owner) = WarmPool.Listen(_socketPath);
        using var ownsSocket = owner;
        // Before detaching, so that a setting it cannot start with (SIM_AKKA_CONFIG) reaches `sim pool start`.
        using var system = Sim.Core.SimTls.Create(Sim.Core.SimConfig.SystemName, Sim.Core.SimConfig.Node("127.0.0.1", 0));
        listening();
        _warmUp = Sim.Core.Coordinator.Start(system);
        // A signal (SIGTERM, SIGINT) stops the pool as `sim pool stop` does.
        using var onSignal = cancellationToken.Register(() => BeginStop());
        // Nodes start in the background, one at a time under the gate: the first request is answered at once,
        // not after 100 process starts on 2 cores that the nodes already booting take (28 s measured, while the
        // launcher waited 10 s for its answer).
        _ = Task.Run(Refill, CancellationToken.None);
        using var stopIdle = new CancellationTokenSource();
        var idleWatch = _idleTimeout is { } idleTimeout ? StopWhenIdleAsync(idleTimeout, stopIdle.Token) : Task.CompletedTask;
        var uid = Posix.getuid();
        try
        {
            while (true)
            {
                var socket = await listener.AcceptAsync(_stopAccepting.Token).ConfigureAwait(false);
                // Only our own user's processes get nodes (the folder should already see to that).
                if (WarmPool.PeerOf(socket) is not { } peer || peer.Uid != uid)
                {
                    Interlocked.Increment(ref _refusedPeers);
                    socket.Dispose();
                    continue;
                }
                var connection = new Connection();
                lock (_gate)
                {
                    _connections.Add(connection);
                    _idleSince = null;
                }
                connection.Served = ServeAsync(socket, connection);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            // No new connections from here on: the socket file goes, the listener closes.
            File.Delete(_socketPath);
            listener.Dispose();
        }
        await stopIdle.CancelAsync().ConfigureAwait(false);
        await idleWatch.ConfigureAwait(false);
        await ShutDownAsync().ConfigureAwait(false);
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// Python's forkserver lives as long as the program that started it; a pool started on first use has no such
    /// owner, so it stops by itself after <paramref name="timeout"/> with nobody connected (no daemon lingers).
    /// </summary>
    private async Task StopWhenIdleAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(timeout.TotalMilliseconds / 4, 50, 1000));
        try
        {
            while (true)
            {
                await Task.Delay(tick, cancellationToken).ConfigureAwait(false);
                bool idle;
                lock (_gate)
                    idle = _idleSince is { } since && DateTime.UtcNow - since >= timeout;
                if (idle)
                {
                    BeginStop();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private JsonObject Status()
    {
        lock (_gate)
        {
            var restartIn = _failures > 0 ? Math.Max(0, (long)(_nextStartAt - DateTime.UtcNow).TotalMilliseconds) : 0;
            return new JsonObject
            {
                ["op"] = "status",
                ["pid"] = Environment.ProcessId,
                ["size"] = _size,
                ["idle_timeout_s"] = _idleTimeout?.TotalSeconds,
                ["grows"] = _grow,
                ["idle"] = _idle.Count,
                ["booting"] = _booting.Count,
                ["claimed"] = _claimed.Count,
                ["served"] = _served,
                ["started"] = _started,
                ["stopping"] = _stopping,
                ["runs"] = RunsInProgress(),
                ["max_claim"] = _maxClaim,
                ["refused_peers"] = Interlocked.Read(ref _refusedPeers),
                ["boot_failures"] = _failures,
                ["restart_in_ms"] = restartIn,
                ["last_failure"] = _lastFailure,
                ["idle_pids"] = new JsonArray(_idle.Select(n => (JsonNode)n.Pid).ToArray()),
                ["booting_pids"] = new JsonArray(_booting.Select(n => (JsonNode)n.Pid).ToArray()),
                ["claimed_pids"] = new JsonArray(_claimed.Select(n => (JsonNode)n.Pid).ToArray()),
            };
        }
    }

    /// <summary>Connections with a claimed node still running (call under the gate).</summary>
    private int RunsInProgress() => _connections.Count(c => c.Nodes.Any(n => !n.Exited.Task.IsCompleted));

    private static TimeSpan RestartDelay(int failures) =>
        TimeSpan.FromTicks(Math.Min(MaxRestartDelay.Ticks, FirstRestartDelay.Ticks << Math.Min(failures - 1, 20)));

    private void Refill()
    {
        while (true)
        {
            lock (_gate)
            {
                // No replacements while a run is on (its end calls this again): nodes booting would take its CPU.
                if (_stopping || RunsInProgress() > 0)
                    return;
                if (_failures == 0)
                {
                    if (_idle.Count + _booting.Count >= _size)
                        return;
                    // One node per turn of the gate: status requests and claims get in between.
                    _booting.Add(StartNode());
                    continue;
                }
                RefillAfterFailures();
                return;
            }
        }
    }

    /// <summary>Nodes keep dying unused: one attempt at a time, after a pause that doubles each time (call under the gate).</summary>
    private void RefillAfterFailures()
    {
        var wait = _nextStartAt - DateTime.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            if (!_restartScheduled)
            {
                _restartScheduled = true;
                _ = Task.Delay(wait).ContinueWith(_ =>
                {
                    lock (_gate)
                        _restartScheduled = false;
                    Refill();
                }, TaskScheduler.Default);
            }
            return;
        }
        if (_booting.Count == 0 && _idle.Count < _size)
            _booting.Add(StartNode());
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
        foreach (var (variable, value) in NodeBinary.RuntimeEnvironment)
            info.Environment[variable] = value;
        info.ArgumentList.Add("--pool");
        info.ArgumentList.Add("--warm-up");
        info.ArgumentList.Add(_warmUp.Address.ToString());
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        PoolNode? node = null;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data != "READY" || node is null)
                return;
            bool recovered;
            lock (_gate)
            {
                node.Booted = true;
                if (_booting.Remove(node) && !node.Claimed)
                    _idle.Add(node);
                // A node booted: whatever made nodes die is over; fill the pool again at full speed.
                recovered = _failures > 0;
                _failures = 0;
                _lastFailure = null;
            }
            node.Ready.TrySetResult();
            if (recovered)
                Refill();
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null || node is null)
                return;
            if (!string.IsNullOrWhiteSpace(e.Data))
                node.LastStderr = e.Data;
            node.Stderr?.Invoke(e.Data);
        };
        process.Start();
        node = new PoolNode(process);
        _started++;
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
        // Never on the starting thread: it holds the gate (re-entrant) and files the node only after StartNode
        // returns, so a node that died at once would be unfiled before being filed, and stay "booting" forever.
        await Task.Yield();
        await process.WaitForExitAsync().ConfigureAwait(false);
        var code = SimProcess.PythonExitCode(process.ExitCode);
        bool replace;
        lock (_gate)
        {
            _idle.Remove(node);
            _booting.Remove(node);
            _claimed.Remove(node);
            // An unused node that died (killed from outside, or failing to boot) is replaced, but not in a tight
            // loop: each such death in a row doubles the pause before the next start. Used ones are replaced when
            // their run ends.
            replace = !node.Claimed && !_stopping;
            if (replace)
            {
                _failures++;
                _nextStartAt = DateTime.UtcNow + RestartDelay(_failures);
                _lastFailure = $"node pid {node.Pid} exited with code {code} {(node.Booted ? "while idle" : "before it was ready")}"
                               + (node.LastStderr is { } line ? $": {line}" : "");
            }
        }
        node.Ready.TrySetResult();
        node.Exited.TrySetResult(code);
        process.Dispose();
        if (replace)
            Refill();
    }

    /// <summary>
    /// Nodes for a run's <paramref name="count"/> participants, all or none, atomically with stopping: idle ones
    /// first, else fresh ones that get their work once booted (a cold start). Null with the reason when refused.
    /// </summary>
    private List<PoolNode>? Take(Connection connection, int count, out string? refusal)
    {
        lock (_gate)
        {
            if (_stopping)
            {
                refusal = "it is stopping and hands out no more nodes (run without --pool, or start a new pool once it has stopped)";
                return null;
            }
            if (connection.Nodes.Count + count > _maxClaim)
            {
                refusal = $"one run may claim at most {_maxClaim} nodes, and this one asked for {connection.Nodes.Count + count}";
                return null;
            }
            refusal = null;
            // A pool started on first use learns the size of the runs it serves: the next one as big is all warm.
            if (_grow && connection.Nodes.Count + count > _size)
                _size = connection.Nodes.Count + count;
            var nodes = new List<PoolNode>(count);
            for (var i = 0; i < count; i++)
            {
                _served++;
                PoolNode node;
                if (_idle.Count > 0)
                {
                    node = _idle[0];
                    _idle.RemoveAt(0);
                }
                else if (_booting.FirstOrDefault(n => !n.Claimed) is { } booting)
                {
                    // Half booted beats not started (a pool started on first use is all booting at its first run).
                    node = booting;
                    _booting.Remove(node);
                }
                else
                    node = StartNode();
                node.Claimed = true;
                _claimed.Add(node);
                connection.Nodes.Add(node);
                nodes.Add(node);
            }
            return nodes;
        }
    }

    /// <summary>A claim's participants (name, arguments), or null when the request is malformed.</summary>
    private static List<(string Name, string[] Arguments)>? ParseClaim(JsonObject request)
    {
        try
        {
            return request["nodes"]!.AsArray().Select(entry => (
                entry!["name"]!.GetValue<string>(),
                entry["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray())).ToList();
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    private async Task ServeAsync(Socket socket, Connection connection)
    {
        var writeGate = new SemaphoreSlim(1, 1);
        var closing = _closeConnections.Token;
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
            while (await reader.ReadLineAsync(closing).ConfigureAwait(false) is { } line)
            {
                var request = JsonNode.Parse(line)?.AsObject();
                switch (request?["op"]?.GetValue<string>())
                {
                    case "status":
                        await SendAsync(Status()).ConfigureAwait(false);
                        break;
                    case "wait":
                        await WaitFullAsync(TimeSpan.FromMilliseconds(request["timeout_ms"]?.GetValue<long>() ?? 600_000), closing)
                            .ConfigureAwait(false);
                        await SendAsync(Status()).ConfigureAwait(false);
                        break;
                    case "stop":
                        var (runs, inUse) = BeginStop();
                        await SendAsync(new JsonObject { ["op"] = "stopping", ["pid"] = Environment.ProcessId, ["runs"] = runs, ["in_use"] = inUse })
                            .ConfigureAwait(false);
                        return;
                    case "claim":
                        if (ParseClaim(request) is not { } entries)
                        {
                            await SendAsync(new JsonObject { ["op"] = "error", ["reason"] = "malformed claim" }).ConfigureAwait(false);
                            break;
                        }
                        if (Take(connection, entries.Count, out var refusal) is not { } nodes)
                        {
                            await SendAsync(new JsonObject { ["op"] = "error", ["reason"] = refusal }).ConfigureAwait(false);
                            break;
                        }
                        for (var i = 0; i < nodes.Count; i++)
                        {
                            var (name, arguments) = entries[i];
                            var node = nodes[i];
                            node.Stderr = text => _ = SendAsync(new JsonObject { ["op"] = "stderr", ["name"] = name, ["line"] = text });
                            await SendAsync(new JsonObject { ["op"] = "claimed", ["name"] = name, ["pid"] = node.Pid, ["start_time"] = node.StartTime })
                                .ConfigureAwait(false);
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
        catch (Exception e) when (e is IOException or OperationCanceledException or JsonException or InvalidOperationException)
        {
        }
        finally
        {
            List<PoolNode> mine;
            lock (_gate)
            {
                mine = connection.Nodes.ToList();
                _connections.Remove(connection);
                if (_connections.Count == 0)
                    _idleSince = DateTime.UtcNow;
            }
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
                // A stopping pool never fills again, nor one whose nodes keep dying: say so now, not at the deadline.
                if (_idle.Count >= _size || _stopping || _failures >= WarmPool.FailuresBeforeWaitGivesUp)
                    return;
            }
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops taking work (idempotent): no new connection, no new claim, no replacement; idle and booting nodes are
    /// told there is no work (stdin closed: they exit 0). Claimed nodes run on. Returns the runs and nodes in use.
    /// </summary>
    private (int Runs, int InUse) BeginStop()
    {
        List<PoolNode> unclaimed;
        int runs, inUse;
        lock (_gate)
        {
            _stopping = true;
            unclaimed = _idle.Concat(_booting).ToList();
            runs = RunsInProgress();
            inUse = _claimed.Count;
        }
        _stopAccepting.Cancel();
        foreach (var node in unclaimed)
            node.CloseStdin();
        return (runs, inUse);
    }

    /// <summary>
    /// After accepting stopped: every run in progress ends as its launcher decides (its connection stays served,
    /// its nodes run on); a launcher whose nodes have all ended gets 10 s to hang up. Then the rest is closed and
    /// whatever of ours still runs is killed.
    /// </summary>
    private async Task ShutDownAsync()
    {
        BeginStop();
        List<PoolNode> unclaimed;
        List<Connection> connections;
        List<(Task Served, List<PoolNode> Nodes)> runs;
        lock (_gate)
        {
            unclaimed = _idle.Concat(_booting).ToList();
            _idle.Clear();
            _booting.Clear();
            connections = _connections.ToList();
            // Claims are refused from now on: these lists are final.
            runs = connections.Where(c => c.Nodes.Count > 0).Select(c => (c.Served, c.Nodes.ToList())).ToList();
        }
        await Task.WhenAll(runs.Select(r => RunOverAsync(r.Served, r.Nodes))).ConfigureAwait(false);

        // Nodes of launchers that hung up were told so by their stdin and end within seconds; a claimed node still
        // running well after that is killed (it is our child and its run is gone).
        List<PoolNode> claimed;
        lock (_gate)
            claimed = _claimed.ToList();
        await EndAsync(claimed, TimeSpan.FromSeconds(15)).ConfigureAwait(false);

        await _closeConnections.CancelAsync().ConfigureAwait(false);
        await Task.WhenAny(Task.WhenAll(connections.Select(c => c.Served)), Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
        await EndAsync(unclaimed, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
    }

    /// <summary>A run is over when its launcher hangs up, or 10 s after its last node ended.</summary>
    private static async Task RunOverAsync(Task served, List<PoolNode> nodes)
    {
        var allEnded = Task.WhenAll(nodes.Select(n => n.Exited.Task));
        var grace = allEnded.ContinueWith(_ => Task.Delay(TimeSpan.FromSeconds(10)), TaskScheduler.Default).Unwrap();
        await Task.WhenAny(served, grace).ConfigureAwait(false);
    }

    /// <summary>Waits up to <paramref name="grace"/> for <paramref name="nodes"/> to end; kills (our children's groups) what is left.</summary>
    private static async Task EndAsync(List<PoolNode> nodes, TimeSpan grace)
    {
        var all = Task.WhenAll(nodes.Select(n => n.Exited.Task));
        if (await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false) == all)
            return;
        // Not yet reaped (Exited is set after the reap), so each pid is still our child's.
        foreach (var node in nodes.Where(n => !n.Exited.Task.IsCompleted))
            Posix.kill(-node.Pid, Posix.SIGKILL);
        await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(5))).ConfigureAwait(false);
    }
}
