using System.Collections.Concurrent;
using Akka.Actor;
using Sim.Core.History;

namespace Sim.Core;

/// <summary>Who a participant is, and the parameters its role reads (from the scenario or the command line).</summary>
public sealed record ParticipantInfo(string Name, string Role, int Pid, IReadOnlyDictionary<string, string> Parameters)
{
    public string Text(string key, string fallback) => Parameters.TryGetValue(key, out var v) ? v : fallback;

    public int Int(string key, int fallback) =>
        Parameters.TryGetValue(key, out var v)
            ? int.TryParse(v, out var parsed) ? parsed : throw new FormatException($"parameter {key}={v} is not an integer")
            : fallback;

    public bool Bool(string key, bool fallback) =>
        Parameters.TryGetValue(key, out var v)
            ? bool.TryParse(v, out var parsed) ? parsed : throw new FormatException($"parameter {key}={v} is not true or false")
            : fallback;
}

/// <summary>
/// A participant's link to the coordinator: the client API its role uses. The same role code runs in its
/// own OS process (Sim.Node) or in-process in a test; it cannot tell the difference.
/// </summary>
public sealed class Participant : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ActorSystem _system;
    private readonly Address _coordinator;
    private readonly ConcurrentDictionary<string, Lazy<Task<IActorRef>>> _resolved = new(StringComparer.Ordinal);
    private readonly IActorRef _roster;
    private readonly CancellationTokenSource _lost;
    private readonly ClientLink _link;

    private Participant(ActorSystem system, Address coordinator, ParticipantInfo info, IActorRef session,
        IActorRef lockManager, IActorRef barrier, IActorRef results, IActorRef roster, CancellationTokenSource lost)
    {
        _roster = roster;
        _lost = lost;
        _system = system;
        _coordinator = coordinator;
        _link = new ClientLink(info.Name, lost.Token);
        Info = info;
        Session = session;
        LockManager = lockManager;
        StartGate = barrier;
        Results = results;
    }

    public ParticipantInfo Info { get; }
    public string Name => Info.Name;
    public ActorSystem System => _system;

    /// <summary>What every client handle of this participant shares (its name; its end when fenced or when the coordinator is lost).</summary>
    public ClientLink Link => _link;

    /// <summary>Lives as long as this participant: the lock manager watches it to free what a dead participant held.</summary>
    public IActorRef Session { get; }

    /// <summary>Cancelled when the coordinator is gone (remote DeathWatch): the role should give up its work.</summary>
    public CancellationToken CoordinatorLost => _lost.Token;

    public IActorRef LockManager { get; }
    /// <summary>The start barrier every participant waits at before the work (<see cref="ReadyAsync"/>).</summary>
    public IActorRef StartGate { get; }
    public IActorRef Results { get; }

    /// <summary>
    /// Finds the coordinator's actors, retrying until <paramref name="timeout"/> (the coordinator may still be
    /// starting); throws <see cref="TimeoutException"/> naming the address if it cannot be reached.
    /// </summary>
    public static async Task<Participant> ConnectAsync(ActorSystem system, Address coordinator, ParticipantInfo info,
        TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        // Asked together: one round trip of waiting instead of four.
        var resolving = new[] { Core.LockManager.Name, StartBarrier.Name, ResultCollector.Name, Core.Roster.Name }
            .Select(name => ResolveAsync(system, coordinator, name, deadline, cancellationToken)).ToArray();
        var refs = await Task.WhenAll(resolving).ConfigureAwait(false);
        var (lockManager, barrier, results, roster) = (refs[0], refs[1], refs[2], refs[3]);
        var lost = new CancellationTokenSource();
        var session = system.ActorOf(ParticipantSession.Props(roster, lost),
            $"session-{Uri.EscapeDataString(info.Name)}-{Guid.NewGuid():N}");
        var participant = new Participant(system, coordinator, info, session, lockManager, barrier, results, roster, lost)
        {
            ResolveTimeout = timeout > DefaultTimeout ? timeout : DefaultTimeout,
        };
        // Every run records its history unless the shell said not to (parameter sim-history=false, e.g. a bench's baseline).
        if (info.Bool(HistoryParameter, true))
        {
            var collector = system.ActorSelection(new RootActorPath(coordinator) / "user" / HistoryCollector.Name);
            participant._history = collector;
            participant._link.History = new HistoryRecorder(info.Name, batch => collector.Tell(batch, ActorRefs.NoSender));
        }
        return participant;
    }

    /// <summary>The parameter that turns the recording of this participant's history off (<c>false</c>); on by default.</summary>
    public const string HistoryParameter = "sim-history";

    private ActorSelection? _history;

    /// <summary>
    /// Sends what this participant recorded and waits (up to <paramref name="timeout"/>) until the coordinator has it, so
    /// that its history is complete there before its report is. Best effort: a coordinator that does not answer is let be.
    /// </summary>
    public async Task FlushHistoryAsync(TimeSpan timeout)
    {
        if (_history is null || _link.History is not { Recorded: > 0 } recorder || recorder.Take(ack: true) is not { } batch)
            return;
        try
        {
            await _history.Ask<HistoryBatchTaken>(batch, timeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TimeoutException or OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// How long finding another coordinator actor (queues, ticket store, pipes, shared data) may take: as long as
    /// reaching the coordinator may, because 100 nodes booting together on 2 cores slow the first answers as much.
    /// </summary>
    public TimeSpan ResolveTimeout { get; private init; } = DefaultTimeout;

    /// <summary>
    /// Runs once through what every participant does first (reach the coordinator, resolve its actors, ask
    /// the lock manager, leave) so that the code and connections involved are loaded before real work needs them.
    /// Best effort: returns null when done, else why not (a system that cannot warm up still works).
    /// </summary>
    public static async Task<string?> WarmUpAsync(ActorSystem system, Address coordinator, string name)
    {
        try
        {
            var info = new ParticipantInfo(name, "warm-up", Environment.ProcessId, new Dictionary<string, string>());
            await using var participant = await ConnectAsync(system, coordinator, info, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            await using (await participant.Lock("warm-up").AcquireAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false))
            {
            }
            await participant.LeaveAsync(0, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is TimeoutException or AskTimeoutException or InvalidOperationException or OperationCanceledException)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// A mutex. <paramref name="lease"/> above zero asks for leased grants (zero: the lock's own lease, if its scenario
    /// gave it one): this node renews them while it runs, and one that is paused or cut off loses the lock.
    /// </summary>
    public SimLock Lock(string name, TimeSpan lease = default) => new(LockManager, name, _link, Session) { Lease = lease };

    /// <summary>Python's RLock: reentrant for this participant.</summary>
    public SimRLock RLock(string name, TimeSpan lease = default) => new(LockManager, name, _link, Session) { Lease = lease };

    /// <summary>Python's Semaphore(value): value 0 or more; anyone's release raises it.</summary>
    public SimSemaphore Semaphore(string name, int value = 1) => new(LockManager, name, value, _link, Session);

    /// <summary>Python's BoundedSemaphore(value): a release above the initial value throws.</summary>
    public SimBoundedSemaphore BoundedSemaphore(string name, int value = 1) => new(LockManager, name, value, _link, Session);

    /// <summary>Python's Condition(lock): on <paramref name="lock"/> (a Lock or RLock of this participant), by default the RLock <c>NAME.lock</c>.</summary>
    public SimCondition Condition(string name, SemLock? @lock = null) => new(name, @lock ?? RLock($"{name}.lock"));

    /// <summary>Python's Event.</summary>
    public SimEvent Event(string name) => new(LockManager, name, _link, Session);

    /// <summary>Python's Barrier(parties).</summary>
    public SimBarrier Barrier(string name, int parties) => new(LockManager, name, parties, _link, Session);

    /// <summary>The named queue on the coordinator (created on first use with this maxsize; 0 = unbounded).</summary>
    public async Task<SimQueue> QueueAsync(string name, int maxSize = 0, CancellationToken cancellationToken = default) =>
        await SimQueue.DeclareAsync(await ResolveNamedAsync(QueueManager.Name, ResolveTimeout, cancellationToken).ConfigureAwait(false),
            name, maxSize, _link, Session, cancellationToken).ConfigureAwait(false);

    /// <summary>The named joinable queue on the coordinator (created on first use).</summary>
    public async Task<SimJoinableQueue> JoinableQueueAsync(string name, int maxSize = 0, CancellationToken cancellationToken = default) =>
        await SimJoinableQueue.DeclareAsync(await ResolveNamedAsync(QueueManager.Name, ResolveTimeout, cancellationToken).ConfigureAwait(false),
            name, maxSize, _link, Session, cancellationToken).ConfigureAwait(false);

    /// <summary>Opens <paramref name="end"/> (0 or 1) of the named pipe; returns once the other end has opened too.</summary>
    public async Task<PipeConnection> PipeAsync(string name, int end, bool duplex = true, TimeSpan? timeout = null)
    {
        SentOneWayToPeers = true;
        return await PipeConnection.OpenAsync(_system, await ResolveNamedAsync(PipeRegistry.Name, ResolveTimeout).ConfigureAwait(false),
            name, end, duplex, Name, timeout ?? TimeSpan.FromSeconds(60)).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether this participant may have sent messages that nobody acknowledged (pipe sends go one-way to the
    /// peer): its node then shuts its actor system down in order, so they leave before the process does.
    /// </summary>
    public bool SentOneWayToPeers { get; private set; }

    /// <summary>The named shared object on the coordinator (the lesson's Manager), created on first use.</summary>
    public async Task<SharedObjectClient> SharedAsync(string name, SharedKind kind, SharedScalar? initial = null, int length = 0,
        CancellationToken cancellationToken = default) =>
        await SharedObjectClient.DeclareAsync(await ResolveNamedAsync(Core.SharedData.Name, ResolveTimeout, cancellationToken).ConfigureAwait(false),
            _link, name, kind, initial, length, cancellationToken).ConfigureAwait(false);

    /// <summary>Records that this participant processed the items <paramref name="ids"/> (see <see cref="Core.Ledger"/>).</summary>
    public async Task RecordConsumedAsync(IReadOnlyList<long> ids, CancellationToken cancellationToken = default)
    {
        var ledger = await ResolveNamedAsync(Core.Ledger.Name, ResolveTimeout, cancellationToken).ConfigureAwait(false);
        if (await _link.AskAsync(ledger, new Consumed(Name, ids), DefaultTimeout, cancellationToken).ConfigureAwait(false) is not ConsumedAck)
            throw new InvalidOperationException("unexpected reply to a ledger record");
    }

    /// <summary>
    /// Marks the oldest <paramref name="record"/>.Count deliveries this participant took from <paramref name="queue"/> done and
    /// records, for each one it still held, the item id at the same place in <paramref name="record"/> (negative: nothing to
    /// record), in one round trip and one step at the queue: an item whose lease ran out and went to another consumer is
    /// neither done nor recorded here (<see cref="QueueTaskDoneAck.Lost"/>).
    /// </summary>
    public async Task<QueueTaskDoneAck> RecordConsumedAndTaskDoneAsync(IReadOnlyList<long> record, SimJoinableQueue queue,
        CancellationToken cancellationToken = default)
    {
        var ledger = await ResolveNamedAsync(Core.Ledger.Name, ResolveTimeout, cancellationToken).ConfigureAwait(false);
        return await queue.TaskDoneRecordingAsync(queue.TakeUnfinished(record.Count), record, ledger, cancellationToken).ConfigureAwait(false);
    }

    public async Task<TicketStoreClient> TicketsAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var store = await ResolveNamedAsync(TicketStore.Name, timeout ?? ResolveTimeout, cancellationToken).ConfigureAwait(false);
        return new TicketStoreClient(store, _link);
    }

    /// <summary>Waits at the start barrier; returns when the coordinator lets everyone go.</summary>
    public async Task<Go> ReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        (Go)await _link.AskAsync(StartGate, new Ready(Name, Info.Pid), timeout, cancellationToken).ConfigureAwait(false);

    public async Task ReportAsync(IReadOnlyDictionary<string, long> figures, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        await FlushHistoryAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        await _link.AskAsync(Results, new ParticipantResult(Name, Info.Role, Info.Pid, figures), timeout ?? DefaultTimeout, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// From now on every client call of this participant fails at once and nothing more is sent: the first step of
    /// leaving (terminate), so that no write of a role still running lands after its locks were handed on.
    /// </summary>
    public void Fence() => _link.Fence();

    /// <summary>
    /// The coordinator is known to be gone by other means than DeathWatch (the launcher that hosts it closed our
    /// stdin): every call fails at once with <see cref="CoordinatorLostException"/> instead of waiting for its timeout.
    /// </summary>
    public void CoordinatorGone() => _lost.Cancel();

    /// <summary>
    /// Says goodbye before this participant's process ends (e.g. on SIGTERM), so that what it holds (locks,
    /// queue deliveries) passes on now; the coordinator refuses its requests from then on. Best effort within
    /// <paramref name="timeout"/>: false if not confirmed.
    /// </summary>
    public async Task<bool> LeaveAsync(int? exitCode, TimeSpan timeout)
    {
        try
        {
            // What it recorded goes first, on the same connection as the goodbye.
            _link.History?.Flush();
            // Not through the link: a fenced participant may still say goodbye.
            await _roster.Ask<ExitNoted>(new ParticipantExited(Name, exitCode), timeout).ConfigureAwait(false);
            return true;
        }
        catch (AskTimeoutException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _link.History?.Flush();
        _link.History?.Dispose();
        _system.Stop(Session);
        _link.Dispose();
        return ValueTask.CompletedTask;
    }

    public override string ToString() =>
        $"Participant(name={Name}, role={Info.Role}, pid={Info.Pid}, coordinator={_coordinator}{(_link.IsFenced ? ", fenced" : "")}" +
        $"{(_lost.IsCancellationRequested ? ", coordinator lost" : "")})";

    /// <summary>A coordinator actor by name; a lookup that failed is forgotten, so the next call tries again.</summary>
    private async Task<IActorRef> ResolveNamedAsync(string actorName, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var lookup = _resolved.GetOrAdd(actorName, n => new Lazy<Task<IActorRef>>(
            () => ResolveAsync(_system, _coordinator, n, DateTime.UtcNow + timeout, _link.Ended)));
        try
        {
            return await lookup.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (lookup.Value.IsFaulted || lookup.Value.IsCanceled)
        {
            _resolved.TryRemove(KeyValuePair.Create(actorName, lookup));
            throw;
        }
    }

    private static async Task<IActorRef> ResolveAsync(ActorSystem system, Address coordinator, string actorName,
        DateTime deadline, CancellationToken cancellationToken)
    {
        var path = new RootActorPath(coordinator) / "user" / actorName;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
                throw new TimeoutException($"coordinator actor {path} not reachable");
            try
            {
                var attempt = left < TimeSpan.FromSeconds(2) ? left : TimeSpan.FromSeconds(2);
                return await system.ActorSelection(path).ResolveOne(attempt, cancellationToken).ConfigureAwait(false);
            }
            catch (ActorNotFoundException)
            {
                // Not there yet, or the connection is still being set up: try again until the deadline.
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Exists while the participant does (the lock manager watches it), and watches the coordinator in turn.</summary>
    private sealed class ParticipantSession : ReceiveActor
    {
        // A producer, not Props.Create(() => new ...): every participant makes one at start-up, and an expression
        // tree costs it building, evaluating and (with dynamic code) compiling (issue 17).
        public static Props Props(IActorRef roster, CancellationTokenSource lost) =>
            Akka.Actor.Props.CreateBy(new Producer(() => new ParticipantSession(roster, lost)));

        private sealed class Producer(Func<ParticipantSession> create) : IIndirectActorProducer
        {
            public Type ActorType => typeof(ParticipantSession);
            public ActorBase Produce() => create();
            public void Release(ActorBase actor) { }
        }

        private ParticipantSession(IActorRef roster, CancellationTokenSource lost)
        {
            Context.Watch(roster);
            Receive<Terminated>(_ => lost.Cancel());
        }
    }
}
