using Akka.Actor;

namespace Sim.Core.Scenarios;

/// <summary>
/// The coordinator's side of a scenario, the same in every shell: declares its primitives before anyone starts, and
/// after the run reads the facts they recorded (grants, puts, values, the ticket file, the ledger).
/// </summary>
public sealed class ScenarioPrimitives
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    private readonly Coordinator _coordinator;
    private readonly Scenario _scenario;
    private readonly Dictionary<string, SimQueue> _queues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SharedObjectClient> _values = new(StringComparer.Ordinal);
    private (PrimitiveDeclaration Declaration, TicketFile File, int Initial, IActorRef Store)? _tickets;

    private ScenarioPrimitives(Coordinator coordinator, Scenario scenario)
    {
        _coordinator = coordinator;
        _scenario = scenario;
    }

    /// <summary>The ticket file, if the scenario declares one.</summary>
    public TicketFile? TicketFile => _tickets?.File;

    public IActorRef? TicketStore => _tickets?.Store;

    public SimQueue Queue(string name) => _queues[name];

    /// <summary>A shared value the scenario declares (e.g. for its per-writer statistics).</summary>
    public SharedObjectClient Value(string name) => _values[name];

    /// <summary>The ledger's verdict, once <see cref="CollectFactsAsync"/> has read it (scenarios with an exactly-once check).</summary>
    public LedgerReport? Ledger { get; private set; }

    /// <summary>The leases that ran out in the run (holders that stopped renewing), once <see cref="CollectFactsAsync"/> has asked.</summary>
    public IReadOnlyList<LeaseExpiry> LeaseExpiries { get; private set; } = [];

    /// <summary>The first deadlock the lock manager found in the run, once <see cref="CollectFactsAsync"/> has asked.</summary>
    public DeadlockFound? Deadlock { get; private set; }

    /// <summary>What each producer really put (by producer index, from 1), once the facts are collected.</summary>
    public IReadOnlyList<long> ProducedBy { get; private set; } = [];

    internal Coordinator Coordinator => _coordinator;

    /// <summary>
    /// Declares every primitive on <paramref name="coordinator"/>. A ticket file is created at
    /// <paramref name="ticketFile"/>(declaration) (the shell decides where its files live).
    /// </summary>
    public static async Task<ScenarioPrimitives> DeclareAsync(Coordinator coordinator, Scenario scenario, Func<PrimitiveDeclaration, string> ticketFile)
    {
        var declared = new ScenarioPrimitives(coordinator, scenario);
        foreach (var primitive in scenario.Primitives)
        {
            var size = scenario.ResolveInt(primitive.Size, $"primitives.{primitive.Name}.size");
            switch (primitive.Kind)
            {
                case PrimitiveKind.Queue:
                    declared._queues[primitive.Name] =
                        await SimQueue.DeclareAsync(coordinator.Queues, primitive.Name, size, coordinator.Link, ActorRefs.Nobody).ConfigureAwait(false);
                    break;
                case PrimitiveKind.JoinableQueue:
                    declared._queues[primitive.Name] =
                        await SimJoinableQueue.DeclareAsync(coordinator.Queues, primitive.Name, size, coordinator.Link, ActorRefs.Nobody,
                            TimeSpan.FromMilliseconds(scenario.ResolveInt(primitive.LeaseMs, $"primitives.{primitive.Name}.lease-ms"))).ConfigureAwait(false);
                    break;
                case PrimitiveKind.Value:
                    declared._values[primitive.Name] = await SharedObjectClient.DeclareAsync(coordinator.SharedData, coordinator.Link, primitive.Name,
                        SharedKind.Value, SharedScalar.Of(size)).ConfigureAwait(false);
                    break;
                case PrimitiveKind.Barrier:
                    // Declared with its parties now, so that a role asking for other parties is refused.
                    if (size < 1)
                        throw new ScenarioException($"primitives.{primitive.Name}.size: a barrier needs at least 1 party, got {size}");
                    await coordinator.LockManager.Ask<BarrierState>(new BarrierCommand(primitive.Name, size, BarrierAction.State, coordinator.Link.Participant),
                        AskTimeout).ConfigureAwait(false);
                    break;
                case PrimitiveKind.Lock or PrimitiveKind.RLock or PrimitiveKind.Semaphore or PrimitiveKind.BoundedSemaphore:
                    var leaseMs = scenario.ResolveInt(primitive.LeaseMs, $"primitives.{primitive.Name}.lease-ms");
                    if (leaseMs > 0)
                        await coordinator.LockManager.Ask<LeaseSet>(new SetLease(primitive.Name, TimeSpan.FromMilliseconds(leaseMs)), AskTimeout)
                            .ConfigureAwait(false);
                    break;
                case PrimitiveKind.Tickets:
                    if (declared._tickets is not null)
                        throw new ScenarioException($"primitives: one ticket file per scenario ('{declared._tickets.Value.Declaration.Name}' and '{primitive.Name}')");
                    var file = Core.TicketFile.Create(ticketFile(primitive), size);
                    declared._tickets = (primitive, file, size, coordinator.StartTicketStore(file.Path));
                    break;
            }
        }
        return declared;
    }

    /// <summary>The facts of the run: what every run records about its participants, and what each primitive recorded.</summary>
    public async Task<IReadOnlyDictionary<string, long>> CollectFactsAsync(IReadOnlyList<ParticipantOutcome> participants)
    {
        var facts = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["participants"] = participants.Count,
            ["reported"] = participants.Count(p => p.Result is not null),
            ["faulted"] = participants.Count(p => p.Faulted),
            ["unexpected_exits"] = participants.Count(p => p.Unexpected),
        };
        var deadlocks = await _coordinator.DeadlocksAsync().ConfigureAwait(false);
        facts["deadlocks"] = deadlocks.Count;
        Deadlock = deadlocks.FirstOrDefault();
        var putBy = new Dictionary<string, long>(StringComparer.Ordinal);
        var expiries = (await _coordinator.LockManager.Ask<LeaseExpiries>(GetLeaseExpiries.Instance, AskTimeout).ConfigureAwait(false)).All;
        LeaseExpiries = expiries;
        foreach (var primitive in _scenario.Primitives)
        {
            var name = primitive.Name;
            switch (primitive.Kind)
            {
                case PrimitiveKind.Lock or PrimitiveKind.RLock or PrimitiveKind.Semaphore or PrimitiveKind.BoundedSemaphore:
                    var state = await _coordinator.LockManager.Ask<LockState>(new GetLockState(name), AskTimeout).ConfigureAwait(false);
                    facts[$"{name}.grants"] = state.LastToken;
                    facts[$"{name}.lease_expiries"] = expiries.Count(e => e.Lock == name);
                    if (primitive.Kind is PrimitiveKind.Semaphore or PrimitiveKind.BoundedSemaphore)
                        facts[$"{name}.value"] = state.LastToken == 0 && state.Value == 0 ? _scenario.ResolveInt(primitive.Size, name) : state.Value;
                    break;
                case PrimitiveKind.Event:
                    var flag = await _coordinator.LockManager.Ask<EventState>(new GetEventState(name), AskTimeout).ConfigureAwait(false);
                    facts[$"{name}.is_set"] = flag.IsSet ? 1 : 0;
                    facts[$"{name}.waiting"] = flag.Waiting;
                    break;
                case PrimitiveKind.Barrier:
                    var barrier = await _coordinator.LockManager.Ask<BarrierState>(
                        new BarrierCommand(name, _scenario.ResolveInt(primitive.Size, name), BarrierAction.State, _coordinator.Link.Participant), AskTimeout)
                        .ConfigureAwait(false);
                    facts[$"{name}.broken"] = barrier.Broken ? 1 : 0;
                    facts[$"{name}.waiting"] = barrier.Waiting;
                    break;
                case PrimitiveKind.Queue or PrimitiveKind.JoinableQueue:
                    var status = await _queues[name].StatusAsync().ConfigureAwait(false);
                    // What the participants put; the None sentinels the run itself puts are not items.
                    facts[$"{name}.put"] = status.PutBy.Where(kv => participants.Any(p => p.Spec.Name == kv.Key)).Sum(kv => kv.Value);
                    facts[$"{name}.size"] = status.Size;
                    facts[$"{name}.redelivered"] = status.Redelivered;
                    if (primitive.Kind == PrimitiveKind.JoinableQueue)
                        facts[$"{name}.lease_expiries"] = status.LeaseExpiredBy.Values.Sum();
                    foreach (var (producer, count) in status.PutBy)
                        putBy[producer] = putBy.GetValueOrDefault(producer) + count;
                    break;
                case PrimitiveKind.Value:
                    var value = await _values[name].GetAsync().ConfigureAwait(false);
                    facts[$"{name}.value"] = value.AsInt();
                    facts[$"{name}.writes"] = (await _values[name].StatsAsync().ConfigureAwait(false)).Writes;
                    break;
                case PrimitiveKind.Tickets:
                    var (_, file, initial, store) = _tickets!.Value;
                    var writes = (await store.Ask<TicketWrites>(GetTicketWrites.Instance, AskTimeout).ConfigureAwait(false)).All;
                    var reporters = participants.Where(p => p.Result is not null).Select(p => p.Spec.Name).ToHashSet(StringComparer.Ordinal);
                    facts[$"{name}.initial"] = initial;
                    facts[$"{name}.remaining"] = file.Read().Count;
                    facts[$"{name}.writes"] = writes.Count;
                    // A writer killed after its write landed bought a ticket it could not report.
                    facts[$"{name}.unreported_writers"] = writes.Select(w => w.Writer).Distinct().Count(w => !reporters.Contains(w));
                    break;
            }
        }
        if (_scenario.Checks.OfType<ExactlyOnceCheck>().Any())
        {
            // Item ids carry the producer's index: what producer i really put is the first n of its ids.
            var producers = participants.Where(p => p.Spec.Parameters.ContainsKey("producer-index"))
                .Select(p => (Index: int.Parse(p.Spec.Parameters["producer-index"], System.Globalization.CultureInfo.InvariantCulture), p.Spec.Name)).ToList();
            var produced = new long[producers.Count == 0 ? 0 : producers.Max(p => p.Index)];
            foreach (var (index, name) in producers)
                produced[index - 1] = putBy.GetValueOrDefault(name);
            var ledger = await _coordinator.Ledger.Ask<LedgerReport>(new CheckLedger(produced), TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            (Ledger, ProducedBy) = (ledger, produced);
            var faulted = participants.Where(p => p.Faulted).Select(p => p.Spec.Name).ToHashSet(StringComparer.Ordinal);
            facts["ledger.consumed"] = ledger.Consumed;
            facts["ledger.distinct"] = ledger.Distinct;
            facts["ledger.missing"] = ledger.Missing;
            facts["ledger.duplicates"] = ledger.Duplicates;
            facts["ledger.unexpected"] = ledger.Unexpected;
            // Consumers of a duplicated item that a fault ended: a joinable queue gives what they had not marked done again.
            facts["ledger.faulted_duplicate_consumers"] = ledger.DuplicateConsumers.Count(faulted.Contains);
        }
        return facts;
    }
}
