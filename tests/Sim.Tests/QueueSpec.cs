using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

public sealed class QueueSpec : SimSpec
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(200);
    private readonly IActorRef _manager;

    public QueueSpec() => _manager = Sys.ActorOf(QueueManager.Props());

    private Task<SimQueue> Queue(string owner, int maxSize = 0, string name = "q") =>
        SimQueue.DeclareAsync(_manager, name, maxSize, ClientLink.Local(owner), CreateTestProbe().Ref);

    private Task<SimJoinableQueue> Joinable(string owner, IActorRef? session = null, int maxSize = 0, string name = "jq") =>
        SimJoinableQueue.DeclareAsync(_manager, name, maxSize, ClientLink.Local(owner), session ?? CreateTestProbe().Ref);

    [Fact]
    public async Task Items_come_out_in_the_order_they_went_in()
    {
        var producer = await Queue("producer-1");
        var consumer = await Queue("consumer-1");
        for (var i = 0; i < 100; i++)
            await producer.PutAsync($"item-{i}");
        Assert.Equal(100, await consumer.QSizeAsync());
        for (var i = 0; i < 100; i++)
            Assert.Equal($"item-{i}", (await consumer.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        Assert.True(await consumer.EmptyAsync());
    }

    [Fact]
    public async Task Get_waits_for_a_put_and_times_out_with_empty()
    {
        var consumer = await Queue("consumer-1");
        var producer = await Queue("producer-1");
        await Assert.ThrowsAsync<QueueEmptyException>(() => consumer.GetAsync(Short));
        await Assert.ThrowsAsync<QueueEmptyException>(() => consumer.GetNowaitAsync());

        var waiting = consumer.GetAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        await producer.PutAsync("late");
        Assert.Equal("late", (await waiting).AsText());
    }

    [Fact]
    public async Task Maxsize_makes_put_wait_for_room_and_time_out_with_full()
    {
        var producer = await Queue("producer-1", maxSize: 2, name: "bounded");
        var consumer = await Queue("consumer-1", maxSize: 2, name: "bounded");
        await producer.PutAsync("a");
        await producer.PutAsync("b");
        Assert.True(await producer.FullAsync());
        await Assert.ThrowsAsync<QueueFullException>(() => producer.PutAsync("c", Short));
        await Assert.ThrowsAsync<QueueFullException>(() => producer.PutNowaitAsync(QueueItem.Text("c")));

        var blocked = producer.PutAsync("c", TimeSpan.FromSeconds(10));
        await Task.Delay(100);
        Assert.False(blocked.IsCompleted);
        Assert.Equal("a", (await consumer.GetAsync()).AsText());
        await blocked;
        Assert.Equal(2, await consumer.QSizeAsync());
        Assert.Equal("b", (await consumer.GetAsync()).AsText());
        Assert.Equal("c", (await consumer.GetAsync()).AsText());
    }

    [Fact]
    public async Task A_batch_larger_than_maxsize_goes_in_as_room_frees_up_in_order()
    {
        var producer = await Queue("producer-1", maxSize: 3, name: "small");
        var consumer = await Queue("consumer-1", maxSize: 3, name: "small");
        var put = producer.PutManyAsync(Enumerable.Range(0, 10).Select(i => QueueItem.Text($"{i}")).ToList(), TimeSpan.FromSeconds(10));
        var got = new List<string>();
        while (got.Count < 10)
        {
            Assert.True(await consumer.QSizeAsync() <= 3);
            got.Add((await consumer.GetAsync(TimeSpan.FromSeconds(10))).AsText());
        }
        await put;
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"{i}"), got);
    }

    [Fact]
    public async Task Items_of_one_producer_stay_in_order_when_producers_interleave()
    {
        var producers = await Task.WhenAll(Enumerable.Range(1, 3).Select(p => Queue($"producer-{p}")));
        var consumer = await Queue("consumer-1");
        await Task.WhenAll(producers.Select(async (q, p) =>
        {
            for (var i = 0; i < 50; i++)
                await q.PutAsync($"{p}:{i}");
        }));
        var items = (await consumer.GetManyAsync(1000, TimeSpan.FromSeconds(5))).Select(i => i.AsText().Split(':')).ToList();
        Assert.Equal(150, items.Count);
        foreach (var group in items.GroupBy(parts => parts[0]))
            Assert.Equal(Enumerable.Range(0, 50), group.Select(parts => int.Parse(parts[1])));
    }

    [Fact]
    public async Task Shutdown_refuses_puts_and_lets_consumers_drain_then_end()
    {
        var producer = await Queue("producer-1");
        var consumer = await Queue("consumer-1");
        var other = await Queue("consumer-2");
        var waitingOnEmpty = other.GetAsync(TimeSpan.FromSeconds(10));
        await producer.PutAsync("last");
        Assert.Equal("last", (await waitingOnEmpty).AsText());
        await producer.PutAsync("left over");
        var blocked = consumer.GetAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("left over", (await blocked).AsText());

        var parked = other.GetAsync(TimeSpan.FromSeconds(10));
        await producer.ShutdownAsync();
        await Assert.ThrowsAsync<QueueClosedException>(() => parked);
        await Assert.ThrowsAsync<QueueClosedException>(() => producer.PutAsync("too late"));
        await Assert.ThrowsAsync<QueueClosedException>(() => consumer.GetAsync(Short));
    }

    [Fact]
    public async Task Close_as_pythons_means_this_participant_puts_no_more_while_others_still_put_and_get()
    {
        var closer = await Queue("producer-1");
        var other = await Queue("producer-2");
        var consumer = await Queue("consumer-1");
        await closer.PutAsync("before");
        await closer.CloseAsync();
        Assert.Contains("closed", closer.ToString());
        await Assert.ThrowsAsync<QueueClosedException>(() => closer.PutAsync("after"));
        // The queue refuses the closer's puts too, whatever client of it sends them.
        var again = await Queue("producer-1");
        await Assert.ThrowsAsync<QueueClosedException>(() => again.PutAsync("after, another client"));
        await other.PutAsync("still open for others");
        Assert.Equal("before", (await consumer.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        Assert.Equal("still open for others", (await consumer.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        Assert.False((await consumer.StatusAsync()).Closed);
    }

    [Fact]
    public async Task Sentinel_none_travels_like_any_item()
    {
        var producer = await Queue("producer-1");
        var consumer = await Queue("consumer-1");
        await producer.PutAsync(QueueItem.None);
        Assert.True((await consumer.GetAsync()).IsNone);
    }

    [Fact]
    public async Task Join_completes_when_every_item_is_marked_done()
    {
        var producer = await Joinable("producer-1");
        var consumer = await Joinable("consumer-1");
        for (var i = 0; i < 3; i++)
            await producer.PutAsync($"task-{i}");
        var joined = producer.JoinAsync(TimeSpan.FromSeconds(10));
        for (var i = 0; i < 3; i++)
        {
            await consumer.GetAsync();
            Assert.False(joined.IsCompleted);
            await consumer.TaskDoneAsync();
        }
        await joined;
        var status = await producer.StatusAsync();
        Assert.Equal(0, status.Unfinished);
        await Assert.ThrowsAsync<TimeoutException>(async () =>
        {
            await producer.PutAsync("one more");
            await producer.JoinAsync(Short);
        });
    }

    [Fact]
    public async Task Task_done_more_often_than_items_were_delivered_is_an_error()
    {
        var producer = await Joinable("producer-1");
        var consumer = await Joinable("consumer-1");
        await producer.PutAsync("only");
        await consumer.GetAsync();
        await consumer.TaskDoneAsync();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => consumer.TaskDoneAsync());
        Assert.Contains("task_done() called 1 time(s) with 0 item(s)", error.Message);
    }

    [Fact]
    public async Task Items_held_by_a_consumer_that_dies_are_delivered_to_another()
    {
        var session = CreateTestProbe();
        var producer = await Joinable("producer-1");
        var doomed = await Joinable("consumer-1", session.Ref);
        var survivor = await Joinable("consumer-2");
        await producer.PutManyAsync([QueueItem.Text("a"), QueueItem.Text("b"), QueueItem.Text("c")]);
        Assert.Equal("a", (await doomed.GetAsync()).AsText());
        Assert.Equal("b", (await doomed.GetAsync()).AsText());
        await doomed.TaskDoneAsync();

        // consumer-1's node dies holding "b" (taken, never marked done): "b" goes back to the front.
        Sys.Stop(session.Ref);
        await AwaitAssertAsync(async () => Assert.Equal(1, (await producer.StatusAsync()).Redelivered), TimeSpan.FromSeconds(10));
        var first = (await survivor.GetAsync(TimeSpan.FromSeconds(10))).AsText();
        var second = (await survivor.GetAsync(TimeSpan.FromSeconds(10))).AsText();
        Assert.Equal(["b", "c"], new[] { first, second });
        await survivor.TaskDoneAsync(2);
        await producer.JoinAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, (await producer.StatusAsync()).Redelivered);
    }

    [Fact]
    public async Task A_participant_reported_exited_gives_back_what_it_held()
    {
        var producer = await Joinable("producer-1");
        var doomed = await Joinable("consumer-1");
        var survivor = await Joinable("consumer-2");
        await producer.PutAsync("held");
        await doomed.GetAsync();
        Sys.EventStream.Publish(new ParticipantExited("consumer-1", -9));
        Assert.Equal("held", (await survivor.GetAsync(TimeSpan.FromSeconds(10))).AsText());
    }

    [Fact]
    public async Task A_consumer_that_left_can_neither_fetch_nor_finish_what_was_handed_on()
    {
        var producer = await Joinable("producer-1", name: "fenced");
        var doomed = await Joinable("consumer-1", name: "fenced");
        var survivor = await Joinable("consumer-2", name: "fenced");
        await producer.PutManyAsync([QueueItem.Text("a"), QueueItem.Text("b")]);
        Assert.Equal("a", (await doomed.GetAsync()).AsText());
        Sys.EventStream.Publish(new ParticipantExited("consumer-1", -15));

        // Its role still runs for a moment: its task_done for "a" (never processed in full) and its next get are refused.
        await Assert.ThrowsAsync<ParticipantFencedException>(() => doomed.TaskDoneAsync());
        await Assert.ThrowsAsync<ParticipantFencedException>(() => doomed.GetAsync(Short));
        Assert.Equal("a", (await survivor.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        Assert.Equal("b", (await survivor.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        // join waits for the item that was handed on: "a" is not done until its new consumer says so.
        await Assert.ThrowsAsync<TimeoutException>(() => producer.JoinAsync(Short));
        await survivor.TaskDoneAsync(2);
        await producer.JoinAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Task_done_names_deliveries_and_refuses_ones_the_consumer_does_not_hold()
    {
        var producer = await Joinable("producer-1", name: "named");
        var first = await Joinable("consumer-1", name: "named");
        var second = await Joinable("consumer-2", name: "named");
        await producer.PutManyAsync([QueueItem.Text("a"), QueueItem.Text("b")]);
        await first.GetAsync();
        await second.GetAsync();
        var mine = first.TakeUnfinished(1);
        var theirs = second.TakeUnfinished(1);
        // consumer-1 naming consumer-2's delivery, or its own twice, changes nothing.
        Assert.IsType<QueueError>(await first.Ref.Ask<object>(new QueueTaskDone("consumer-1", theirs), TimeSpan.FromSeconds(5)));
        Assert.IsType<QueueError>(await first.Ref.Ask<object>(new QueueTaskDone("consumer-1", [mine[0], mine[0]]), TimeSpan.FromSeconds(5)));
        Assert.Equal(2, (await producer.StatusAsync()).Unfinished);
        Assert.Equal(1, Assert.IsType<QueueTaskDoneAck>(await first.Ref.Ask<object>(new QueueTaskDone("consumer-1", mine), TimeSpan.FromSeconds(5))).Unfinished);
        Assert.Equal(0, Assert.IsType<QueueTaskDoneAck>(await second.Ref.Ask<object>(new QueueTaskDone("consumer-2", theirs), TimeSpan.FromSeconds(5))).Unfinished);
    }

    [Fact]
    public async Task A_producer_reported_exited_keeps_what_went_in_and_drops_what_still_waited_for_room()
    {
        var producer = await Queue("producer-1", maxSize: 3, name: "dying");
        var consumer = await Queue("consumer-1", maxSize: 3, name: "dying");
        var probe = CreateTestProbe();
        producer.Ref.Tell(new QueuePut("producer-1", Enumerable.Range(0, 10).Select(i => QueueItem.Text($"item-{i}")).ToList(),
            TimeSpan.FromSeconds(30)), probe.Ref);
        await AwaitAssertAsync(async () => Assert.Equal(3, await consumer.QSizeAsync()));
        Sys.EventStream.Publish(new ParticipantExited("producer-1", -9));
        for (var i = 0; i < 3; i++)
            Assert.Equal($"item-{i}", (await consumer.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        await Assert.ThrowsAsync<QueueEmptyException>(() => consumer.GetAsync(Short));
        Assert.Equal(3, (await consumer.StatusAsync()).PutBy["producer-1"]);
    }

    [Fact]
    public async Task Declaring_an_existing_queue_with_another_shape_is_refused()
    {
        await Queue("a", maxSize: 5, name: "shape");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Queue("b", maxSize: 6, name: "shape"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Joinable("b", maxSize: 5, name: "shape"));
    }

    [Fact]
    public async Task Pipelined_puts_keep_order_across_many_small_messages()
    {
        var producer = await Queue("producer-1");
        producer.PutBatch = 7;
        producer.PutWindow = 5;
        await producer.PutManyAsync(Enumerable.Range(0, 500).Select(i => QueueItem.Text($"item-{i}")));
        var consumer = await Queue("consumer-1");
        consumer.Prefetch = 64;
        for (var i = 0; i < 500; i++)
            Assert.Equal($"item-{i}", (await consumer.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        Assert.True(await consumer.EmptyAsync());
    }

    [Fact]
    public async Task A_pipelined_put_that_times_out_leaves_a_prefix_in_the_queue()
    {
        var producer = await Queue("producer-1", maxSize: 10, name: "prefix");
        producer.PutBatch = 4;
        producer.PutWindow = 4;
        var error = await Assert.ThrowsAsync<QueueFullException>(() =>
            producer.PutManyAsync(Enumerable.Range(0, 40).Select(i => QueueItem.Text($"item-{i}")), Short));
        Assert.Contains("10 item(s) of this put went in", error.Message);
        var consumer = await Queue("consumer-1", maxSize: 10, name: "prefix");
        Assert.Equal(10, await consumer.QSizeAsync());
        // Later puts that were waiting behind the one that timed out were refused with it: nothing went in out of turn.
        await Task.Delay(300);
        Assert.Equal(10, (await consumer.StatusAsync()).PutBy["producer-1"]);
        for (var i = 0; i < 10; i++)
            Assert.Equal($"item-{i}", (await consumer.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        await Task.Delay(300);
        Assert.True(await consumer.EmptyAsync());
    }

    [Fact]
    public async Task When_a_waiting_put_times_out_the_same_producers_later_puts_fail_with_it()
    {
        var queue = await Queue("consumer-1", maxSize: 1, name: "full");
        await queue.PutAsync("filler");
        var probe = CreateTestProbe();
        queue.Ref.Tell(new QueuePut("producer-1", [QueueItem.Text("first")], TimeSpan.FromMilliseconds(200)), probe.Ref);
        queue.Ref.Tell(new QueuePut("producer-1", [QueueItem.Text("second")], TimeSpan.FromSeconds(30)), probe.Ref);
        queue.Ref.Tell(new QueuePut("producer-2", [QueueItem.Text("other")], TimeSpan.FromSeconds(30)), probe.Ref);
        // Both of producer-1's puts fail at the first one's deadline, long before the second's own.
        Assert.Equal(0, probe.ExpectMsg<QueueFull>(TimeSpan.FromSeconds(5)).Accepted);
        Assert.Equal(0, probe.ExpectMsg<QueueFull>(TimeSpan.FromSeconds(1)).Accepted);
        // Another producer's put is not its business: it still waits, and goes in when there is room.
        Assert.Equal("filler", (await queue.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        probe.ExpectMsg<QueuePutDone>(TimeSpan.FromSeconds(5));
        Assert.Equal("other", (await queue.GetAsync(TimeSpan.FromSeconds(5))).AsText());
    }

    [Fact]
    public async Task Consumers_fetching_ahead_each_take_exactly_one_sentinel()
    {
        var producer = await Queue("producer-1", name: "ahead");
        var consumers = new[] { await Queue("consumer-1", name: "ahead"), await Queue("consumer-2", name: "ahead") };
        foreach (var consumer in consumers)
            consumer.Prefetch = 8;
        await producer.PutManyAsync(Enumerable.Range(0, 200).Select(i => QueueItem.Text($"item-{i}")));
        await producer.PutManyAsync([QueueItem.None, QueueItem.None]);

        async Task<int> DrainAsync(SimQueue queue)
        {
            var taken = 0;
            while (!(await queue.GetAsync(TimeSpan.FromSeconds(5))).IsNone)
                taken++;
            return taken;
        }

        var counts = await Task.WhenAll(consumers.Select(DrainAsync));
        Assert.Equal(200, counts.Sum());
        Assert.True(await producer.EmptyAsync());
    }

    [Fact]
    public async Task A_fetch_sent_before_its_client_saw_its_sentinel_takes_nothing()
    {
        var queue = await Queue("producer-1", name: "stale");
        await queue.PutManyAsync([QueueItem.Text("a"), QueueItem.None, QueueItem.Text("b"), QueueItem.None]);
        var probe = CreateTestProbe();
        queue.Ref.Tell(new QueueGet("consumer-1", probe.Ref, 10, TimeSpan.Zero, Client: 42, SentinelsSeen: 0), probe.Ref);
        var first = probe.ExpectMsg<QueueItems>().Deliveries.Select(d => d.Item.ToString()).ToList();
        Assert.Equal(["'a'", "None"], first);
        // A second fetch that went out before the first reply came back: refused, the rest stays for the others.
        queue.Ref.Tell(new QueueGet("consumer-1", probe.Ref, 10, TimeSpan.Zero, Client: 42, SentinelsSeen: 0), probe.Ref);
        probe.ExpectMsg<QueueEmpty>();
        Assert.Equal(2, await queue.QSizeAsync());
        // Once the client has seen its sentinel, it may fetch again.
        queue.Ref.Tell(new QueueGet("consumer-1", probe.Ref, 10, TimeSpan.Zero, Client: 42, SentinelsSeen: 1), probe.Ref);
        Assert.Equal(2, probe.ExpectMsg<QueueItems>().Deliveries.Count);
    }

    [Fact]
    public async Task A_task_done_can_record_the_items_in_the_ledger_in_the_same_step()
    {
        var ledger = Sys.ActorOf(Ledger.Props());
        var producer = await Joinable("producer-1", name: "recorded");
        var consumer = await Joinable("consumer-1", name: "recorded");
        await producer.PutManyAsync([QueueItem.Text("a"), QueueItem.Text("b"), QueueItem.None]);
        await consumer.GetManyAsync(3, TimeSpan.FromSeconds(5));

        var ack = await consumer.TaskDoneRecordingAsync(consumer.TakeUnfinished(3), [Ledger.ItemId(1, 0), Ledger.ItemId(1, 1), -1], ledger);
        Assert.Equal((0L, 0), (ack.Unfinished, ack.Lost.Count));
        await producer.JoinAsync(TimeSpan.FromSeconds(5));
        var report = await ledger.Ask<LedgerReport>(new CheckLedger([2]), TimeSpan.FromSeconds(5));
        Assert.Equal((2L, 0L, 0L), (report.Distinct, report.Missing, report.Duplicates));

        // Deliveries the consumer no longer holds (already done) are refused, and nothing is recorded.
        var refused = await consumer.Ref.Ask<object>(new QueueTaskDone("consumer-1", [1], [Ledger.ItemId(1, 0)], ledger), TimeSpan.FromSeconds(5));
        Assert.IsType<QueueError>(refused);
        Assert.Equal(2L, (await ledger.Ask<LedgerReport>(new CheckLedger([2]), TimeSpan.FromSeconds(5))).Consumed);
        Assert.Throws<InvalidOperationException>(() => consumer.TakeUnfinished(1));
    }

    private Task<SimJoinableQueue> Leased(string name, TimeSpan lease) =>
        SimJoinableQueue.DeclareAsync(_manager, name, 0, ClientLink.Local("launcher"), ActorRefs.Nobody, lease);

    [Fact]
    public async Task Items_of_a_consumer_that_stops_renewing_go_to_another_and_its_late_task_done_records_nothing()
    {
        var ledger = Sys.ActorOf(Ledger.Props());
        var launcher = await Leased("leased", TimeSpan.FromMilliseconds(300));
        var producer = await Joinable("producer-1", name: "leased");
        var survivor = await Joinable("consumer-2", name: "leased");
        Assert.Equal(TimeSpan.FromMilliseconds(300), survivor.Lease);
        await producer.PutManyAsync([QueueItem.Text("a"), QueueItem.Text("b")]);

        // consumer-1 takes "a" and then renews nothing (as a paused or cut-off node): no client, no lease keeper.
        var silent = CreateTestProbe();
        var taken = (await launcher.Ref.Ask<QueueItems>(new QueueGet("consumer-1", silent.Ref, 1, TimeSpan.FromSeconds(1)), TimeSpan.FromSeconds(5)))
            .Deliveries.Single();
        Assert.Equal("a", taken.Item.AsText());
        await AwaitAssertAsync(async () => Assert.Equal(1L, (await launcher.StatusAsync()).LeaseExpiredBy.GetValueOrDefault("consumer-1")),
            TimeSpan.FromSeconds(5));

        // "a" went back to the front, for consumer-2, who records it once.
        var items = await survivor.GetManyAsync(2, TimeSpan.FromSeconds(5));
        Assert.Equal(["a", "b"], items.Select(i => i.AsText()));
        var ack = await survivor.TaskDoneRecordingAsync(survivor.TakeUnfinished(2), [Ledger.ItemId(1, 0), Ledger.ItemId(1, 1)], ledger);
        Assert.Empty(ack.Lost);

        // consumer-1 wakes and finishes "a": lost, neither done nor recorded again.
        var late = Assert.IsType<QueueTaskDoneAck>(await launcher.Ref.Ask<object>(
            new QueueTaskDone("consumer-1", [taken.Id], [Ledger.ItemId(1, 0)], ledger), TimeSpan.FromSeconds(5)));
        Assert.Equal([taken.Id], late.Lost);
        Assert.Equal(1, (await launcher.StatusAsync()).LateTaskDones);
        await producer.JoinAsync(TimeSpan.FromSeconds(5));
        var report = await ledger.Ask<LedgerReport>(new CheckLedger([2]), TimeSpan.FromSeconds(5));
        Assert.Equal((2L, 2L, 0L, 0L), (report.Consumed, report.Distinct, report.Missing, report.Duplicates));
        Assert.Equal(1, (await launcher.StatusAsync()).Redelivered);
    }

    [Fact]
    public async Task The_ledger_keeps_what_the_queue_recorded_for_a_consumer_even_after_hearing_it_left()
    {
        // The queue accepted the task_done before it heard of the leaving; the ledger may hear of it first (one publish,
        // the queue's record comes later). Refused there, the item would be done and recorded by nobody.
        var ledger = Sys.ActorOf(Ledger.Props());
        await ledger.Ask<LedgerReport>(new CheckLedger([1]), TimeSpan.FromSeconds(5)); // started: it hears the event stream
        Sys.EventStream.Publish(new ParticipantExited("consumer-1", -15));
        Assert.Equal(0L, (await ledger.Ask<LedgerReport>(new CheckLedger([1]), TimeSpan.FromSeconds(5))).Consumed);
        ledger.Tell(new ConsumedViaQueue("consumer-1", [Ledger.ItemId(1, 0)]), ActorRefs.NoSender);
        var report = await ledger.Ask<LedgerReport>(new CheckLedger([1]), TimeSpan.FromSeconds(5));
        Assert.Equal((1L, 0L), (report.Consumed, report.Missing));
        // The consumer's own records, after it left, stay refused.
        Assert.IsType<ParticipantFenced>(await ledger.Ask<object>(new Consumed("consumer-1", [Ledger.ItemId(1, 1)]), TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_task_done_accepted_just_before_the_consumer_left_is_recorded()
    {
        for (var round = 0; round < 20; round++)
        {
            var ledger = Sys.ActorOf(Ledger.Props());
            await ledger.Ask<LedgerReport>(new CheckLedger([1]), TimeSpan.FromSeconds(5)); // started: it hears the event stream
            var name = $"leaving-{round}";
            var producer = await Joinable("producer-1", name: name);
            var consumer = await Joinable($"consumer-{round}", name: name);
            await producer.PutManyAsync([QueueItem.Text("a")]);
            Assert.Single(await consumer.GetManyAsync(1, TimeSpan.FromSeconds(5)));
            var done = consumer.TaskDoneRecordingAsync(consumer.TakeUnfinished(1), [Ledger.ItemId(1, 0)], ledger);
            // The queue has the task_done in its mailbox ahead of the exit; the ledger hears of the exit at once.
            Sys.EventStream.Publish(new ParticipantExited($"consumer-{round}", -15));
            await done;
            await producer.JoinAsync(TimeSpan.FromSeconds(5));
            var report = await ledger.Ask<LedgerReport>(new CheckLedger([1]), TimeSpan.FromSeconds(5));
            Assert.True(report.Missing == 0, $"round {round}: the item done at the queue is missing from the ledger");
        }
    }

    [Fact]
    public async Task A_slow_consumer_that_is_alive_keeps_its_items_past_the_lease()
    {
        await Leased("kept", TimeSpan.FromMilliseconds(200));
        var producer = await Joinable("producer-1", name: "kept");
        var consumer = await Joinable("consumer-1", name: "kept");
        await producer.PutManyAsync([QueueItem.Text("a"), QueueItem.Text("b")]);
        Assert.Equal("a", (await consumer.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        // Working on "a" for five leases: its node renews the lease meanwhile.
        await Task.Delay(TimeSpan.FromMilliseconds(1000));
        Assert.Equal(1, await consumer.TaskDoneAsync());
        Assert.Equal("b", (await consumer.GetAsync(TimeSpan.FromSeconds(5))).AsText());
        await Task.Delay(TimeSpan.FromMilliseconds(600));
        Assert.Equal(0, await consumer.TaskDoneAsync());
        var status = await producer.StatusAsync();
        Assert.Equal((0L, 0), (status.Redelivered, status.LeaseExpiredBy.Count));
        Assert.Contains("lease=200 ms", consumer.ToString());
    }

    [Fact]
    public async Task A_plain_task_done_for_an_item_whose_lease_ran_out_says_it_was_lost()
    {
        var launcher = await Leased("lost", TimeSpan.FromMilliseconds(200));
        var producer = await Joinable("producer-1", name: "lost");
        await producer.PutAsync("a");
        var silent = CreateTestProbe();
        var taken = (await launcher.Ref.Ask<QueueItems>(new QueueGet("consumer-1", silent.Ref, 1, TimeSpan.FromSeconds(1)), TimeSpan.FromSeconds(5)))
            .Deliveries.Single();
        await AwaitAssertAsync(async () => Assert.Equal(1, (await launcher.StatusAsync()).Size), TimeSpan.FromSeconds(5));
        var lost = await launcher.Ref.Ask<object>(new QueueTaskDone("consumer-1", [taken.Id]), TimeSpan.FromSeconds(5));
        Assert.Equal([taken.Id], Assert.IsType<QueueTaskDoneAck>(lost).Lost);
        // An id never delivered to it is still an error, not a loss.
        Assert.IsType<QueueError>(await launcher.Ref.Ask<object>(new QueueTaskDone("consumer-1", [taken.Id + 100]), TimeSpan.FromSeconds(5)));
        Assert.Equal(1, (await producer.StatusAsync()).Unfinished);
    }

    [Fact]
    public async Task A_lease_is_refused_on_a_plain_queue()
    {
        await Queue("producer-1", name: "plain-leased");
        var refused = await _manager.Ask<object>(new DeclareQueue("plain-leased", 0, false, "launcher", TimeSpan.FromSeconds(1)), TimeSpan.FromSeconds(5));
        Assert.Contains("not joinable", Assert.IsType<QueueError>(refused).Reason);
    }

    [Fact]
    public void An_item_over_8_MiB_is_refused_before_it_is_sent()
    {
        var error = Assert.Throws<ArgumentException>(() => QueueItem.Bytes(new byte[QueueItem.MaxPayloadBytes + 1]));
        Assert.Contains("larger than", error.Message);
    }
}
