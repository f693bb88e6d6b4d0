using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Sim.Core;
using Sim.Core.History;
using Sim.Launcher.Cluster;

namespace Sim.Launcher;

/// <summary>
/// When the phases of a run ended (from the run's start), and why it failed if it did. A phase the run never reached
/// (everyone ready, the release) stays zero and is shown as not reached, never as a time.
/// </summary>
public sealed record RunPhases(TimeSpan Ready, TimeSpan Released, TimeSpan Done, DateTimeOffset ReleasedAt, string? Failure)
{
    public bool ReadyReached => Ready > TimeSpan.Zero;

    /// <summary>The work started (everyone was released).</summary>
    public bool WorkReached => Released > TimeSpan.Zero;

    public TimeSpan Work => WorkReached && Done > Released ? Done - Released : TimeSpan.Zero;

    /// <summary>"all ready after 1.234 s, work 2.345 s, wall 3.456 s"; "all ready: not reached" for a phase that never came.</summary>
    public string Summary(TimeSpan wall, double? workSeconds = null) =>
        (ReadyReached ? $"all ready after {Ready.TotalSeconds:0.000} s, " : "all ready: not reached, ") +
        (WorkReached ? $"work {workSeconds ?? Work.TotalSeconds:0.000} s, " : "work: not reached, ") + $"wall {wall.TotalSeconds:0.000} s";
}

/// <summary>A run failed in a way the user should read as one line (a participant crashed, a phase timed out).</summary>
public class RunFailedException(string message) : Exception(message);

/// <summary>
/// One run of a scenario: the coordinator in this process, one <see cref="SimProcess"/> per participant,
/// and the phases every scenario shares: start, all ready, release, work, all ended. Whatever happens,
/// disposing the run ends and reaps every child it started.
/// </summary>
public sealed class ScenarioRun : IAsyncDisposable
{
    private readonly NodeBinary _node;
    private readonly List<SimProcess> _processes = new();
    private readonly TaskCompletionSource<SimProcess> _firstFailure = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _clock = new();
    private readonly Action<string> _progress;
    private readonly CancellationTokenSource _stopSampling = new();
    private Task _sampler = Task.CompletedTask;
    private readonly List<Task> _faultTasks = new();
    private readonly List<FaultOutcome> _faultOutcomes = new();
    private TimeSpan? _releasedAt;
    private readonly HashSet<string> _endedByRun = new(StringComparer.Ordinal);
    private readonly string _host;
    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _parameters = new(StringComparer.Ordinal);
    private IParticipantHome? _home;

    /// <param name="partitionable">The run has partition faults: every node of it gets the throttling transport adapter.</param>
    public ScenarioRun(NodeBinary node, Action<string> progress, string host = "127.0.0.1", bool partitionable = false)
    {
        _node = node;
        _progress = progress;
        Partitionable = partitionable;
        if (partitionable && (Cluster is not null || UseWarmPool))
            throw new UsageException(Cluster is not null
                ? "--partition: across machines a partition is not supported yet (cut the link with the network's own tools)"
                : "--partition: the warm pool's nodes (--pool, --start-method forkserver) were booted without the throttling transport a partition needs: run with --start-method spawn");
        // Across the cluster, this launcher is a member for the run (role coordinator) and binds the address given.
        _host = Cluster?.Host ?? host;
        var config = Cluster is null
            ? SimConfig.Node(_host, 0, partitionable ? SimConfig.PartitionableConfig : null, serves: true)
            : ClusterConfig.Member(ClusterConfig.CoordinatorRole, _host, 0);
        System = SimTls.Create(SimConfig.SystemName, config, Certificate?.Certificate);
        StartedAt = DateTimeOffset.UtcNow;
        Coordinator = Coordinator.Start(System);
        History = HistoryLog.Of(System);
        History.Enabled = RecordHistory;
    }

    /// <summary>Whether runs record their history (on unless the command line or a bench's baseline turns it off).</summary>
    public static bool RecordHistory { get; set; } = true;

    /// <summary>This run's history on the coordinator: what the primitives processed, the participants' batches, faults and exits.</summary>
    public HistoryLog History { get; }

    /// <summary>Set once by the command line (<c>--cluster</c>): the run's participants are started by the cluster's agents.</summary>
    public static ClusterRunOptions? Cluster { get; set; }

    /// <summary>Set once by the command line (<c>--cert</c>): every node of the run talks TLS with this certificate.</summary>
    public static (string Path, X509Certificate2 Certificate)? Certificate { get; set; }

    public ActorSystem System { get; }

    /// <summary>Every node of the run has the throttling transport adapter, so partition faults can be injected.</summary>
    public bool Partitionable { get; }
    public Coordinator Coordinator { get; }
    public IReadOnlyList<SimProcess> Processes => _processes;
    public TimeSpan Elapsed => _clock.Elapsed;
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>How long a participant keeps trying to reach the coordinator: 50 nodes booting on 2 cores take a while.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public SimProcess Add(string name, string role, IReadOnlyDictionary<string, string> parameters, bool daemon = false, string? rolesAssembly = null)
    {
        var arguments = new List<string>
        {
            "--role", role, "--name", name, "--coordinator", Coordinator.Address.ToString(), "--watch-stdin",
            "--connect-timeout-ms", ((long)ConnectTimeout.TotalMilliseconds).ToString(),
        };
        if (rolesAssembly is not null)
        {
            if (Cluster is not null)
                throw new UsageException($"--cluster: agents start only Sim's own roles, not those of {rolesAssembly}");
            arguments.AddRange(["--roles-assembly", rolesAssembly]);
        }
        if (Certificate is { } certificate)
            arguments.AddRange(["--cert", certificate.Path]);
        if (!RecordHistory)
            parameters = new Dictionary<string, string>(parameters) { [Participant.HistoryParameter] = "false" };
        foreach (var (key, value) in parameters)
            arguments.AddRange(["--param", $"{key}={value}"]);
        var process = _node.Create(name, role, arguments);
        if (SteadyState)
        {
            // The participants' runtime settings (src/Sim.Node/NodeRuntime.props, NodeBinary.RuntimeEnvironment) never
            // recompile and keep thread-pool spinning low: a short run is fastest on the precompiled code, and an idle
            // node cheapest without spinning. A run that warms up has no idle node; it wants what the JIT makes of the
            // hot path, with dynamic PGO, and .NET's spinning, which keeps a busy hop's wake-ups short (README,
            // Performance: 5 alternating pairs, warm pipe round trip 230 -> 142 us, acquire 172 -> 153 us, 4 lockers
            // 3344 -> 4008 handoffs/s). .NET's settings from the environment override the node's runtimeconfig; DWORD
            // values are hexadecimal.
            process.SetEnvironment("DOTNET_TieredCompilation", "1");
            process.SetEnvironment("DOTNET_TC_CallCounting", "1");
            process.SetEnvironment("DOTNET_TieredPGO", "1");
            process.SetEnvironment("DOTNET_TC_CallCountThreshold", "C8"); // 200 calls
            process.SetEnvironment(ThreadPoolSpin.EnvironmentVariable, ThreadPoolSpin.DotnetDefault);
        }
        if (Partitionable)
            process.SetEnvironment(SimConfig.OverrideVariable,
                $"{Environment.GetEnvironmentVariable(SimConfig.OverrideVariable)}\n{SimConfig.PartitionableConfig}");
        process.Daemon = daemon;
        process.Host = _host;
        _parameters[name] = parameters;
        process.OnExit += p =>
        {
            History.Launcher(p.Name, "exit", p.ExitCode is { } code ? [code] : []);
            Coordinator.ReportExited(p.Name, p.ExitCode);
            if (p.ExitCode != 0)
                _firstFailure.TrySetResult(p);
        };
        _processes.Add(process);
        return process;
    }

    /// <summary>
    /// Participants run on the warm pool's booted nodes (<c>sim pool start</c>) instead of new processes: set
    /// once by the command line (<c>--pool</c>).
    /// </summary>
    public static bool UseWarmPool { get; set; }

    /// <summary>
    /// Participants started from now on tier up (tiered compilation on, promotion after 200 calls, dynamic PGO) and
    /// spin as .NET does by default: for runs that warm up before they measure (<c>--warmup</c>), at the price of
    /// compiling the hot path a second time while the run goes on and of CPU spent spinning in a node that waits. Nodes
    /// of the warm pool and of a cluster's agents keep the settings they booted with.
    /// </summary>
    public static bool SteadyState { get; set; }

    /// <summary>The forkserver start method: the warm pool is started on first use, and stops after this long unused.</summary>
    public static TimeSpan? StartPoolIdleTimeout { get; set; }

    /// <summary>Starts every participant as a child of this launcher (the local runs of lifecycle and bench).</summary>
    public void StartAll()
    {
        if (UseWarmPool || Cluster is not null)
            throw new InvalidOperationException("on the warm pool or the cluster, processes start through StartAllAsync");
        StartAllAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Where this run's participants live: the cluster's agents, the warm pool, or children of this launcher.</summary>
    private IParticipantHome CreateHome() =>
        Cluster is { } cluster
            ? new ClusterHome(System, cluster, Coordinator.Address.ToString(), ConnectTimeout, Order, _progress)
            : UseWarmPool ? new WarmPoolHome(Coordinator.Address, StartPoolIdleTimeout, _progress) : new LocalChildren();

    /// <summary>What an agent is asked to start for <paramref name="process"/>: its role, name and parameters, never a command.</summary>
    private ParticipantOrder Order(SimProcess process) =>
        new(process.Name, process.Role, process.Daemon, _parameters[process.Name].ToList());

    public async Task StartAllAsync(CancellationToken cancellationToken)
    {
        _home = CreateHome();
        await _home.PrepareAsync(_processes, cancellationToken).ConfigureAwait(false);
        StartedAt = DateTimeOffset.UtcNow;
        _clock.Start();
        await _home.StartAsync(_processes, cancellationToken).ConfigureAwait(false);
        _progress(_home.Started(_processes.Count));
        _sampler = SamplePeakMemoryAsync(_stopSampling.Token);
    }

    /// <summary>
    /// Starts <paramref name="more"/> (added since the last start) where the run's participants live, for runs whose
    /// participants come and go in waves against one coordinator. The first call starts the run's clock.
    /// </summary>
    public async Task StartMoreAsync(IReadOnlyList<SimProcess> more, CancellationToken cancellationToken)
    {
        if (_home is null)
        {
            _home = CreateHome();
            StartedAt = DateTimeOffset.UtcNow;
            _clock.Start();
            _sampler = SamplePeakMemoryAsync(_stopSampling.Token);
        }
        await _home.PrepareAsync(more, cancellationToken).ConfigureAwait(false);
        await _home.StartAsync(more, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Zombies and orphans left by this run's participants (call after they have all ended).</summary>
    public ProcessCensus Census() => ProcessCensus.Take(_processes.Where(p => p.Pid is not null && !p.Remote).Select(p => p.Pid!.Value));

    /// <summary>Largest peak RSS among the participants, in MiB (sampled from /proc while they run).</summary>
    public double? MaxPeakRssMb =>
        _processes.Max(p => p.PeakRssKb) is { } kb ? Math.Round(kb / 1024.0, 1) : null;

    private async Task SamplePeakMemoryAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        try
        {
            do
            {
                foreach (var process in _processes)
                    process.SamplePeakRss();
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// The phases every scenario shares: start everyone, wait until all are ready, release them together,
    /// inject the faults, do the scenario's <paramref name="work"/> (which returns when the work was done),
    /// wait for every process to end. A phase that fails or times out ends every process.
    /// </summary>
    public async Task<RunPhases> ExecuteAsync(TimeSpan timeout, IEnumerable<Fault> faults, Func<Task<TimeSpan>> work,
        CancellationToken cancellationToken)
    {
        TimeSpan ready = default, released = default, done = default;
        var releasedAt = DateTimeOffset.UtcNow;
        try
        {
            await StartAllAsync(cancellationToken).ConfigureAwait(false);
            ready = await AwaitAllReadyAsync(timeout, cancellationToken).ConfigureAwait(false);
            releasedAt = DateTimeOffset.UtcNow;
            released = await ReleaseAsync().ConfigureAwait(false);
            InjectFaults(faults);
            done = await work().ConfigureAwait(false);
            await AwaitAllEndedAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false);
            return new RunPhases(ready, released, done, releasedAt, null);
        }
        catch (RunFailedException e)
        {
            // The work ended with the failure (a deadlock ends it at once): not at zero, which would make the work negative.
            done = done == default && released != default ? _clock.Elapsed : done;
            await KillAllAsync().ConfigureAwait(false);
            return new RunPhases(ready, released, done, releasedAt, e.Message);
        }
    }

    /// <summary>Processes that ended badly, other than those our faults hit or <paramref name="expected"/> excuses.</summary>
    public IReadOnlyList<SimProcess> UnexpectedExits(Func<SimProcess, bool>? expected = null) =>
        _processes.Where(p => p.ExitCode != 0 && !WasFaulted(p) && !WasEndedByRun(p) && !(expected?.Invoke(p) ?? false)).ToList();

    /// <summary>Waits until every participant is at the start barrier; fails fast if one of them dies first.</summary>
    public async Task<TimeSpan> AwaitAllReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var ready = Coordinator.AwaitReadyAsync(_processes.Count, timeout, cancellationToken);
        var finished = await Task.WhenAny(ready, _firstFailure.Task).ConfigureAwait(false);
        if (finished == _firstFailure.Task)
            throw new RunFailedException(Describe(await _firstFailure.Task.ConfigureAwait(false), "before it was ready"));
        try
        {
            await ready.ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw new RunFailedException($"not every participant was ready within {timeout.TotalSeconds:0.#} s");
        }
        var elapsed = _clock.Elapsed;
        _progress($"all {_processes.Count} ready after {elapsed.TotalSeconds:0.00} s");
        // Everyone alive and booted: what each start cost in CPU, and in memory with shared pages divided among all. The
        // memory read walks page tables (~5 ms a process): for 100 nodes it held the release back by ~0.25 s, so an even
        // sample of them gives the medians.
        foreach (var process in _processes)
            process.SampleCpuAtReady();
        Parallel.ForEach(MemorySample(_processes), new ParallelOptions { MaxDegreeOfParallelism = 2 }, p => p.SampleMemoryShares());
        return elapsed;
    }

    /// <summary>How many processes' memory shares are read at ready (the rest report none).</summary>
    public const int MemorySampleSize = 10;

    /// <summary>At most <see cref="MemorySampleSize"/> of <paramref name="processes"/>, evenly spread over the list (all when fewer).</summary>
    internal static IReadOnlyList<T> MemorySample<T>(IReadOnlyList<T> processes) =>
        processes.Count <= MemorySampleSize
            ? processes
            : Enumerable.Range(0, MemorySampleSize).Select(i => processes[i * processes.Count / MemorySampleSize]).ToList();

    public async Task<TimeSpan> ReleaseAsync()
    {
        await Coordinator.ReleaseBarrierAsync().ConfigureAwait(false);
        _releasedAt = _clock.Elapsed;
        return _releasedAt.Value;
    }

    /// <summary>The lock that the fault target <c>holder</c> refers to.</summary>
    public string? MainLock { get; init; }

    public IReadOnlyList<FaultOutcome> FaultOutcomes
    {
        get
        {
            lock (_faultOutcomes)
                return _faultOutcomes.ToList();
        }
    }

    /// <summary>
    /// How the participants that a pause or a partition hit ended, when not well (they outlive the fault, so how they
    /// coped is part of what the fault did): e.g. a write lost while cut off that timed out.
    /// </summary>
    public IEnumerable<string> LastingFaultAftermath() =>
        FaultOutcomes.Where(f => f.Fault.Action is FaultAction.Pause or FaultAction.Partition && f.SignalledAt is not null)
            .Select(f => _processes.FirstOrDefault(p => p.Name == f.Name))
            .Where(p => p is { ExitCode: not null and not 0 })
            .Distinct()
            .Select(p => Describe(p!, "after the fault"));

    /// <summary>True if a fault of ours hit this process, so its exit code is expected, not a failure.</summary>
    public bool WasFaulted(SimProcess process) => FaultOutcomes.Any(f => f.Name == process.Name);

    /// <summary>Schedules the faults, each at its time after the work phase started (call after <see cref="ReleaseAsync"/>).</summary>
    public void InjectFaults(IEnumerable<Fault> faults)
    {
        foreach (var fault in faults)
            _faultTasks.Add(InjectAsync(fault, _stopSampling.Token));
    }

    private async Task InjectAsync(Fault fault, CancellationToken cancellationToken)
    {
        try
        {
            if (fault.AfterReport)
                await Sim.Core.Scenarios.ScenarioWork.AwaitReportAsync(Coordinator, fault.Target, ConnectTimeout, cancellationToken).ConfigureAwait(false);
            var due = (fault.AfterReport ? _clock.Elapsed : _releasedAt ?? _clock.Elapsed) + TimeSpan.FromSeconds(fault.AtSeconds) - _clock.Elapsed;
            if (due > TimeSpan.Zero)
                await Task.Delay(due, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (AskTimeoutException)
        {
            lock (_faultOutcomes)
                _faultOutcomes.Add(new FaultOutcome(fault, fault.Target, null, null, null, $"{fault.Target} never reported"));
            return;
        }
        string? name = fault.Target;
        if (fault.Target == Fault.Holder)
        {
            var lockName = fault.Lock ?? MainLock;
            name = lockName is null ? null : await HolderNotYetFaultedAsync(lockName, cancellationToken).ConfigureAwait(false);
        }
        var process = _processes.FirstOrDefault(p => p.Name == name);
        var at = (_clock.Elapsed - (_releasedAt ?? TimeSpan.Zero)).TotalSeconds;
        FaultOutcome outcome;
        if (process is null || !process.IsAlive)
            outcome = new FaultOutcome(fault, name, process?.Pid, at, null, name is null ? "nobody held the lock" : $"{name} was not running");
        else
        {
            var signalled = DateTimeOffset.UtcNow;
            History.Launcher(process.Name, fault.Action.ToString().ToLowerInvariant(), [],
                fault.Duration is { } lasting ? $"for {lasting.TotalSeconds:0.###} s" : null);
            string? note = null;
            // What a lasting fault does when its time is up (resume, heal), awaited here so the run waits for it.
            Func<Task>? ending = null;
            switch (fault.Action)
            {
                case FaultAction.Kill:
                    process.Kill();
                    // A SIGKILL is certain death: said at once, not once the process is reaped (as in-process runs do).
                    Coordinator.ReportExited(process.Name, -9);
                    break;
                case FaultAction.Pause:
                    var duration = fault.Duration ?? Sim.Core.Scenarios.ScenarioFault.DefaultPause;
                    process.Pause();
                    ending = () => ResumeAfterAsync(process, duration);
                    note = $"paused for {duration.TotalSeconds:0.###} s";
                    break;
                case FaultAction.Partition:
                    var cut = fault.Duration ?? Sim.Core.Scenarios.ScenarioFault.DefaultPause;
                    if (await PartitionAsync(process.Name, cancellationToken).ConfigureAwait(false) is { } address)
                    {
                        ending = () => HealAfterAsync(process.Name, address, cut);
                        note = $"cut off for {cut.TotalSeconds:0.###} s";
                    }
                    else
                        note = $"{name} never said it was ready: not cut off";
                    break;
                default:
                    process.Terminate();
                    break;
            }
            outcome = new FaultOutcome(fault, name, process.Pid, at, signalled, note);
            _progress($"{fault.Action.ToString().ToLowerInvariant()} {name} (pid {process.Pid}) at {at:0.000} s{(note is null ? "" : $", {note}")}");
            lock (_faultOutcomes)
                _faultOutcomes.Add(outcome);
            if (ending is not null)
                await ending().ConfigureAwait(false);
            return;
        }
        lock (_faultOutcomes)
            _faultOutcomes.Add(outcome);
    }

    /// <summary>
    /// Cuts participant <paramref name="name"/>'s node off from the coordinator (nothing passes either way: Akka.Remote's
    /// throttling adapter blackholes their connection). Returns the node's address, or null if it is not known.
    /// </summary>
    private async Task<Address?> PartitionAsync(string name, CancellationToken cancellationToken)
    {
        if (!Partitionable)
            throw new InvalidOperationException("a partition fault needs a run created partitionable");
        var known = await Coordinator.Barrier.Ask<ParticipantAddress>(new GetParticipantAddress(name), TimeSpan.FromSeconds(5), cancellationToken)
            .ConfigureAwait(false);
        if (known.Address is not { } address)
            return null;
        await RemoteTransport.ManagementCommand(new Akka.Remote.Transport.SetThrottle(address, Akka.Remote.Transport.ThrottleTransportAdapter.Direction.Both,
            Akka.Remote.Transport.Blackhole.Instance)).ConfigureAwait(false);
        return address;
    }

    private Akka.Remote.RemoteTransport RemoteTransport => ((Akka.Remote.IRemoteActorRefProvider)((ExtendedActorSystem)System).Provider).Transport;

    private async Task HealAfterAsync(string name, Address address, TimeSpan duration)
    {
        try
        {
            await Task.Delay(duration, _stopSampling.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // the run is over: nothing left to heal
        }
        await RemoteTransport.ManagementCommand(new Akka.Remote.Transport.SetThrottle(address,
            Akka.Remote.Transport.ThrottleTransportAdapter.Direction.Both, Akka.Remote.Transport.Unthrottled.Instance)).ConfigureAwait(false);
        _progress($"heal {name} at {(_clock.Elapsed - (_releasedAt ?? TimeSpan.Zero)).TotalSeconds:0.000} s");
    }

    /// <summary>
    /// Lets a paused participant run on after <paramref name="duration"/>; also when the run ends first, so that nothing
    /// is left stopped (a stopped process would not act on a SIGTERM).
    /// </summary>
    private async Task ResumeAfterAsync(SimProcess process, TimeSpan duration)
    {
        try
        {
            await Task.Delay(duration, _stopSampling.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // the run is ending: resume now
        }
        if (!process.IsAlive)
            return;
        try
        {
            process.Resume();
            _progress($"resume {process.Name} (pid {process.Pid}) at {(_clock.Elapsed - (_releasedAt ?? TimeSpan.Zero)).TotalSeconds:0.000} s");
        }
        catch (InvalidOperationException e)
        {
            _progress($"could not resume {process.Name}: {e.Message}");
        }
    }

    /// <summary>
    /// Who holds <paramref name="lockName"/> now. A holder that an earlier fault has already signalled still holds the
    /// lock until its exit is seen, which can take a while on a loaded machine; "the holder" then means the next one,
    /// so this waits (up to 10 s) for the lock to pass to a participant no fault has touched yet.
    /// </summary>
    private async Task<string?> HolderNotYetFaultedAsync(string lockName, CancellationToken cancellationToken)
    {
        var patience = Stopwatch.StartNew();
        while (true)
        {
            var state = await Coordinator.LockManager
                .Ask<Sim.Core.LockState>(new Sim.Core.GetLockState(lockName), TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
            var holder = state.Holders.FirstOrDefault()?.OwnerName;
            var process = _processes.FirstOrDefault(p => p.Name == holder);
            if (holder is null || process is null || !WasFaulted(process) || patience.Elapsed > TimeSpan.FromSeconds(10))
                return holder;
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits until every participant has reported, or every process has ended (a dead one never reports);
    /// returns the moment the work was over.
    /// </summary>
    public async Task<TimeSpan> AwaitWorkDoneAsync(int reports, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reported = Coordinator.AwaitResultsAsync(reports, timeout, stop.Token);
        var allEnded = Task.WhenAll(_processes.Select(p => p.Exited));
        var deadline = Task.Delay(timeout, stop.Token);
        var first = await Task.WhenAny(reported, allEnded, deadline).ConfigureAwait(false);
        var done = _clock.Elapsed;
        stop.Cancel();
        cancellationToken.ThrowIfCancellationRequested();
        if (first == deadline || (first == reported && reported.IsFaulted))
            throw new RunFailedException($"the work was not done within {timeout.TotalSeconds:0.#} s");
        return done;
    }

    /// <summary>Waits for every process to end, up to <paramref name="timeout"/>; kills whatever is left.</summary>
    public async Task AwaitAllEndedAsync(TimeSpan timeout)
    {
        var allEnded = Task.WhenAll(_processes.Select(p => p.Exited));
        if (await Task.WhenAny(allEnded, Task.Delay(timeout)).ConfigureAwait(false) != allEnded)
        {
            var hanging = _processes.Where(p => p.IsAlive).Select(p => p.Name).ToList();
            _progress($"killing {hanging.Count} process(es) still running after {timeout.TotalSeconds:0.#} s: {string.Join(", ", hanging)}");
            await KillAllAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Participants still running when the run ended them (a failed phase, the end of the run): not their failure.</summary>
    public bool WasEndedByRun(SimProcess process)
    {
        lock (_endedByRun)
            return _endedByRun.Contains(process.Name);
    }

    public async Task KillAllAsync()
    {
        // A signal to each process group, not Process.Kill(entireProcessTree), which scans all of /proc per
        // child: 50 took 30 s.
        foreach (var process in _processes.Where(p => p.IsAlive))
        {
            lock (_endedByRun)
                _endedByRun.Add(process.Name);
            process.KillTree();
        }
        // Reap them all: a killed child not waited for would stay a zombie.
        await Task.WhenAll(_processes.Where(p => p.Pid is not null).Select(p => p.Exited)).WaitAsync(TimeSpan.FromSeconds(10))
            .ContinueWith(_ => { }).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopSampling.CancelAsync().ConfigureAwait(false);
        await _sampler.ConfigureAwait(false);
        await Task.WhenAll(_faultTasks).ContinueWith(_ => { }).ConfigureAwait(false);
        _stopSampling.Dispose();
        await KillAllAsync().ConfigureAwait(false);
        if (_home is not null)
            await _home.DisposeAsync().ConfigureAwait(false);
        foreach (var process in _processes)
            process.Dispose();
        await System.Terminate().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { }).ConfigureAwait(false);
    }

    private static string Describe(SimProcess process, string when)
    {
        if (process.LostReason is { } lost)
            return $"{process.Name} (pid {process.Pid?.ToString() ?? "none"}) was {lost} {when}";
        var reason = process.StderrTail.LastOrDefault(l => !string.IsNullOrWhiteSpace(l)) ?? "no message";
        return $"{process.Name} (pid {process.Pid}) exited with code {process.ExitCode} {when}: {reason}";
    }
}
