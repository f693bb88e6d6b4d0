using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
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
    public const string LockerCommand = "_raw-akka-locker";
    public const string MeasureCommand = "_raw-akka-measure";

    /// <summary>
    /// What is measured: echo round trips, a lock client's uncontended acquire and release (both latencies, µs), or
    /// <see cref="LockHandoffsProcesses"/> lock clients in processes of their own contending for one lock (handoffs/s).
    /// </summary>
    public enum Pattern { RoundTrip, LockAcquire, LockHandoffs }

    /// <summary>Contending lock clients of <see cref="Pattern.LockHandoffs"/>: as many as `sim bench`'s lock-handoffs figure has.</summary>
    public const int LockHandoffsProcesses = 4;

    public static string Describe(Pattern pattern) => pattern switch
    {
        Pattern.RoundTrip => "round_trip",
        Pattern.LockAcquire => "lock_acquire",
        _ => "lock_handoffs",
    };

    /// <summary>
    /// A measured pattern: for latencies the median and p99 of <paramref name="Samples"/> timed requests, in µs; for
    /// handoffs the rate over <paramref name="Samples"/> acquires, per second (no p99).
    /// </summary>
    public sealed record Result(Pattern Pattern, int WarmUpRoundTrips, int Samples, double Median, double? P99);

    // The wire: a marker for the serializer binding, and the few messages of the two patterns.
    public interface IRawMessage;

    public sealed record Ping(long Seq, byte[] Payload) : IRawMessage;

    public sealed record Acquire(long Seq) : IRawMessage;

    public sealed record Granted(long Seq) : IRawMessage;

    public sealed record Release(long Seq) : IRawMessage;

    /// <summary>A release nobody waits for, as Sim's locker sends at the end of its critical section.</summary>
    public sealed record ReleaseOneWay(long Seq) : IRawMessage;

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
            ReleaseOneWay => "n",
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
                ReleaseOneWay n => (n.Seq, Array.Empty<byte>()),
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
                "n" => new ReleaseOneWay(seq),
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
                PassOn();
            });
            Receive<ReleaseOneWay>(_ =>
            {
                if (Sender.Equals(_holder))
                    PassOn();
            });
        }

        private void PassOn()
        {
            _holder = null;
            if (_waiting.TryDequeue(out var next))
            {
                _holder = next.Client;
                next.Client.Tell(new Granted(next.Seq));
            }
        }
    }

    /// <summary>A contending lock client at full speed: on a grant it releases one-way and asks again at once.</summary>
    private sealed class Locker : ReceiveActor
    {
        public sealed record Run(IActorRef Server, int Cycles, TaskCompletionSource Done);

        private Run? _run;
        private int _left;

        public Locker()
        {
            Receive<Run>(run =>
            {
                _run = run;
                _left = run.Cycles;
                run.Server.Tell(new Acquire(0));
            });
            Receive<Granted>(m =>
            {
                Sender.Tell(new ReleaseOneWay(m.Seq));
                if (--_left > 0)
                    Sender.Tell(new Acquire(m.Seq + 1));
                else
                    _run!.Done.TrySetResult();
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
    /// A contending lock client in a process of its own: resolves the lock server, says READY; on WARM it does
    /// <paramref name="warmUp"/> untimed cycles and says WARMED; on GO, <paramref name="acquires"/> cycles and says DONE;
    /// it lives until its stdin closes. The parent times from GO to the last DONE.
    /// </summary>
    public static async Task<int> RunLockerAsync(string serverPath, int warmUp, int acquires)
    {
        using var system = ActorSystem.Create("raw", Plain());
        var server = await system.ActorSelection(serverPath).ResolveOne(TimeSpan.FromSeconds(30));
        var locker = system.ActorOf(Props.Create(() => new Locker()), "locker");
        async Task<bool> PhaseAsync(string command, int cycles, string reply)
        {
            if (await Console.In.ReadLineAsync() != command)
                return false;
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            locker.Tell(new Locker.Run(server, cycles, done));
            await done.Task.WaitAsync(TimeSpan.FromMinutes(10));
            Console.WriteLine(reply);
            return true;
        }
        Console.WriteLine("READY");
        if (await PhaseAsync("WARM", warmUp, "WARMED") && await PhaseAsync("GO", acquires, "DONE"))
            await Task.Run(() => Console.In.ReadToEnd());
        await system.Terminate();
        return 0;
    }

    /// <summary>
    /// The parent of <see cref="Pattern.LockHandoffs"/>: hosts the lock server, as Sim's launcher hosts the lock
    /// manager, and starts <see cref="LockHandoffsProcesses"/> lockers; handoffs per second over their timed cycles.
    /// </summary>
    private static async Task<Result> MeasureHandoffsAsync(int warmUpCycles, int acquires, CancellationToken cancellationToken)
    {
        using var system = ActorSystem.Create("raw", Plain());
        system.ActorOf(Props.Create(() => new LockServer()), "lock");
        var serverPath = $"{((ExtendedActorSystem)system).Provider.DefaultAddress}/user/lock";
        var lockers = new List<Process>();
        try
        {
            for (var i = 0; i < LockHandoffsProcesses; i++)
            {
                var info = SelfProcess.StartInfo([LockerCommand, serverPath, warmUpCycles.ToString(), acquires.ToString()]);
                info.RedirectStandardOutput = true;
                info.RedirectStandardInput = true;
                lockers.Add(Process.Start(info)!);
            }
            async Task AllSayAsync(string word, TimeSpan within)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(within);
                try
                {
                    await Task.WhenAll(lockers.Select(async p =>
                    {
                        if (await p.StandardOutput.ReadLineAsync(timeout.Token) != word)
                            throw new RunFailedException($"raw Akka locker {p.Id} did not say {word}");
                    }));
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new RunFailedException($"raw Akka lockers: not all said {word} within {within.TotalSeconds:0} s");
                }
            }
            void TellAll(string word)
            {
                foreach (var p in lockers)
                {
                    p.StandardInput.WriteLine(word);
                    p.StandardInput.Flush();
                }
            }
            await AllSayAsync("READY", TimeSpan.FromSeconds(60));
            TellAll("WARM");
            await AllSayAsync("WARMED", TimeSpan.FromSeconds(60) + TimeSpan.FromMilliseconds(5.0 * LockHandoffsProcesses * warmUpCycles));
            TellAll("GO");
            var clock = Stopwatch.StartNew();
            await AllSayAsync("DONE", TimeSpan.FromSeconds(60) + TimeSpan.FromMilliseconds(5.0 * LockHandoffsProcesses * acquires));
            var total = LockHandoffsProcesses * acquires;
            return new Result(Pattern.LockHandoffs, LockHandoffsProcesses * warmUpCycles, total, Math.Round(total / clock.Elapsed.TotalSeconds, 1), null);
        }
        finally
        {
            foreach (var p in lockers)
            {
                try
                {
                    p.StandardInput.Close();
                    if (!p.WaitForExit(5000))
                        p.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // never started
                }
                p.Dispose();
            }
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, CancellationToken.None);
        }
    }

    /// <summary>
    /// Measures <paramref name="patterns"/> in a process of their own (<see cref="MeasureCommand"/>) started with .NET's
    /// default runtime settings: the launcher's own (no dynamic PGO, Sim.Launcher.csproj) are not the baseline's.
    /// </summary>
    public static async Task<IReadOnlyDictionary<Pattern, Result>> MeasureAsync(IEnumerable<Pattern> patterns, int warmUpRoundTrips,
        int samples, CancellationToken cancellationToken)
    {
        var info = SelfProcess.StartInfo([MeasureCommand, string.Join(",", patterns.Distinct()), warmUpRoundTrips.ToString(), samples.ToString()]);
        info.Environment["DOTNET_TieredPGO"] = "1";
        info.Environment[ThreadPoolSpin.EnvironmentVariable] = ThreadPoolSpin.DotnetDefault; // whatever the caller's
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var child = Process.Start(info)!;
        try
        {
            var output = child.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = child.StandardError.ReadToEndAsync(cancellationToken);
            await child.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMinutes(15), cancellationToken);
            var results = new Dictionary<Pattern, Result>();
            foreach (var line in (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var parts = line.Split(' ');
                if (parts is ["RESULT", var name, var warm, var count, var median, var p99])
                    results[Enum.Parse<Pattern>(name)] = new Result(Enum.Parse<Pattern>(name), int.Parse(warm, CultureInfo.InvariantCulture),
                        int.Parse(count, CultureInfo.InvariantCulture), double.Parse(median, CultureInfo.InvariantCulture),
                        p99 == "-" ? null : double.Parse(p99, CultureInfo.InvariantCulture));
            }
            if (child.ExitCode != 0 || results.Count == 0)
                throw new RunFailedException($"raw Akka measurement failed (exit {child.ExitCode}): {(await errors).Trim()}");
            return results;
        }
        catch (TimeoutException)
        {
            throw new RunFailedException("raw Akka measurement: not done within 15 minutes");
        }
        finally
        {
            if (!child.HasExited)
                child.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The child of <see cref="MeasureAsync"/>: measures here and prints one RESULT line per pattern.</summary>
    public static async Task<int> RunMeasureAsync(string patterns, int warmUpRoundTrips, int samples, CancellationToken cancellationToken)
    {
        var wanted = patterns.Split(',').Select(Enum.Parse<Pattern>).ToList();
        try
        {
            foreach (var (pattern, result) in await MeasureHereAsync(wanted, warmUpRoundTrips, samples, cancellationToken))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"RESULT {pattern} {result.WarmUpRoundTrips} {result.Samples} {result.Median} {(result.P99 is { } p99 ? p99.ToString(CultureInfo.InvariantCulture) : "-")}"));
            return 0;
        }
        catch (RunFailedException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
    }

    /// <summary>
    /// The parent: for each latency pattern, <paramref name="warmUpRoundTrips"/> untimed round trips (a lock cycle is
    /// two), then <paramref name="samples"/> timed requests (a round trip; a lock's request to grant). Lock handoffs:
    /// a tenth of the warm-up and a quarter of the samples per contending client.
    /// </summary>
    public static async Task<IReadOnlyDictionary<Pattern, Result>> MeasureHereAsync(IEnumerable<Pattern> patterns, int warmUpRoundTrips,
        int samples, CancellationToken cancellationToken)
    {
        var wanted = patterns.Distinct().ToList();
        var results = new Dictionary<Pattern, Result>();
        if (wanted.Remove(Pattern.LockHandoffs))
            results[Pattern.LockHandoffs] = await MeasureHandoffsAsync(Math.Max(1, warmUpRoundTrips / 10),
                Math.Max(1, samples / LockHandoffsProcesses), cancellationToken);
        if (wanted.Count == 0)
            return results;
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
            foreach (var pattern in wanted)
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
