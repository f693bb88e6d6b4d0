using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// Bytes on the coordinator's port that are not Sim: random bytes, a connection that never speaks, a frame larger than
/// the maximum, a frame of garbage, and a real Akka.NET system of another name sending what Sim does not speak. The run
/// goes on and its outcome is whole.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class HostileWireTests : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-wire-").FullName;

    [Fact]
    public async Task Garbage_on_the_coordinators_port_does_not_disturb_the_run()
    {
        var json = Path.Combine(_folder, "run.json");
        var db = Path.Combine(_folder, "tickets.json");
        using var cli = SimCli.Start("tickets", "--buyers", "3", "--tickets", "3", "--delay-ms", "1000", "--db", db, "--json", json);
        await cli.WaitForOutputAsync("all 3 ready", TimeSpan.FromSeconds(90));
        var port = Assert.Single(ListeningTcpPorts(cli.Pid));

        var idle = new List<TcpClient>();
        using var intruder = ActorSystem.Create("intruder", ConfigurationFactory.ParseString(
            "akka.actor.provider = remote\nakka.remote.dot-netty.tcp.hostname = 127.0.0.1\nakka.remote.dot-netty.tcp.port = 0\nakka.loglevel = OFF"));
        try
        {
            for (var round = 0; round < 4; round++)
            {
                await SendAsync(port, Random.Shared.GetItems<byte>(Enumerable.Range(0, 256).Select(b => (byte)b).ToArray(), 64 * 1024));
                await SendAsync(port, [0x7F, 0xFF, 0xFF, 0xFF, .. new byte[100]]);
                await SendAsync(port, [0, 0, 0, 10, .. "0123456789"u8.ToArray()]);
                // A connection that never speaks, kept open for the rest of the run.
                var silent = new TcpClient();
                await silent.ConnectAsync("127.0.0.1", port);
                idle.Add(silent);
                // A real Akka.NET handshake from a system of another name, then messages in a format Sim refuses.
                var target = intruder.ActorSelection($"akka.tcp://sim@127.0.0.1:{port}/user/lock-manager");
                target.Tell("acquire everything");
                target.Tell(new Identify(round));
                await Task.Delay(300);
            }

            var run = await cli.WaitAsync(HardTimeout);
            Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);
            // Each hostile connection is one line on stderr naming its peer, never a stack trace.
            var refused = run.Stderr.Split('\n').Where(l => l.Contains("refused input from 127.0.0.1:", StringComparison.Ordinal)).ToList();
            Assert.True(refused.Count >= 8, run.Stderr);
            Assert.Equal(refused.Count, refused.Distinct().Count());
            Assert.Contains(refused, l => l.Contains("not Akka.Remote framing", StringComparison.Ordinal));
            Assert.Contains(run.Stderr.Split('\n'), l => l.Contains("refused input from akka.tcp://intruder@127.0.0.1:", StringComparison.Ordinal)
                && l.Contains("quarantined", StringComparison.Ordinal));
            Assert.DoesNotContain("   at ", run.Stderr);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var tickets = doc.RootElement.GetProperty("tickets");
            Assert.Equal(3, tickets.GetProperty("sold").GetInt32());
            Assert.Equal(0, tickets.GetProperty("oversold").GetInt32());
            Assert.Equal(0, tickets.GetProperty("lost_updates").GetInt32());
            Assert.All(doc.RootElement.GetProperty("processes").EnumerateArray(), p => Assert.Equal(0, p.GetProperty("exitcode").GetInt32()));
            using var file = JsonDocument.Parse(File.ReadAllText(db));
            Assert.Equal(0, file.RootElement.GetProperty("count").GetInt32());
        }
        finally
        {
            foreach (var client in idle)
                client.Dispose();
        }
    }

    private static async Task SendAsync(int port, byte[] bytes)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        try
        {
            await client.GetStream().WriteAsync(bytes).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is IOException or SocketException or TimeoutException)
        {
            // The coordinator may close the connection while we are still writing: that is what it should do.
        }
    }

    /// <summary>The TCP ports process <paramref name="pid"/> listens on, from /proc (its socket inodes in the LISTEN state).</summary>
    private static IReadOnlyList<int> ListeningTcpPorts(int pid)
    {
        var inodes = new HashSet<string>();
        foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
        {
            if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                inodes.Add(target["socket:[".Length..^1]);
        }
        var ports = new List<int>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // local_address is HEXIP:HEXPORT; state 0A is LISTEN; the inode is the tenth field.
                if (fields.Length > 9 && fields[3] == "0A" && inodes.Contains(fields[9]))
                    ports.Add(int.Parse(fields[1][(fields[1].IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        return ports.Distinct().ToList();
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
