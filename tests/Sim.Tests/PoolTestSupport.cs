using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Sim.Launcher;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// Runs <c>sim</c> with extra environment variables for that process only (SIM_NODE, SIM_POOL_SOCKET), so no test
/// changes what the scenario tests of other classes inherit. Hard timeout; the tree is killed on failure.
/// </summary>
internal static class SimWithEnv
{
    public static async Task<CliResult> RunAsync(TimeSpan hardTimeout, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sim.dll"));
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        foreach (var (key, value) in environment)
            info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(hardTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"sim {string.Join(' ', args)} did not end within {hardTimeout}; killed its tree");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>Leaves no pool behind: stops it, waits for its server, then kills (only Sim processes) whatever it knew of.</summary>
internal static class PoolTeardown
{
    public static async Task RunAsync(string socket, IEnumerable<int> known)
    {
        var pids = known.ToHashSet();
        try
        {
            if (await WarmPool.TryConnectAsync(socket) is { } pool)
            {
                await using (pool)
                {
                    var status = await pool.StatusAsync();
                    pids.Add(status["pid"]!.GetValue<int>());
                    foreach (var key in new[] { "idle_pids", "booting_pids", "claimed_pids" })
                        pids.UnionWith(status[key]?.AsArray().Select(p => p!.GetValue<int>()) ?? []);
                }
                if (await WarmPool.RequestStopAsync(socket) is { } stop)
                    await WarmPool.AwaitServerExitAsync(stop.ServerPid, TimeSpan.FromSeconds(30));
            }
        }
        catch (Exception e) when (e is UsageException or IOException or OperationCanceledException or RunFailedException)
        {
            // A test left the folder unusable or the server broken: the pids below still go.
        }
        foreach (var pid in pids.Where(IsSim))
        {
            try
            {
                Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
            }
        }
    }

    /// <summary>Still running and a Sim program (a pid seen earlier may belong to someone else by now).</summary>
    public static bool IsSim(int pid)
    {
        if (!ProcFs.IsRunning(pid))
            return false;
        try
        {
            var command = File.ReadAllText($"/proc/{pid}/cmdline");
            return command.Contains("Sim.Node", StringComparison.Ordinal) || command.Contains("sim", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}

/// <summary>
/// A stand-in for the pool server inside the test process (so the socket's peer is this process): answers each
/// request line with what <c>answer</c> returns, and can push lines (an "exited") to the last connection.
/// </summary>
internal sealed class FakePoolServer : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<JsonObject, IEnumerable<JsonObject>> _answer;
    private readonly Task _serving;
    private StreamWriter? _last;

    public FakePoolServer(string path, Func<JsonObject, IEnumerable<JsonObject>> answer)
    {
        _answer = answer;
        _listener.Bind(new UnixDomainSocketEndPoint(path));
        _listener.Listen(8);
        _serving = AcceptAsync();
    }

    private async Task AcceptAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
                connections.Add(ServeAsync(await _listener.AcceptAsync(_stop.Token)));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(Socket socket)
    {
        using var stream = new NetworkStream(socket, ownsSocket: true);
        using var reader = new StreamReader(stream);
        var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
        _last = writer;
        try
        {
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                foreach (var reply in _answer(JsonNode.Parse(line)!.AsObject()))
                    await writer.WriteLineAsync(reply.ToJsonString());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
        }
    }

    public Task PushAsync(JsonObject message) => _last!.WriteLineAsync(message.ToJsonString());

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _serving.WaitAsync(TimeSpan.FromSeconds(5));
    }
}
