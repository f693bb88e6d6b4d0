using System.Diagnostics;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Configuration;

namespace Sim.Launcher;

/// <summary>
/// The engine without Sim, for <c>sim bench</c>: two plain Akka.NET remote nodes in two processes, an echo
/// actor, request/response round trips of a string. Shows what Sim adds on top of Akka.Remote.
/// </summary>
public static class RawAkka
{
    public const string EchoCommand = "_raw-akka-echo";

    private static Config Plain() => ConfigurationFactory.ParseString("""
        akka.loglevel = OFF
        akka.stdout-loglevel = OFF
        akka.actor.provider = remote
        akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
        akka.remote.dot-netty.tcp.port = 0
        """);

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }

    /// <summary>The child: hosts the echo actor, prints its address, lives until its stdin closes.</summary>
    public static async Task<int> RunEchoAsync()
    {
        using var system = ActorSystem.Create("raw", Plain());
        system.ActorOf(Props.Create(() => new Echo()), "echo");
        Console.WriteLine($"ADDRESS {((ExtendedActorSystem)system).Provider.DefaultAddress}");
        await Task.Run(() => Console.In.ReadToEnd());
        await system.Terminate();
        return 0;
    }

    /// <summary>The parent: <paramref name="messages"/> round trips of a 64-character string; median and p99 in µs.</summary>
    public static async Task<JsonObject> MeasureRoundTripsAsync(int messages, CancellationToken cancellationToken)
    {
        var info = SelfProcess.StartInfo([EchoCommand]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardInput = true;
        using var child = Process.Start(info)!;
        try
        {
            string? line;
            do
                line = await child.StandardOutput.ReadLineAsync(cancellationToken);
            while (line is not null && !line.StartsWith("ADDRESS ", StringComparison.Ordinal));
            var address = line?["ADDRESS ".Length..] ?? throw new RunFailedException("raw Akka echo node did not start");
            using var system = ActorSystem.Create("raw", Plain());
            var echo = await system.ActorSelection($"{address}/user/echo").ResolveOne(TimeSpan.FromSeconds(30), cancellationToken);
            var payload = new string('x', 64);
            // Warm-up: the first messages pay for connection set-up and JIT.
            for (var i = 0; i < 200; i++)
                await echo.Ask<string>(payload, TimeSpan.FromSeconds(10), cancellationToken);
            var rtts = new List<double>(messages);
            var clock = new Stopwatch();
            for (var i = 0; i < messages; i++)
            {
                clock.Restart();
                await echo.Ask<string>(payload, TimeSpan.FromSeconds(10), cancellationToken);
                rtts.Add(clock.Elapsed.TotalMicroseconds);
            }
            rtts.Sort();
            await system.Terminate();
            return new JsonObject
            {
                ["rtt_median_us"] = Math.Round(rtts[rtts.Count / 2], 1),
                ["rtt_p99_us"] = Math.Round(rtts[Math.Min(rtts.Count - 1, (int)Math.Ceiling(0.99 * rtts.Count) - 1)], 1),
            };
        }
        finally
        {
            child.StandardInput.Close();
            if (!child.WaitForExit(5000))
                child.Kill(entireProcessTree: true);
        }
    }
}
