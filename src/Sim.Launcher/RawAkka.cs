using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.Serialization;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace Sim.Launcher;

/// <summary>
/// The engine without Sim, for <c>sim bench</c>: the floor that "ratio to raw Akka" compares with. Two plain
/// Akka.NET remote nodes in two processes with default runtime and Akka settings (none of Sim's), a tiny binary
/// serializer, a pinger actor that keeps exactly one request outstanding (no <c>Ask</c>, no temporary actor per
/// request), and thousands of warm-up round trips before anything is timed.
/// </summary>
public static class RawAkka
{
    public const string EchoCommand = "_raw-akka-echo";

    /// <summary>What the pinger does: echo round trips, or a lock client's uncontended acquire and release.</summary>
    public enum Pattern { RoundTrip, LockAcquire }

    /// <summary>A measured pattern: the median and p99 of <paramref name="Samples"/> timed requests, in µs.</summary>
    public sealed record Result(Pattern Pattern, int WarmUpRoundTrips, int Samples, double MedianUs, double P99Us)
    {
        public JsonObject ToJson() => new()
        {
            ["pattern"] = Pattern == Pattern.RoundTrip ? "round_trip" : "lock_acquire",
            ["warm_up_round_trips"] = WarmUpRoundTrips,
            ["samples"] = Samples,
            ["median_us"] = MedianUs,
            ["p99_us"] = P99Us,
        };
    }

    // The wire: a marker for the serializer binding, and the few messages of the two patterns.
    public interface IRawMessage;

    public sealed record Ping(long Seq, byte[] Payload) : IRawMessage;

    public sealed record Acquire(long Seq) : IRawMessage;

    public sealed record Granted(long Seq) : IRawMessage;

    public sealed record Release(long Seq) : IRawMessage;

    public sealed record Released(long Seq) : IRawMessage;

    /// <summary>A sequence number and, for a ping, its payload as is: the least a binary serializer can do.</summary>
    public sealed class WireSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
    {
        public override int Identifier => 4712;

        public override string Manifest(object o) => o switch
        {
            Ping => "p",
            Acquire => "a",
            Granted => "g",
            Release => "r",
            Released => "d",
            _ => throw new ArgumentException($"{o.GetType()} is not a raw bench message"),
        };

        public override byte[] ToBinary(object obj)
        {
            var (seq, payload) = obj switch
            {
                Ping p => (p.Seq, p.Payload),
                Acquire a => (a.Seq, Array.Empty<byte>()),
                Granted g => (g.Seq, Array.Empty<byte>()),
                Release r => (r.Seq, Array.Empty<byte>()),
                Released d => (d.Seq, Array.Empty<byte>()),
                _ => throw new ArgumentException($"{obj.GetType()} is not a raw bench message"),
            };
            var bytes = new byte[8 + payload.Length];
            BinaryPrimitives.WriteInt64LittleEndian(bytes, seq);
            payload.CopyTo(bytes, 8);
            return bytes;
        }

        public override object FromBinary(byte[] bytes, string manifest)
        {
            if (bytes.Length < 8)
                throw new SerializationException($"raw bench message of {bytes.Length} bytes");
            var seq = BinaryPrimitives.ReadInt64LittleEndian(bytes);
            return manifest switch
            {
                "p" => new Ping(seq, bytes[8..]),
                "a" => new Acquire(seq),
                "g" => new Granted(seq),
                "r" => new Release(seq),
                "d" => new Released(seq),
                _ => throw new SerializationException($"unknown raw bench manifest '{manifest}'"),
            };
        }
    }

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    private static Config Plain() => ConfigurationFactory.ParseString($$"""
        akka.loglevel = OFF
        akka.stdout-loglevel = OFF
        akka.actor.provider = remote
        akka.actor.serializers.raw-bench = "{{TypeName(typeof(WireSerializer))}}"
        akka.actor.serialization-bindings { "{{TypeName(typeof(IRawMessage))}}" = raw-bench }
        akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
        akka.remote.dot-netty.tcp.port = 0
        """);

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<Ping>(m => Sender.Tell(m));
    }

    /// <summary>The least a lock server does: one holder, a FIFO of waiters, a release answered.</summary>
    private sealed class LockServer : ReceiveActor
    {
        private readonly Queue<(IActorRef Client, long Seq)> _waiting = new();
        private IActorRef? _holder;

        public LockServer()
        {
            Receive<Acquire>(m =>
            {
                if (_holder is null)
                {
                    _holder = Sender;
                    Sender.Tell(new Granted(m.Seq));
                }
                else
                    _waiting.Enqueue((Sender, m.Seq));
            });
            Receive<Release>(m =>
            {
                if (!Sender.Equals(_holder))
                    return;
                Sender.Tell(new Released(m.Seq));
                _holder = null;
                if (_waiting.TryDequeue(out var next))
                {
                    _holder = next.Client;
                    next.Client.Tell(new Granted(next.Seq));
                }
            });
        }
    }

    /// <summary>Starts a measurement; <see cref="Done"/> gets the timed samples, in µs.</summary>
    private sealed record Go(Pattern Pattern, IActorRef Server, int WarmUpCycles, int Samples, TaskCompletionSource<double[]> Done);

    /// <summary>
    /// Keeps exactly one request outstanding: the next goes out when the answer to the last comes in, so each
    /// sample is one request's latency and nothing queues behind it.
    /// </summary>
    private sealed class Pinger : ReceiveActor
    {
        private static readonly byte[] Payload = new byte[64];
        private Go? _go;
        private double[] _samples = [];
        private int _cycle;
        private long _sentAt;

        public Pinger()
        {
            Receive<Go>(go =>
            {
                _go = go;
                _samples = new double[go.Samples];
                _cycle = 0;
                Send();
            });
            Receive<Ping>(_ => Answered());
            Receive<Granted>(m =>
            {
                Record();
                Sender.Tell(new Release(m.Seq));
            });
            Receive<Released>(_ => Next());
        }

        private void Send()
        {
            _sentAt = Stopwatch.GetTimestamp();
            if (_go!.Pattern == Pattern.RoundTrip)
                _go.Server.Tell(new Ping(_cycle, Payload));
            else
                _go.Server.Tell(new Acquire(_cycle));
        }

        private void Answered()
        {
            Record();
            Next();
        }

        private void Record()
        {
            var elapsed = Stopwatch.GetElapsedTime(_sentAt).TotalMicroseconds;
            var index = _cycle - _go!.WarmUpCycles;
            if (index >= 0)
                _samples[index] = elapsed;
        }

        private void Next()
        {
            _cycle++;
            if (_cycle < _go!.WarmUpCycles + _go.Samples)
                Send();
            else
                _go.Done.TrySetResult(_samples);
        }
    }

    /// <summary>The child: hosts the echo actor and the lock server, prints its address, lives until its stdin closes.</summary>
    public static async Task<int> RunEchoAsync()
    {
        using var system = ActorSystem.Create("raw", Plain());
        system.ActorOf(Props.Create(() => new Echo()), "echo");
        system.ActorOf(Props.Create(() => new LockServer()), "lock");
        Console.WriteLine($"ADDRESS {((ExtendedActorSystem)system).Provider.DefaultAddress}");
        await Task.Run(() => Console.In.ReadToEnd());
        await system.Terminate();
        return 0;
    }

    /// <summary>
    /// The parent: for each pattern, <paramref name="warmUpRoundTrips"/> untimed round trips (a lock cycle is two),
    /// then <paramref name="samples"/> timed requests (a round trip; a lock's request to grant).
    /// </summary>
    public static async Task<IReadOnlyDictionary<Pattern, Result>> MeasureAsync(IEnumerable<Pattern> patterns, int warmUpRoundTrips,
        int samples, CancellationToken cancellationToken)
    {
        var info = SelfProcess.StartInfo([EchoCommand]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardInput = true;
        using var child = Process.Start(info)!;
        try
        {
            using var started = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            started.CancelAfter(TimeSpan.FromSeconds(60));
            string? line;
            do
                line = await child.StandardOutput.ReadLineAsync(started.Token);
            while (line is not null && !line.StartsWith("ADDRESS ", StringComparison.Ordinal));
            var address = line?["ADDRESS ".Length..] ?? throw new RunFailedException("raw Akka echo node did not start");
            using var system = ActorSystem.Create("raw", Plain());
            var pinger = system.ActorOf(Props.Create(() => new Pinger()), "pinger");
            var results = new Dictionary<Pattern, Result>();
            foreach (var pattern in patterns.Distinct())
            {
                var name = pattern == Pattern.RoundTrip ? "echo" : "lock";
                var server = await system.ActorSelection($"{address}/user/{name}").ResolveOne(TimeSpan.FromSeconds(30), cancellationToken);
                var cycles = pattern == Pattern.RoundTrip ? warmUpRoundTrips : Math.Max(1, warmUpRoundTrips / 2);
                var done = new TaskCompletionSource<double[]>(TaskCreationOptions.RunContinuationsAsynchronously);
                pinger.Tell(new Go(pattern, server, cycles, samples, done));
                // Generous: ~250 µs a round trip here, but the machine is shared.
                var timeout = TimeSpan.FromSeconds(60) + TimeSpan.FromMilliseconds(5.0 * (warmUpRoundTrips + 2 * samples));
                double[] timed;
                try
                {
                    timed = await done.Task.WaitAsync(timeout, cancellationToken);
                }
                catch (TimeoutException)
                {
                    throw new RunFailedException($"raw Akka {name}: not done within {timeout.TotalSeconds:0} s");
                }
                Array.Sort(timed);
                results[pattern] = new Result(pattern, pattern == Pattern.RoundTrip ? cycles : 2 * cycles, timed.Length,
                    Math.Round(timed[timed.Length / 2], 1),
                    Math.Round(timed[Math.Min(timed.Length - 1, (int)Math.Ceiling(0.99 * timed.Length) - 1)], 1));
            }
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, CancellationToken.None);
            return results;
        }
        finally
        {
            child.StandardInput.Close();
            if (!child.WaitForExit(5000))
                child.Kill(entireProcessTree: true);
        }
    }
}
