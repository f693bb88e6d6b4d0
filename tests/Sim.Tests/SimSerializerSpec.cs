using Akka.Actor;
using Akka.Serialization;
using Sim.Core;
using Sim.Core.Serialization;
using Xunit;

namespace Sim.Tests;

public sealed class SimSerializerSpec : SimSpec
{
    /// <summary>One or more samples of every Sim message type (the fuzz spec mutates their bytes too).</summary>
    internal static IEnumerable<ISimMessage> Samples(IActorRef owner)
    {
        yield return new Acquire("tickets", 7, "buyer-3", owner, TimeSpan.FromMilliseconds(1500), SemKind.BoundedSemaphore, 2);
        yield return new Acquire("tickets", 7, "buyer-3", owner, TimeSpan.FromMilliseconds(1500));
        yield return new Granted("tickets", 7, 12);
        yield return new Granted("tickets", 7, 12, TimeSpan.FromMilliseconds(750));
        yield return new Acquire("tickets", 7, "buyer-3", owner, TimeSpan.FromMilliseconds(1500), Lease: TimeSpan.FromSeconds(2));
        yield return new SetLease("tickets", TimeSpan.FromSeconds(2));
        yield return new LeaseSet("tickets", TimeSpan.Zero);
        yield return new RenewLease("tickets", 12, "buyer-3");
        yield return new LeaseRenewed("tickets", 12);
        yield return new LeaseLost("tickets", 12, "ran out");
        yield return new LeaseExpiry("tickets", "buyer-3", 12, 1_700_000_000_000);
        yield return GetLeaseExpiries.Instance;
        yield return new LeaseExpiries([new LeaseExpiry("tickets", "buyer-3", 12, 5), new LeaseExpiry("t2", "b", 1, 6)]);
        yield return new AcquireTimedOut("tickets", 7);
        yield return new AcquireRefused("tickets", 7, "why");
        yield return new CancelAcquire("tickets", 7, "buyer-3");
        yield return new Release("tickets", 12, "buyer-3");
        yield return new Released("tickets", 12);
        yield return new Released("tickets", 12, 2);
        yield return new ReleasePermits("pool", "buyer-3", SemKind.Semaphore, 0, 3);
        yield return new PermitsReleased("pool", 3, [4, 5]);
        yield return new SemaphoreOverReleased("pool", 2, "released too many times");
        yield return new DeadlockFound([new DeadlockEdge("a", "fork-1", "fork-2", "b"), new DeadlockEdge("b", "fork-2", "fork-1", "a")], ["a", "b"], 1_700_000_000_000);
        yield return AwaitDeadlock.Instance;
        yield return GetDeadlocks.Instance;
        yield return new Deadlocks([new DeadlockFound([new DeadlockEdge("a", "l", "l", "a")], ["a"], 5)]);
        yield return new ConditionWait("ready", "ready.lock", 8, "buyer-3", owner, TimeSpan.FromSeconds(2));
        yield return new ConditionWoken("ready", 8, 13, true);
        yield return new ConditionNotify("ready", "ready.lock", "buyer-3", int.MaxValue);
        yield return new ConditionNotified("ready", 2);
        yield return new EventChange("go", true, "starter");
        yield return new EventWait("go", 9, "buyer-3", owner, TimeSpan.FromSeconds(3));
        yield return new EventWaited("go", 9, true);
        yield return new GetEventState("go");
        yield return new EventState("go", true, 0, 4);
        yield return new BarrierWait("meet", 4, 10, "buyer-3", owner, TimeSpan.FromSeconds(4));
        yield return new BarrierPassed("meet", 10, 3);
        yield return new BarrierBroken("meet", 10, "aborted");
        yield return new BarrierCommand("meet", 4, BarrierAction.Reset, "buyer-3");
        yield return new BarrierState("meet", 4, 2, false);
        yield return new ReleaseRefused("tickets", 12, "not yours");
        yield return new ParticipantExited("buyer-3", -9);
        yield return new ParticipantExited("buyer-3", null);
        yield return new ExitNoted("buyer-3");
        yield return new ParticipantFenced("buyer-3", "it left the run");
        yield return new GetLockState("tickets");
        yield return new LockState("tickets", SemKind.RLock, 1, 0, 12, [new LockHolderInfo("buyer-3", 12, 2)], ["buyer-4", "buyer-5"]);
        yield return new SearchTickets("buyer-3", 12);
        yield return new TicketSnapshot(3, 9);
        yield return new WriteTickets(2, 9, "buyer-3");
        yield return new TicketWriteAccepted(2, 9);
        yield return new TicketWriteRejected("stale", 10);
        yield return new TicketStoreFailed("disk full");
        yield return GetTicketWrites.Instance;
        yield return new TicketWrites([new TicketWrite("buyer-1", 2, 7)]);
        yield return new Ready("buyer-3", 1234);
        yield return new Go(1_700_000_000_000);
        yield return new AwaitReady(50);
        yield return new AllReady(["buyer-1", "buyer-2"]);
        yield return ReleaseBarrier.Instance;
        yield return new BarrierReleased(50);
        yield return new ParticipantResult("buyer-3", "buyer", 1234, new Dictionary<string, long> { ["bought"] = 1, ["token"] = 12 });
        yield return new ResultRecorded("buyer-3");
        yield return GetResults.Instance;
        yield return new AwaitResults(8);
        yield return new DeclareQueue("q", 10, true, "producer-1");
        yield return new DeclareQueue("q", 10, true, "launcher", TimeSpan.FromMilliseconds(750));
        yield return new QueueDeclared("q", owner);
        yield return new QueueDeclared("q", owner, TimeSpan.FromMilliseconds(750));
        yield return new QueuePut("producer-1", [QueueItem.Text("a"), QueueItem.None, QueueItem.Bytes([1, 2, 3])], TimeSpan.FromSeconds(2));
        yield return new QueuePutDone(3);
        yield return new QueueFull(1);
        yield return new QueueGet("consumer-1", owner, 10, TimeSpan.FromSeconds(1));
        yield return new QueueGet("consumer-1", owner, 10, TimeSpan.FromSeconds(1), 77, 2);
        yield return new QueueItems([new Delivery(7, QueueItem.Text("x")), new Delivery(8, QueueItem.None)]);
        yield return QueueEmpty.Instance;
        yield return new QueueClosed("q");
        yield return new QueueTaskDone("consumer-1", [7, 8]);
        yield return new QueueTaskDone("consumer-1", [7, 8], [Ledger.ItemId(1, 3), -1], owner);
        yield return new QueueTaskDoneAck(5);
        yield return new QueueTaskDoneAck(5, [7]);
        yield return new RenewDeliveries("consumer-1", 77, [7, 8]);
        yield return new DeliveriesRenewed([8], 2);
        yield return new QueueError("why");
        yield return new QueueJoin(TimeSpan.FromSeconds(3), "producer-1");
        yield return new QueueJoined("q");
        yield return new QueueJoinTimedOut(4);
        yield return new CloseQueue("producer-1", false);
        yield return new CloseQueue("producer-1", true);
        yield return GetQueueStatus.Instance;
        yield return new QueueStatus("q", 10, true, false, 3, 5, 2, 1, new Dictionary<string, long> { ["producer-1"] = 5 });
        yield return new QueueStatus("q", 10, true, false, 3, 5, 2, 1, new Dictionary<string, long> { ["producer-1"] = 5 },
            new Dictionary<string, long> { ["consumer-1"] = 2 }, 1);
        yield return new PipeOpen("p", 1, "pipe-b", owner, false);
        yield return new PipeConnected("p", owner);
        yield return new PipeRefused("taken");
        yield return new PipeData(QueueItem.Text("hello"), 3, true);
        yield return new PipeBatch([new PipeData(QueueItem.Text("a"), 7, false), new PipeData(QueueItem.Bytes([1, 2]), 8, true)]);
        yield return new PipeAck(4096);
        yield return new PipeDrain(2);
        yield return new PipeDrained(2);
        yield return new PipeClose(3);
        yield return new PipePeerGone("p");
        yield return new DeclareShared("counter", SharedKind.Array, SharedScalar.Of(1.5), 3, "counter-1");
        yield return new SharedGet("counter", "1", "counter-1", 4);
        yield return new SharedSet("counter", "", SharedScalar.Of("text"), "counter-1", 4);
        yield return new SharedAdd("counter", "", SharedScalar.Of(1), "counter-1", 0);
        yield return new SharedCompareAndSet("counter", "k", SharedScalar.None, SharedScalar.Of(2), "counter-1", 5);
        yield return new SharedAppend("l", SharedScalar.Of(3), "counter-1", 6);
        yield return new SharedSnapshot("l", "counter-1");
        yield return new SharedStale("counter", 3, 4);
        yield return new GetSharedStats("counter");
        yield return new SharedStats("counter", 10, 1, 4, new Dictionary<string, long> { ["counter-1"] = 10 });
        yield return new SharedDone(SharedScalar.Of(4), true);
        yield return new SharedItems(SharedKind.Dict, [KeyValuePair.Create("a", SharedScalar.Of(1))]);
        yield return new SharedError("no");
        yield return new Consumed("consumer-1", [Ledger.ItemId(1, 0), Ledger.ItemId(2, 7)]);
        yield return new ConsumedAck(2);
        yield return new Sim.Core.History.HistoryBatch("buyer-1",
        [
            new Sim.Core.History.HistoryEvent(Sim.Core.History.HistorySite.Process, Sim.Core.History.HistoryType.Invoke, "buyer-1", "lock", "tickets",
                "acquire", [], 0, 1_700_000_000_000_000, 1),
            new Sim.Core.History.HistoryEvent(Sim.Core.History.HistorySite.Process, Sim.Core.History.HistoryType.Fail, "buyer-1", "tickets", "tickets",
                "write", [2, -3], 7, 1_700_000_000_000_123, 2, "stale token"),
        ], true);
        yield return new Sim.Core.History.HistoryBatchTaken(2);
        yield return new CheckLedger([10, 20]);
        yield return new LedgerReport(30, 29, 1, 1, 0, new Dictionary<string, long> { ["consumer-1"] = 30 }, ["consumer-1"], 1234);
        yield return new Results([new ParticipantResult("b", "buyer", 1, new Dictionary<string, long> { ["x"] = -1 })]);
    }

    [Fact]
    public void Every_sim_message_type_has_a_wire_format_and_a_sample_here()
    {
        var messageTypes = typeof(ISimMessage).Assembly.GetTypes()
            .Where(t => typeof(ISimMessage).IsAssignableFrom(t) && t is { IsInterface: false, IsAbstract: false })
            .ToHashSet();
        var sampled = Samples(CreateTestProbe().Ref).Select(s => s.GetType()).ToHashSet();
        Assert.Empty(messageTypes.Except(sampled).Select(t => t.Name));
    }

    [Fact]
    public void Every_sample_round_trips_through_the_sim_serializer()
    {
        var serialization = Sys.Serialization;
        foreach (var message in Samples(CreateTestProbe().Ref))
        {
            var serializer = serialization.FindSerializerFor(message);
            Assert.IsType<SimSerializer>(serializer);
            var bytes = serializer.ToBinary(message);
            var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
            var back = serialization.Deserialize(bytes, serializer.Identifier, manifest);
            Assert.Equal(Describe(message), Describe(back));
        }
    }

    [Fact]
    public void Messages_larger_than_the_writers_first_buffer_and_long_strings_round_trip()
    {
        // The samples are small; these take the writer's growth and its long-string (multi-byte length) path.
        var items = Enumerable.Range(0, 2000).Select(i => QueueItem.Bytes(Enumerable.Range(0, 64).Select(b => (byte)(b * i)).ToArray())).ToList();
        ISimMessage[] large =
        [
            new QueuePut(new string('p', 41), items, TimeSpan.FromSeconds(2)),
            new QueueError(new string('x', 42)),
            new QueueError(new string('\u20ac', 41)),
            new QueueError("pair \ud83d\ude00 " + new string('\u00e9', 20_000)),
            new PipeData(QueueItem.Bytes(new byte[QueueItem.MessageBytes]), 1, false),
        ];
        var serializer = (SimSerializer)Sys.Serialization.FindSerializerFor(large[0]);
        foreach (var message in large)
        {
            var back = serializer.FromBinary(serializer.ToBinary(message), serializer.Manifest(message));
            Assert.Equal(Describe(message), Describe(back));
        }
    }

    private static readonly IReadOnlyDictionary<string, long> Empty = new Dictionary<string, long>();

    private static string Item(QueueItem item) => $"{item.Kind}:{Convert.ToHexString(item.Payload)}";

    // Records with list or dictionary members compare by reference, so compare their contents as text.
    private static string Describe(object message) => message switch
    {
        LockState s => $"{s.Lock}|{s.Kind}|{s.Initial}|{s.Value}|{s.LastToken}|{string.Join(",", s.Holders)}|{string.Join(",", s.Waiters)}",
        AllReady a => string.Join(",", a.Names),
        ParticipantResult r => $"{r.Name}|{r.Role}|{r.Pid}|{string.Join(",", r.Figures.OrderBy(kv => kv.Key))}",
        Results rs => string.Join(";", rs.All.Select(Describe)),
        TicketWrites tw => string.Join(";", tw.All),
        LeaseExpiries le => string.Join(";", le.All),
        SharedItems si => $"{si.Kind}|{string.Join(",", si.Items)}",
        PipeOpen po => $"{po.Pipe}|{po.End}|{po.Owner}|{po.Endpoint.Path}|{po.Duplex}",
        PipeConnected pc => $"{pc.Pipe}|{pc.Peer.Path}",
        PipeData pd => $"{Item(pd.Item)}|{pd.Seq}|{pd.AckWanted}",
        PipeBatch pb => string.Join(";", pb.Messages.Select(Describe)),
        QueueStatus qs => (qs with { PutBy = Empty, LeaseExpired = null }) + "|" + string.Join(",", qs.PutBy) + "|" + string.Join(",", qs.LeaseExpiredBy),
        Consumed c => $"{c.Consumer}|{string.Join(",", c.Ids)}",
        QueueTaskDone t => $"{t.Consumer}|{string.Join(",", t.Deliveries)}|{string.Join(",", t.Record ?? [])}|{t.Ledger?.Path}",
        QueueTaskDoneAck ta => $"{ta.Unfinished}|{string.Join(",", ta.Lost)}",
        RenewDeliveries rd => $"{rd.Consumer}|{rd.Client}|{string.Join(",", rd.Held)}",
        DeliveriesRenewed dr => $"{string.Join(",", dr.Lost)}|{dr.WaitingGets}",
        SharedStats st => $"{st.Object}|{st.Writes}|{st.StaleRefused}|{st.HighestToken}|{string.Join(",", st.WritesBy)}",
        CheckLedger k => string.Join(",", k.Produced),
        LedgerReport l => $"{l.Consumed}|{l.Distinct}|{l.Missing}|{l.Duplicates}|{l.Unexpected}|{string.Join(",", l.PerConsumer)}|{string.Join(",", l.DuplicateConsumers)}|{l.LastRecordUnixMs}",
        QueuePut p => $"{p.Producer}|{p.Timeout}|{string.Join(",", p.Items.Select(Item))}",
        QueueItems qi => string.Join(",", qi.Deliveries.Select(d => $"{d.Id}:{Item(d.Item)}")),
        QueueDeclared qd => $"{qd.Queue}|{qd.Ref.Path}|{qd.Lease}",
        QueueGet g => $"{g.Consumer}|{g.Session.Path}|{g.Max}|{g.Timeout}|{g.Client}|{g.SentinelsSeen}",
        Acquire a => $"{a.Lock}|{a.RequestId}|{a.OwnerName}|{a.Owner.Path}|{a.Timeout}|{a.Kind}|{a.Value}",
        PermitsReleased pr => $"{pr.Lock}|{pr.Value}|{string.Join(",", pr.Ended)}",
        DeadlockFound df => $"{string.Join(";", df.Cycle)}|{string.Join(",", df.Blocked)}|{df.AtUnixMs}",
        Deadlocks ds => string.Join("/", ds.All.Select(Describe)),
        ConditionWait cw => $"{cw.Condition}|{cw.Lock}|{cw.RequestId}|{cw.OwnerName}|{cw.Owner.Path}|{cw.Timeout}",
        EventWait ew => $"{ew.Event}|{ew.RequestId}|{ew.Participant}|{ew.Owner.Path}|{ew.Timeout}",
        BarrierWait bw => $"{bw.Barrier}|{bw.Parties}|{bw.RequestId}|{bw.Participant}|{bw.Owner.Path}|{bw.Timeout}",
        Sim.Core.History.HistoryBatch hb => $"{hb.Process}|{hb.Ack}|{string.Join(";", hb.Events.Select(e => $"{e}|{e.TimeUs}|{e.Op}"))}",
        _ => message.ToString()!,
    };
}
