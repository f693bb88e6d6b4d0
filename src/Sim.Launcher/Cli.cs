using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using Sim.Core;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Sim.Launcher.Reports;
using Spectre.Console;

namespace Sim.Launcher;

/// <summary>A usage error found after parsing (e.g. an unwritable path): one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>The <c>sim</c> command line.</summary>
public static class Cli
{
    public const int UsageExitCode = 2;

    // Signals are handled in RunAsync, which ends and reaps every child (bounded waits) before exiting.
    private static readonly InvocationConfiguration Invocation = new() { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };

    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            // "Required command was not provided" says less than the word it did not recognise: name that first.
            var error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parsed.Errors[0];
            Console.Error.WriteLine($"sim: {OneLine(error.Message)}");
            return UsageExitCode;
        }
        if (parsed.GetValue(ValidateOnly))
        {
            var command = parsed.CommandResult.Command;
            if (command is not RootCommand && !command.Options.Contains(ClusterCli.ClusterOption))
            {
                Console.Error.WriteLine($"sim: --validate-only does not apply to '{command.Name}'");
                return UsageExitCode;
            }
            ModelScenario.ValidateOnly = true;
        }
        // A sweep's --pool is its runs' start method (see Sweep.SweepRunner), not this process's.
        if (parsed.GetValue(UsePool) && parsed.CommandResult.Command.Name != "sweep")
        {
            var command = parsed.CommandResult.Command.Name;
            if (command is "lifecycle" or "bench" or "pool" or "start" or "stop" or "status" or "wait" or "agent" or "cluster" or "new")
            {
                Console.Error.WriteLine($"sim: --pool does not apply to '{command}'");
                return UsageExitCode;
            }
            ScenarioRun.UseWarmPool = true;
        }
        try
        {
            // forkserver: the warm pool, started on first use (--pool: one started by hand).
            if (StartMethods.Resolve(parsed, ScenarioRun.UseWarmPool) == StartMethod.Forkserver && !ScenarioRun.UseWarmPool)
            {
                ScenarioRun.UseWarmPool = true;
                ScenarioRun.StartPoolIdleTimeout = StartMethods.IdleTimeout();
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"sim: {OneLine(e.Message)}");
            return UsageExitCode;
        }
        // Ctrl-C and SIGTERM cancel the run; the run then ends and reaps every child before we exit.
        using var interrupt = new CancellationTokenSource();
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            interrupt.Cancel();
        }
        // A run on the warm pool also ends when its pool server goes away mid-run (see WarmPool.LostToken), a run
        // across the cluster when the cluster downs this launcher (ClusterHome.DownedToken).
        using var run = ScenarioRun.UseWarmPool
            ? CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token, WarmPool.LostToken)
            : CancellationTokenSource.CreateLinkedTokenSource(interrupt.Token, Cluster.ClusterHome.DownedToken);
        try
        {
            ClusterCli.Apply(parsed, ScenarioRun.UseWarmPool);
            Reports.RecordingCli.Apply(parsed);
            // Our own handler below keeps errors to one line; the default one prints stack traces.
            var code = await parsed.InvokeAsync(Invocation, run.Token);
            return PoolLost() ?? code;
        }
        catch (Exception) when (PoolLost() is { } lost)
        {
            return lost;
        }
        catch (Exception e) when (e is UsageException or ScenarioException or RoleLibraryException or CertificateException or SimConfigException)
        {
            Console.Error.WriteLine($"sim: {OneLine(e.Message)}");
            return UsageExitCode;
        }
        catch (RunFailedException e)
        {
            Console.Error.WriteLine($"sim: {OneLine(e.Message)}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("sim: interrupted; every participant process was ended");
            return 130;
        }
        catch (Exception e) when (e is FileNotFoundException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"sim: {e.Message}");
            return 1;
        }
    }

    /// <summary>When the run's pool server went away mid-run, or the cluster downed this launcher: says so in one line; exit code 1.</summary>
    private static int? PoolLost()
    {
        if ((WarmPool.LostReason ?? Cluster.ClusterHome.DownedReason) is not { } reason)
            return null;
        Console.Error.WriteLine($"sim: {reason}");
        return 1;
    }

    /// <summary>Some parser messages list choices on lines of their own: an error stays one line.</summary>
    private static string OneLine(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message.Trim(), @"\s*\n\s*", " ");

    /// <summary>Any scenario may run on the warm pool's booted nodes instead of starting processes.</summary>
    private static readonly Option<bool> UsePool = new("--pool")
    {
        Description = "Run the participants on the warm pool's booted nodes (see `sim pool start`) instead of starting processes",
        Recursive = true,
    };

    /// <summary>
    /// Checks a scenario command's options and scenario as a run would, prints <c>{"participants": N}</c> and starts nothing:
    /// <c>sim sweep</c> asks it of each point before the sweep starts.
    /// </summary>
    private static readonly Option<bool> ValidateOnly = new("--validate-only") { Hidden = true, Recursive = true };

    public static RootCommand Build()
    {
        var tickets = TicketsCommand();
        var root = new RootCommand("Sim: the lessons of multiprocessing (lock, tickets, queues, pipes, shared data) as real processes on Akka.NET.")
        {
            tickets.WithClusterOptions().WithHistoryOptions(), ProdconsCommand().WithClusterOptions().WithHistoryOptions(),
            CounterCommand().WithClusterOptions().WithHistoryOptions(), LockCommand().WithClusterOptions().WithHistoryOptions(),
            PipeCommand().WithClusterOptions().WithHistoryOptions(), WavesCommand(), SoakCommand(), BenchCommand(), LifecycleCommand(), PoolCommand(),
            LifecycleParentCommand(), RawAkkaEchoCommand(), RawAkkaLockerCommand(), RawAkkaMeasureCommand(), PoolServerCommand(),
            RunCommand().WithClusterOptions().WithHistoryOptions(), Sweep.SweepCommand.Create(UsePool),
            ClusterCli.AgentCommand(IntOption), ClusterCli.StatusCommand(), ClusterCli.CertCommand(IntOption),
        };
        root.Options.Add(UsePool);
        root.Options.Add(StartMethods.Option);
        root.Options.Add(ValidateOnly);
        // `sim` alone runs the default scenario with its defaults.
        root.SetAction((_, cancellationToken) => tickets.Parse([]).InvokeAsync(Invocation, cancellationToken));
        return root;
    }

    private static Command ProdconsCommand()
    {
        var producers = IntOption("--producers", "Producer processes", 1, 1, 200);
        var consumers = IntOption("--consumers", "Consumer processes", 1, 1, 200);
        var items = IntOption("--items", "Items to produce in all", 1000, 0, 100_000_000);
        var mode = new Option<string>("--mode") { Description = "How consumers learn the work is over: a None sentinel each, or JoinableQueue", DefaultValueFactory = _ => "sentinel" };
        mode.AcceptOnlyFromAmong("sentinel", "joinable");
        var maxSize = IntOption("--maxsize", "Queue capacity; 0 = unbounded", 0, 0, 10_000_000);
        var itemBytes = IntOption("--item-bytes", "Bytes per item (id, filler, checksum)", 64, ProducedItem.MinBytes, QueueItem.MaxPayloadBytes);
        var workMs = IntOption("--work-ms", "Consumer work time per item, to make slow consumers", 0, 0, 60_000);
        var batch = IntOption("--batch", "Most items per put message and per consumer fetch, pipelined 4 deep; a message also stops at 1 MiB", 5000, 1, 100_000);
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var timeout = IntOption("--timeout", "Seconds each phase may take before the run is ended", 120, 1, 3600);
        var faults = new FaultOptions();
        var lease = IntOption("--lease-ms",
            "Joinable mode: lease of every delivery; the items of a consumer that does not renew it in time (paused, cut off) go back to the queue for the others, and its late task_done for them is refused; 0 = no lease",
            0, 0, 3_600_000);
        var command = new Command("prodcons", "Producers and consumers, each its own process, around one queue actor; every item checked to be consumed exactly once.")
        {
            producers, consumers, items, mode, maxSize, itemBytes, workMs, batch, json, timeout, lease, faults.Terminate, faults.Kill, faults.Pause, faults.Partition,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var names = Enumerable.Range(1, parsed.GetValue(producers)).Select(i => $"producer-{i}")
                .Concat(Enumerable.Range(1, parsed.GetValue(consumers)).Select(i => $"consumer-{i}")).ToList();
            if (parsed.GetValue(lease) > 0 && parsed.GetValue(mode) != "joinable")
                throw new UsageException($"--lease-ms {parsed.GetValue(lease)}: only a joinable queue's deliveries have a lease (add --mode joinable)");
            var options = new ProdconsOptions(
                parsed.GetValue(producers), parsed.GetValue(consumers), parsed.GetValue(items), parsed.GetValue(mode) == "joinable",
                parsed.GetValue(maxSize), parsed.GetValue(itemBytes), parsed.GetValue(workMs), parsed.GetValue(batch),
                parsed.GetValue(json) is { } j ? WritableFile("--json", j, createFolder: false) : null,
                TimeSpan.FromSeconds(parsed.GetValue(timeout)), faults.Read(parsed, names), parsed.GetValue(lease));
            return await ProdconsScenario.RunAsync(options, Output.Console, cancellationToken);
        });
        return command;
    }

    /// <summary>
    /// <c>sim run FILE.hocon [--set key=value]... [--roles DLL]</c>: a scenario as data. A scenario model (a file with
    /// <c>participants</c>, see <see cref="ScenarioLoader"/>) runs as processes through <see cref="ModelScenario"/>, with the
    /// user's roles if it names their assembly. Any other file names a command and its options (<c>scenario = prodcons</c>,
    /// <c>producers = 3</c>, ...); they become that command's own options, so they are checked exactly as on the command line.
    /// </summary>
    private static Command RunCommand()
    {
        var file = new Argument<string>("scenario") { Description = "A scenario file (.hocon), or the name of one in hocon/scenarios" };
        var set = new Option<string[]>("--set") { Description = "Override one setting (a parameter of a scenario model) of the file: key=value; repeatable", HelpName = "KEY=VALUE" };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var roles = new Option<string?>("--roles") { Description = "Your role library (.dll) for a scenario model; overrides its roles-assembly", HelpName = "DLL" };
        var onDeadlock = new Option<string?>("--on-deadlock")
        {
            Description = "A deadlock the lock manager finds: fail ends the run at once with the cycle (the default), continue only reports it",
        };
        onDeadlock.AcceptOnlyFromAmong("fail", "continue");
        var command = new Command("run", "Run a scenario described in a HOCON file: a scenario model (participants, primitives, faults, checks) or a command's options.")
        {
            file, set, json, roles, onDeadlock,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var path = ScenarioFile.Resolve(parsed.GetValue(file)!);
            if (ScenarioFile.IsModel(path))
                return await RunModelAsync(path, parsed.GetValue(set) ?? [], parsed.GetValue(roles), parsed.GetValue(json), parsed.GetValue(onDeadlock),
                    cancellationToken);
            if (parsed.GetValue(roles) is not null)
                throw new UsageException($"--roles: {parsed.GetValue(file)} names a command, not a scenario model with participants");
            var args = ScenarioFile.ToArguments(parsed.GetValue(file)!, parsed.GetValue(set) ?? []);
            if (parsed.GetValue(json) is { } j)
                args.AddRange(["--json", j]);
            var inner = Build().Parse(args);
            if (inner.Errors.Count > 0)
                throw new UsageException($"{parsed.GetValue(file)}: {inner.Errors[0].Message}");
            return await inner.InvokeAsync(Invocation, cancellationToken);
        });
        return command;
    }

    /// <summary>Loads and checks a scenario model (roles included) before anything starts, then runs it as processes.</summary>
    private static async Task<int> RunModelAsync(string path, IReadOnlyList<string> overrides, string? roles, string? json, string? onDeadlock,
        CancellationToken cancellationToken)
    {
        var pairs = overrides.Select(pair => pair.IndexOf('=') is var eq && eq > 0
            ? KeyValuePair.Create(pair[..eq].Trim(), pair[(eq + 1)..].Trim())
            : throw new UsageException($"--set '{pair}' is not key=value")).ToList();
        Scenario scenario;
        RoleLibrary library;
        try
        {
            scenario = ScenarioLoader.LoadFile(path, pairs);
            if (roles is not null)
                scenario = scenario with { RolesAssembly = Path.GetFullPath(roles) };
            if (onDeadlock is not null)
                scenario = scenario with { OnDeadlock = ScenarioLoader.ParseDeadlockPolicy(onDeadlock, "--on-deadlock") };
            library = RoleLibrary.Load(scenario.RolesAssembly);
            scenario.Validate(library.Names);
        }
        catch (Exception e) when (e is ScenarioException or RoleLibraryException)
        {
            throw new UsageException(e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message : $"{path}: {e.Message}");
        }
        var jsonPath = json is null ? null : WritableFile("--json", json, createFolder: false);
        var console = Output.Console;
        console.MarkupLineInterpolated($"[bold]{scenario.Name}[/]: {scenario.Description ?? ""} ({string.Join(", ", scenario.Parameters.Select(kv => $"{kv.Key}={kv.Value}"))})");
        // A ticket file of the scenario's lives in this user's private folder, one per run.
        return await ModelScenario.RunAsync(scenario, library, console,
            declaration => Path.Combine(UserFolder.Ensure(), $"{declaration.Name}-{Environment.ProcessId}.json"),
            result => ModelScenario.PresentAsync(result, console, jsonPath), cancellationToken);
    }

    private static Command CounterCommand()
    {
        var processes = IntOption("--processes", "Counter processes", 4, 1, 200);
        var increments = IntOption("--increments", "Increments per process", 100, 0, 10_000_000);
        var noLock = new Option<bool>("--no-lock") { Description = "Read-then-write without the lock, to see lost updates" };
        var atomic = new Option<bool>("--atomic") { Description = "Use the shared data's atomic increment instead of read-then-write" };
        var delayMs = IntOption("--delay-ms", "Pause between reading and writing the value, to widen the race", 0, 0, 60_000);
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var timeout = IntOption("--timeout", "Seconds each phase may take before the run is ended", 120, 1, 3600);
        var lease = LeaseOption();
        var faults = new FaultOptions();
        var command = new Command("counter", "Shared data without automatic locking: N processes increment one shared value, with the lock, without it, or atomically.")
        {
            processes, increments, noLock, atomic, delayMs, json, timeout, lease, faults.Terminate, faults.Kill, faults.Pause, faults.Partition,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(noLock) && result.GetValue(atomic))
                result.AddError("--no-lock and --atomic exclude each other");
        });
        command.SetAction(async (parsed, cancellationToken) =>
        {
            var options = new CounterOptions(parsed.GetValue(processes), parsed.GetValue(increments),
                parsed.GetValue(atomic) ? "atomic" : parsed.GetValue(noLock) ? "nolock" : "lock", parsed.GetValue(delayMs),
                parsed.GetValue(json) is { } j ? WritableFile("--json", j, createFolder: false) : null,
                TimeSpan.FromSeconds(parsed.GetValue(timeout)),
                faults.Read(parsed, Enumerable.Range(1, parsed.GetValue(processes)).Select(i => $"counter-{i}").ToList()), parsed.GetValue(lease));
            return await CounterScenario.RunAsync(options, Output.Console, cancellationToken);
        });
        return command;
    }

    private static Command SoakCommand()
    {
        var minutes = new Option<double>("--minutes")
        {
            Description = "How long to keep running random scenarios with random faults (0.1 to 10080)", DefaultValueFactory = _ => 10,
        };
        minutes.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is < 0.1 or > 10080 or double.NaN)
                result.AddError($"--minutes {result.Tokens.FirstOrDefault()?.Value}: must be between 0.1 and 10080");
        });
        var seed = new Option<int?>("--seed") { Description = "Seed of everything random (default: a new one, printed first); the same seed plays the same runs again" };
        var json = new Option<string?>("--json") { Description = "Also write every run and the summary as JSON to this file" };
        var dryRun = IntOption("--dry-run", "Only print the first N runs the seed plans, without running them", 0, 0, 10_000);
        var command = new Command("soak",
            "Random scenarios with random kills, terminations, pauses and partitions for M minutes; every run's checks must pass.")
        {
            minutes, seed, json, dryRun,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            if (ScenarioRun.UseWarmPool)
                throw new UsageException("soak starts its participants cold (spawn): partitions need it; --pool and --start-method forkserver do not apply");
            var options = new SoakOptions(TimeSpan.FromMinutes(parsed.GetValue(minutes)), parsed.GetValue(seed) ?? Random.Shared.Next(1, int.MaxValue),
                parsed.GetValue(json) is { } j ? WritableFile("--json", j, createFolder: false) : null, parsed.GetValue(dryRun));
            return await SoakScenario.RunAsync(options, Output.Console, cancellationToken);
        });
        return command;
    }

    private static Command WavesCommand()
    {
        var waves = IntOption("--waves", "Waves of participants, one after the other, against one coordinator", 20, 1, 1000);
        var size = IntOption("--size", "Participants (lockers) per wave", 50, 1, 200);
        var acquires = IntOption("--acquires", "Acquire-release cycles per participant", 5, 1, 100_000);
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var timeout = IntOption("--timeout", "Seconds a wave may take to be served before the run is ended", 120, 1, 3600);
        var command = new Command("waves",
            "A long-lived coordinator: waves of short-lived participants come and go; every wave served, the coordinator's memory and answer time flat.")
        {
            waves, size, acquires, json, timeout,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            if (ScenarioRun.UseWarmPool)
                throw new UsageException("waves start every participant cold (spawn), to serve new nodes as a service does: --pool and --start-method forkserver do not apply");
            var options = new WavesOptions(parsed.GetValue(waves), parsed.GetValue(size), parsed.GetValue(acquires),
                parsed.GetValue(json) is { } j ? WritableFile("--json", j, createFolder: false) : null, TimeSpan.FromSeconds(parsed.GetValue(timeout)));
            return await WavesScenario.RunAsync(options, Output.Console, cancellationToken);
        });
        return command;
    }

    private static Command LockCommand()
    {
        var processes = IntOption("--processes", "Processes contending for the lock", 4, 1, 200);
        var acquires = IntOption("--acquires", "Acquire-release cycles per process", 500, 0, 10_000_000);
        var holdMs = IntOption("--hold-ms", "Time each holder keeps the lock; 0 = an empty critical section", 0, 0, 60_000);
        var warmup = WarmupOption("Untimed acquire-release cycles per process before the timed ones (grants all the same)");
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var timeout = IntOption("--timeout", "Seconds each phase may take before the run is ended", 120, 1, 3600);
        var lease = LeaseOption();
        var faults = new FaultOptions();
        var command = new Command("lock", "Mutual exclusion under contention: N processes acquire and release one lock; handoffs/s, acquire latency, every grant accounted for.")
        {
            processes, acquires, holdMs, warmup, json, timeout, lease, faults.Terminate, faults.Kill, faults.Pause, faults.Partition,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            ScenarioRun.SteadyState = parsed.GetValue(warmup) > 0;
            var options = new LockOptions(parsed.GetValue(processes), parsed.GetValue(acquires), parsed.GetValue(holdMs),
                parsed.GetValue(json) is { } j ? WritableFile("--json", j, createFolder: false) : null,
                TimeSpan.FromSeconds(parsed.GetValue(timeout)),
                faults.Read(parsed, Enumerable.Range(1, parsed.GetValue(processes)).Select(i => $"locker-{i}").ToList()), parsed.GetValue(lease),
                parsed.GetValue(warmup));
            return await LockScenario.RunAsync(options, Output.Console, cancellationToken);
        });
        return command;
    }

    private static Command PipeCommand()
    {
        var messages = IntOption("--messages", "Messages for the round trips and for the stream", 1000, 1, 10_000_000);
        var size = IntOption("--size", "Bytes per message", 64, 8, QueueItem.MaxPayloadBytes);
        var duplex = new Option<bool>("--duplex") { Description = "Stream over a duplex pipe instead of a one-way one" };
        var warmup = WarmupOption("Untimed round trips, and as many stream messages, before the timed ones");
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var timeout = IntOption("--timeout", "Seconds each phase may take before the run is ended", 120, 1, 3600);
        var command = new Command("pipe", "A pipe between two processes: round-trip latency, one-way throughput in order, end-of-file when one end dies.")
        {
            messages, size, duplex, warmup, json, timeout,
        };
        command.SetAction((parsed, cancellationToken) =>
        {
            ScenarioRun.SteadyState = parsed.GetValue(warmup) > 0;
            return PipeScenario.RunAsync(new PipeOptions(parsed.GetValue(messages), parsed.GetValue(size), parsed.GetValue(duplex),
                parsed.GetValue(json) is { } j ? WritableFile("--json", j, createFolder: false) : null,
                TimeSpan.FromSeconds(parsed.GetValue(timeout)), parsed.GetValue(warmup)),
                Output.Console, cancellationToken);
        });
        return command;
    }

    private static Command BenchCommand()
    {
        var names = Bench.Groups.Concat(Bench.FigureNames).Append("all").ToArray();
        var workload = new Argument<string>("workload")
        {
            Description = $"What to measure: all, a group ({string.Join(", ", Bench.Groups)}) or one figure ({string.Join(", ", Bench.FigureNames)})",
            DefaultValueFactory = _ => "all", HelpName = "workload",
        };
        workload.AcceptOnlyFromAmong(names);
        var runs = IntOption("--runs", "Runs of Sim and of Python each, alternating", 3, 1, 50);
        var scale = new Option<double>("--scale") { Description = "Multiply every workload's size (e.g. 0.01 for a quick look)", DefaultValueFactory = _ => 1.0 };
        scale.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is <= 0 or > 100)
                result.AddError($"--scale {result.GetValueOrDefault<double>()} is out of range (above 0, at most 100)");
        });
        var json = new Option<string?>("--json") { Description = "Also write every figure as JSON to this file" };
        var command = new Command("bench", "Side-by-side benchmarks: Sim against Python multiprocessing doing the same work, medians and ratios.")
        {
            workload, runs, scale, json,
        };
        command.SetAction((parsed, cancellationToken) =>
        {
            var chosen = Bench.Select(parsed.GetValue(workload) ?? "all");
            return Bench.RunAsync(chosen, parsed.GetValue(runs), parsed.GetValue(scale),
                parsed.GetValue(json) is { } j ? WritableFile("--json", j, createFolder: false) : null, Output.Console, cancellationToken);
        });
        return command;
    }

    private static Command LifecycleCommand()
    {
        var json = new Option<string?>("--json") { Description = "Also write what happened as JSON to this file" };
        var command = new Command("lifecycle",
            "The Process object of the lesson with real processes: name, pid, join, is_alive, terminate, kill, exitcode, daemon, zombies.")
        {
            json,
        };
        command.SetAction((parsed, cancellationToken) => LifecycleScenario.RunAsync(
            parsed.GetValue(json) is { } j ? WritableFile("--json", j, createFolder: false) : null, Output.Console, cancellationToken));
        return command;
    }

    private static Command PoolCommand()
    {
        var size = IntOption("--size", "Booted nodes to keep ready", 10, 1, 500);
        var wait = new Option<bool>("--wait") { Description = "Return only when every node of the pool is booted" };
        var idleTimeout = IntOption("--idle-timeout", "Seconds with no run nor request after which the pool stops by itself; 0 = never", 0, 0, 86_400);
        var start = new Command("start", "Start the warm pool in the background: booted nodes waiting for work, replaced as they are used") { size, wait, idleTimeout };
        start.SetAction(async (parsed, cancellationToken) =>
        {
            var path = WarmPool.SocketPath;
            var pid = await WarmPool.StartServerAsync(parsed.GetValue(size), path, WarmPool.StartTimeout, cancellationToken,
                parsed.GetValue(idleTimeout) is > 0 and var idle ? TimeSpan.FromSeconds(idle) : null);
            Output.Console.MarkupLineInterpolated($"warm pool of {parsed.GetValue(size)} nodes starting (server pid {pid}) at {path}");
            if (parsed.GetValue(wait))
                await PrintStatusAsync(await WarmPool.WaitFullAsync(path, cancellationToken));
            return 0;
        });
        var status = new Command("status", "How many nodes of the warm pool are idle, booting and in use");
        status.SetAction(async (_, cancellationToken) =>
        {
            await using var pool = await WarmPool.ConnectAsync(WarmPool.SocketPath, cancellationToken);
            await PrintStatusAsync(await pool.StatusAsync(cancellationToken));
            return 0;
        });
        var waitFull = new Command("wait", "Wait until every node of the warm pool is booted and idle");
        waitFull.SetAction(async (_, cancellationToken) =>
        {
            await PrintStatusAsync(await WarmPool.WaitFullAsync(WarmPool.SocketPath, cancellationToken));
            return 0;
        });
        var stop = new Command("stop",
            "Stop the warm pool: no new runs, idle nodes exit; runs in progress finish on their nodes, then the server exits (not waited for)");
        stop.SetAction(async (_, cancellationToken) =>
        {
            var path = WarmPool.SocketPath;
            var reply = await WarmPool.RequestStopAsync(path, cancellationToken)
                ?? throw new UsageException($"no warm pool at {path}: start one with `sim pool start`");
            if (reply.NodesInUse > 0)
            {
                // Runs may take long: we do not wait for them (`sim pool status` fails once the pool is gone).
                Output.Console.MarkupLineInterpolated(
                    $"warm pool at {path} stopping (server pid {reply.ServerPid}): no new runs, idle nodes end; waiting for {reply.Runs} run(s) using {reply.NodesInUse} node(s) to finish, then the server exits");
                return 0;
            }
            if (!await WarmPool.AwaitServerExitAsync(reply.ServerPid, TimeSpan.FromSeconds(60), cancellationToken))
                throw new RunFailedException($"the pool server (pid {reply.ServerPid}) is still stopping after 60 s");
            Output.Console.MarkupLineInterpolated($"warm pool at {path} stopped (server pid {reply.ServerPid})");
            return 0;
        });
        return new Command("pool", "The warm pool of booted nodes (the forkserver idea): runs with --pool start their participants in milliseconds")
        {
            start, status, waitFull, stop,
        };
    }

    private static Task PrintStatusAsync(System.Text.Json.Nodes.JsonObject status)
    {
        Output.Console.MarkupLineInterpolated(
            $"warm pool (server pid {status["pid"]}): size {status["size"]}, idle {status["idle"]}, booting {status["booting"]}, in use {status["claimed"]}, served {status["served"]}");
        if (status["stopping"]?.GetValue<bool>() == true)
            Output.Console.MarkupLineInterpolated($"stopping: waiting for {status["runs"]} run(s) in progress to finish");
        if (status["boot_failures"]?.GetValue<int>() is > 0 and var failures)
            Output.Console.MarkupLineInterpolated(
                $"nodes keep dying unused ({failures} in a row; last: {status["last_failure"]}): next start in {status["restart_in_ms"]!.GetValue<long>() / 1000.0:0.0} s");
        return Task.CompletedTask;
    }

    /// <summary>The warm pool's server, started in the background by <c>sim pool start</c>; not for users.</summary>
    private static Command PoolServerCommand()
    {
        var size = IntOption("--size", "Booted nodes to keep ready", 10, 1, 500);
        var socket = new Option<string>("--socket") { Required = true };
        var idleTimeout = IntOption("--idle-timeout", "Seconds with nobody connected after which the server stops; 0 = never", 0, 0, 86_400);
        var grow = new Option<bool>("--grow");
        var command = new Command(WarmPool.PoolServerCommand) { Hidden = true };
        command.Options.Add(size);
        command.Options.Add(socket);
        command.Options.Add(idleTimeout);
        command.Options.Add(grow);
        // Detached once it listens, not before: an error until then (folder not private, a pool already running)
        // reaches `sim pool start` through this process's stderr.
        command.SetAction((parsed, cancellationToken) =>
            new PoolServer(parsed.GetValue(size), parsed.GetValue(socket)!, NodeBinary.Locate(),
                parsed.GetValue(idleTimeout) is > 0 and var idle ? TimeSpan.FromSeconds(idle) : null, parsed.GetValue(grow))
                .RunAsync(Posix.Detach, cancellationToken));
        return command;
    }

    /// <summary>The echo node of the raw Akka.NET round trip in <c>sim bench</c>; not for users.</summary>
    private static Command RawAkkaEchoCommand()
    {
        var command = new Command(RawAkka.EchoCommand) { Hidden = true };
        command.SetAction((_, _) => RawAkka.RunEchoAsync());
        return command;
    }

    /// <summary>A contending lock client of the raw Akka.NET lock handoffs in <c>sim bench</c>; not for users.</summary>
    private static Command RawAkkaLockerCommand()
    {
        var server = new Argument<string>("server");
        var warmUp = new Argument<int>("warm-up");
        var acquires = new Argument<int>("acquires");
        var command = new Command(RawAkka.LockerCommand) { Hidden = true };
        command.Arguments.Add(server);
        command.Arguments.Add(warmUp);
        command.Arguments.Add(acquires);
        command.SetAction((parsed, _) => RawAkka.RunLockerAsync(parsed.GetValue(server)!, parsed.GetValue(warmUp), parsed.GetValue(acquires)));
        return command;
    }

    /// <summary>The raw Akka.NET figures of <c>sim bench</c>, measured in a process with .NET's default settings; not for users.</summary>
    private static Command RawAkkaMeasureCommand()
    {
        var patterns = new Argument<string>("patterns");
        var warmUp = new Argument<int>("warm-up");
        var samples = new Argument<int>("samples");
        var command = new Command(RawAkka.MeasureCommand) { Hidden = true };
        command.Arguments.Add(patterns);
        command.Arguments.Add(warmUp);
        command.Arguments.Add(samples);
        command.SetAction((parsed, cancellationToken) =>
            RawAkka.RunMeasureAsync(parsed.GetValue(patterns)!, parsed.GetValue(warmUp), parsed.GetValue(samples), cancellationToken));
        return command;
    }

    /// <summary>The parent process of the lifecycle scenario's daemon demo; not for users.</summary>
    private static Command LifecycleParentCommand()
    {
        var command = new Command(LifecycleScenario.ParentCommand) { Hidden = true };
        command.SetAction((_, cancellationToken) => LifecycleScenario.RunParentAsync(cancellationToken));
        return command;
    }

    private static Command TicketsCommand()
    {
        var buyers = IntOption("--buyers", "Buyer processes to start", 10, 1, 500);
        var tickets = IntOption("--tickets", "Tickets in the file at the start", 3, 0, 1_000_000);
        var noLock = new Option<bool>("--no-lock") { Description = "Buy without the lock, to see the race (oversold tickets, lost updates)" };
        var delayMs = IntOption("--delay-ms", "Pause between reading and writing the file, to widen the race", 10, 0, 60_000);
        var db = new Option<string?>("--db") { Description = "Ticket file to create (default: a new file under the temp folder)" };
        var json = new Option<string?>("--json") { Description = "Also write the results as JSON to this file" };
        var timeout = IntOption("--timeout", "Seconds each phase (start, work) may take before the run is ended", 120, 1, 3600);

        var lease = LeaseOption();
        var faults = new FaultOptions();
        var command = new Command("tickets", "Ticket grabbing: N buyer processes race for T tickets in a JSON file, with or without the lock.")
        {
            buyers, tickets, noLock, delayMs, db, json, timeout, lease, faults.Terminate, faults.Kill, faults.Pause, faults.Partition,
        };
        command.SetAction(async (parsed, cancellationToken) =>
        {
            // A run's own file in this user's private folder (a shared /tmp/sim would belong to whoever ran first).
            var dbPath = parsed.GetValue(db) ?? Path.Combine(UserFolder.Ensure(), $"tickets-{Environment.ProcessId}.json");
            var options = new TicketsOptions(
                parsed.GetValue(buyers), parsed.GetValue(tickets), !parsed.GetValue(noLock), parsed.GetValue(delayMs),
                WritableFile("--db", dbPath, createFolder: parsed.GetValue(db) is null),
                parsed.GetValue(json) is { } j ? WritableFile("--json", j, createFolder: false) : null,
                TimeSpan.FromSeconds(parsed.GetValue(timeout)),
                faults.Read(parsed, Enumerable.Range(1, parsed.GetValue(buyers)).Select(i => $"buyer-{i}").ToList()), parsed.GetValue(lease));
            return await TicketsScenario.RunAsync(options, Output.Console, cancellationToken);
        });
        return command;
    }

    /// <summary><c>--terminate NAME@SECONDS</c>, <c>--kill NAME@SECONDS</c> and <c>--pause NAME@SECONDS[:DURATION]</c>, repeatable, for every scenario.</summary>
    private sealed class FaultOptions
    {
        public Option<string[]> Terminate { get; } = Create("--terminate", FaultAction.Terminate,
            "Send SIGTERM to participant NAME (or to the lock 'holder') SECONDS after the work starts; repeatable");
        public Option<string[]> Kill { get; } = Create("--kill", FaultAction.Kill,
            "Send SIGKILL to participant NAME (or to the lock 'holder') SECONDS after the work starts; repeatable");
        public Option<string[]> Pause { get; } = Create("--pause", FaultAction.Pause,
            "Stop participant NAME (or the lock 'holder') with SIGSTOP SECONDS after the work starts, and SIGCONT it DURATION seconds later (default 5); repeatable",
            "NAME@SECONDS[:DURATION]");
        public Option<string[]> Partition { get; } = Create("--partition", FaultAction.Partition,
            "Cut participant NAME (or the lock 'holder') off from the coordinator SECONDS after the work starts (nothing passes either way), and heal the link DURATION seconds later (default 5); repeatable",
            "NAME@SECONDS[:DURATION]");

        private static Option<string[]> Create(string name, FaultAction action, string description, string helpName = "NAME@SECONDS")
        {
            var option = new Option<string[]>(name) { Description = description, HelpName = helpName };
            option.Validators.Add(result =>
            {
                foreach (var token in result.Tokens)
                {
                    if (Fault.TryParse(action, token.Value, out var error) is null)
                        result.AddError($"{name} {error}");
                }
            });
            return option;
        }

        /// <summary>The faults asked for; a NAME that is no participant of this run is a usage error.</summary>
        public IReadOnlyList<Fault> Read(ParseResult parsed, IReadOnlyCollection<string> participants)
        {
            var faults = new List<Fault>();
            foreach (var (option, action) in new[] { (Terminate, FaultAction.Terminate), (Kill, FaultAction.Kill), (Pause, FaultAction.Pause), (Partition, FaultAction.Partition) })
            {
                foreach (var text in parsed.GetValue(option) ?? [])
                {
                    var fault = Fault.TryParse(action, text, out _)!;
                    if (fault.Target != Fault.Holder && !participants.Contains(fault.Target))
                        throw new UsageException($"{option.Name} {text}: no participant named '{fault.Target}' in this run");
                    faults.Add(fault);
                }
            }
            return faults;
        }
    }

    /// <summary><c>--lease-ms</c> of the scenarios with a lock: what protects a run from a paused or cut-off holder.</summary>
    private static Option<int> LeaseOption() => IntOption("--lease-ms",
        "Lease of every grant of the lock: a holder that does not renew it in time (paused, cut off) loses it to the next waiter, whose higher token makes the stores refuse the old holder's writes; 0 = no lease",
        0, 0, 3_600_000);

    /// <summary>
    /// Untimed work before the timed part, with participants that tier up (<see cref="ScenarioRun.SteadyState"/>): .NET
    /// compiles a hot path to its best code only after it has run a while, so a measure of the engine's speed warms up
    /// first, as `sim bench` does for Sim and for raw Akka.NET alike.
    /// </summary>
    private static Option<int> WarmupOption(string description) => IntOption("--warmup",
        $"{description}; with it the participants tier up (tiered compilation on: the hot path compiled to its best code, short runs a little slower)",
        0, 0, 10_000_000);

    /// <summary>An integer option whose errors name the option and the bad value.</summary>
    internal static Option<int> IntOption(string name, string description, int fallback, int min, int max) =>
        new(name)
        {
            Description = $"{description} ({min} to {max})",
            DefaultValueFactory = _ => fallback,
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
                if (!int.TryParse(text, out var value))
                    result.AddError($"{name} '{text}' is not a whole number");
                else if (value < min || value > max)
                    result.AddError($"{name} {value} is out of range ({min} to {max})");
                return value;
            },
        };

    /// <summary>Checks before any child starts that <paramref name="path"/> can be written, by writing it.</summary>
    private static string WritableFile(string option, string path, bool createFolder)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        if (createFolder)
            Directory.CreateDirectory(folder);
        if (Directory.Exists(full))
            throw new UsageException($"{option} {path} is a folder, not a file");
        if (!Directory.Exists(folder))
            throw new UsageException($"{option} {path}: folder {folder} does not exist");
        var probe = Path.Combine(folder, $".sim-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new UsageException($"{option} {path} is not writable: {e.Message}");
        }
        return full;
    }
}
