using Akka.Actor;

namespace Sim.Core;

/// <summary>
/// The coordinator's actors in one actor system: lock manager, start barrier and result collector, plus
/// the scenario's own primitives (the ticket store). The launcher hosts it; a test can host it in-process.
/// </summary>
public sealed class Coordinator
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private readonly ActorSystem _system;

    private Coordinator(ActorSystem system)
    {
        _system = system;
        LockManager = system.ActorOf(Core.LockManager.Props(), Core.LockManager.Name);
        Barrier = system.ActorOf(StartBarrier.Props(), StartBarrier.Name);
        Results = system.ActorOf(ResultCollector.Props(), ResultCollector.Name);
        Roster = system.ActorOf(Core.Roster.Props(), Core.Roster.Name);
        Queues = system.ActorOf(QueueManager.Props(), QueueManager.Name);
        Ledger = system.ActorOf(Core.Ledger.Props(), Core.Ledger.Name);
        SharedData = system.ActorOf(Core.SharedData.Props(), Core.SharedData.Name);
        Pipes = system.ActorOf(PipeRegistry.Props(), PipeRegistry.Name);
        History = system.ActorOf(Core.History.HistoryCollector.Props(), Core.History.HistoryCollector.Name);
    }

    public static Coordinator Start(ActorSystem system) => new(system);

    /// <summary>The actor system the coordinator's actors live in.</summary>
    public ActorSystem System => _system;

    public IActorRef LockManager { get; }
    public IActorRef Barrier { get; }
    public IActorRef Results { get; }
    public IActorRef Roster { get; }
    public IActorRef Queues { get; }
    public IActorRef Ledger { get; }
    public IActorRef SharedData { get; }
    public IActorRef Pipes { get; }

    /// <summary>Takes the participants' recorded events into the run's history (see <see cref="Core.History.HistoryLog"/>).</summary>
    public IActorRef History { get; }
    public IActorRef? TicketStore { get; private set; }

    /// <summary>For clients on the coordinator's own node (the launcher's queue, its reading of shared data): never fenced.</summary>
    public ClientLink Link { get; } = ClientLink.Local("launcher");

    /// <summary>Where participants find the coordinator (akka.tcp://sim@host:port).</summary>
    public Address Address => ((ExtendedActorSystem)_system).Provider.DefaultAddress;

    public IActorRef StartTicketStore(string path) =>
        TicketStore = _system.ActorOf(Core.TicketStore.Props(path), Core.TicketStore.Name);

    /// <summary>Tell every primitive that a participant's process ended, so what it held passes on now.</summary>
    public void ReportExited(string name, int? exitCode) =>
        _system.EventStream.Publish(new ParticipantExited(name, exitCode));

    public Task<AllReady> AwaitReadyAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Barrier.Ask<AllReady>(new AwaitReady(count), timeout, cancellationToken);

    public Task<BarrierReleased> ReleaseBarrierAsync() =>
        Barrier.Ask<BarrierReleased>(ReleaseBarrier.Instance, AskTimeout);

    public async Task<IReadOnlyList<ParticipantResult>> AwaitResultsAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        (await Results.Ask<Results>(new AwaitResults(count), timeout, cancellationToken).ConfigureAwait(false)).All;

    /// <summary>The first deadlock the lock manager finds (at once if it found one already); null if none within <paramref name="timeout"/>.</summary>
    public async Task<DeadlockFound?> AwaitDeadlockAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            return await LockManager.Ask<DeadlockFound>(AwaitDeadlock.Instance, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Every deadlock the lock manager found, oldest first.</summary>
    public async Task<IReadOnlyList<DeadlockFound>> DeadlocksAsync() =>
        (await LockManager.Ask<Deadlocks>(GetDeadlocks.Instance, AskTimeout).ConfigureAwait(false)).All;

    public async Task<IReadOnlyList<ParticipantResult>> ResultsAsync() =>
        (await Results.Ask<Results>(GetResults.Instance, AskTimeout).ConfigureAwait(false)).All;
}
