using Sim.Core.History;
using Sim.Report.Checkers;
using Xunit;
using static Sim.Core.History.HistoryOps;

namespace Sim.Tests.History;

/// <summary>Each checker on hand-written histories: one that passes, and each way it must fail, naming who and quoting the history.</summary>
public sealed class HistoryCheckerTests
{
    [Fact]
    public void Mutual_exclusion_passes_when_grants_follow_releases_with_increasing_tokens()
    {
        var history = new HistoryBuilder("a", "b")
            .Coordinator("a", HistoryOps.Lock, "m", "acquire", [], 1).Coordinator("a", HistoryOps.Lock, "m", "release", [], 1)
            .Coordinator("b", HistoryOps.Lock, "m", "acquire", [], 2).Coordinator("b", HistoryOps.Lock, "m", "release", [], 2).Build();
        var verdict = new MutualExclusionChecker("m").Check(history);
        Assert.True(verdict.Passed, verdict.Detail);
        Assert.Contains("2 grants", verdict.Detail);
    }

    [Fact]
    public void Mutual_exclusion_fails_on_two_holders_at_once_and_names_both()
    {
        var history = new HistoryBuilder("a", "b")
            .Coordinator("a", HistoryOps.Lock, "m", "acquire", [], 1)
            .Coordinator("b", HistoryOps.Lock, "m", "acquire", [], 2)
            .Coordinator("a", HistoryOps.Lock, "m", "release", [], 1).Build();
        var verdict = new MutualExclusionChecker("m").Check(history);
        Assert.False(verdict.Passed);
        Assert.Contains("b was granted m (token 2) while a (token 1) still held it", verdict.Detail);
        // The smallest piece of history that shows it: the two grants, nothing else.
        Assert.Equal(2, verdict.Evidence.Count);
        Assert.Contains("a granted m token 1", verdict.Evidence[0]);
        Assert.Contains("b granted m token 2", verdict.Evidence[1]);
    }

    [Fact]
    public void Mutual_exclusion_fails_on_a_token_that_does_not_increase()
    {
        var history = new HistoryBuilder("a", "b")
            .Coordinator("a", HistoryOps.Lock, "m", "acquire", [], 5).Coordinator("a", HistoryOps.Lock, "m", "release", [], 5)
            .Coordinator("b", HistoryOps.Lock, "m", "acquire", [], 5).Build();
        var verdict = new MutualExclusionChecker("m").Check(history);
        Assert.False(verdict.Passed);
        Assert.Contains("tokens must increase", verdict.Detail);
        Assert.Equal(2, verdict.Evidence.Count);
    }

    [Fact]
    public void Ticket_file_passes_read_then_write_under_the_lock_in_token_order()
    {
        var history = new HistoryBuilder("buyer-1", "buyer-2")
            .Coordinator("buyer-1", HistoryOps.Lock, "tickets", "acquire", [], 1)
            .Coordinator("buyer-1", Tickets, Tickets, "read", [2], 1).Coordinator("buyer-1", Tickets, Tickets, "write", [1], 1)
            .Coordinator("buyer-1", HistoryOps.Lock, "tickets", "release", [], 1)
            .Coordinator("buyer-2", HistoryOps.Lock, "tickets", "acquire", [], 2)
            .Coordinator("buyer-2", Tickets, Tickets, "read", [1], 2).Coordinator("buyer-2", Tickets, Tickets, "write", [0], 2)
            .Coordinator("buyer-2", HistoryOps.Lock, "tickets", "release", [], 2).Build();
        var verdict = new TicketFileChecker(2, "tickets").Check(history);
        Assert.True(verdict.Passed, verdict.Detail);
    }

    [Fact]
    public void Ticket_file_without_the_lock_names_the_buyers_that_read_the_same_count_and_wrote_over_each_other()
    {
        var history = new HistoryBuilder("buyer-3", "buyer-7", "buyer-1")
            .Coordinator("buyer-1", Tickets, Tickets, "read", [3]).Coordinator("buyer-1", Tickets, Tickets, "write", [2])
            .Coordinator("buyer-3", Tickets, Tickets, "read", [2])
            .Coordinator("buyer-7", Tickets, Tickets, "read", [2])
            .Coordinator("buyer-3", Tickets, Tickets, "write", [1])
            .Coordinator("buyer-7", Tickets, Tickets, "write", [1]).Build();
        var verdict = new TicketFileChecker(3, "tickets").Check(history);
        Assert.False(verdict.Passed);
        Assert.Contains("buyer-3 and buyer-7 both read 2 and wrote 1", verdict.Detail);
        Assert.DoesNotContain("buyer-1", verdict.Detail);
        // The evidence is the race itself: two reads of 2, two writes of 1.
        Assert.Equal(4, verdict.Evidence.Count);
        Assert.All(verdict.Evidence, line => Assert.Matches("buyer-(3|7) (read|write) tickets (2|1)", line));
    }

    [Fact]
    public void Ticket_file_fails_a_fenced_write_whose_writer_does_not_hold_that_grant()
    {
        var history = new HistoryBuilder("buyer-1", "buyer-2")
            .Coordinator("buyer-1", HistoryOps.Lock, "tickets", "acquire", [], 1)
            .Coordinator("buyer-1", Tickets, Tickets, "read", [2], 1)
            .Coordinator("buyer-1", HistoryOps.Lock, "tickets", "release", [], 1)
            .Coordinator("buyer-1", Tickets, Tickets, "write", [1], 1).Build();
        var verdict = new TicketFileChecker(2, "tickets").Check(history);
        Assert.False(verdict.Passed);
        Assert.Contains("buyer-1 wrote 1 with token 1 while holding no grant of lock tickets", verdict.Detail);
    }

    [Fact]
    public void Ticket_file_fails_a_read_that_is_not_the_last_write()
    {
        var history = new HistoryBuilder("buyer-1", "buyer-2")
            .Coordinator("buyer-1", Tickets, Tickets, "write", [1])
            .Coordinator("buyer-2", Tickets, Tickets, "read", [2]).Build();
        var verdict = new TicketFileChecker(2, null).Check(history);
        Assert.False(verdict.Passed);
        Assert.Contains("buyer-2 read 2 but the file held 1", verdict.Detail);
    }

    [Fact]
    public void Total_queue_passes_when_everything_put_is_got_once_in_order()
    {
        var history = new HistoryBuilder("producer-1", "producer-2", "consumer-1")
            .Coordinator("producer-1", Queue, "q", "put", [11, 12])
            .Coordinator("producer-2", Queue, "q", "put", [21])
            .Coordinator("consumer-1", Queue, "q", "get", [11, 21])
            .Coordinator("consumer-1", Queue, "q", "get", [12]).Build();
        var verdict = new TotalQueueChecker("q").Check(history);
        Assert.True(verdict.Passed, verdict.Detail);
        Assert.Contains("FIFO per producer", verdict.Detail);
    }

    [Fact]
    public void Total_queue_fails_on_a_lost_item()
    {
        var history = new HistoryBuilder("producer-1", "consumer-1")
            .Coordinator("producer-1", Queue, "q", "put", [11, 12])
            .Coordinator("consumer-1", Queue, "q", "get", [11]).Build();
        var verdict = new TotalQueueChecker("q").Check(history);
        Assert.False(verdict.Passed);
        Assert.Contains("lost 1", verdict.Detail);
        Assert.Contains("item 12 put by producer-1 was never got", verdict.Detail);
        Assert.Single(verdict.Evidence);
    }

    [Fact]
    public void Total_queue_fails_on_a_duplicate_unless_an_earlier_taker_was_killed()
    {
        var builder = new HistoryBuilder("producer-1", "consumer-1", "consumer-2")
            .Coordinator("producer-1", Queue, "q", "put", [11])
            .Coordinator("consumer-1", Queue, "q", "get", [11])
            .Coordinator("consumer-2", Queue, "q", "get", [11]);
        var verdict = new TotalQueueChecker("q").Check(builder.Build());
        Assert.False(verdict.Passed);
        Assert.Contains("item 11 was got by consumer-1 and consumer-2", verdict.Detail);
        Assert.Equal(3, verdict.Evidence.Count);

        var redelivered = new TotalQueueChecker("q").Check(builder.Launcher("consumer-1", "kill").Build());
        Assert.True(redelivered.Passed, redelivered.Detail);
        Assert.Contains("1 redelivered after their consumer died", redelivered.Detail);
    }

    [Fact]
    public void Total_queue_fails_on_an_item_nobody_put_and_on_a_producer_out_of_order()
    {
        var unexpected = new HistoryBuilder("producer-1", "consumer-1")
            .Coordinator("producer-1", Queue, "q", "put", [11])
            .Coordinator("consumer-1", Queue, "q", "get", [11, 99]).Build();
        var verdict = new TotalQueueChecker("q").Check(unexpected);
        Assert.False(verdict.Passed);
        Assert.Contains("item 99 got by consumer-1 was never put", verdict.Detail);

        var reordered = new HistoryBuilder("producer-1", "consumer-1")
            .Coordinator("producer-1", Queue, "q", "put", [11, 12])
            .Coordinator("consumer-1", Queue, "q", "get", [12])
            .Coordinator("consumer-1", Queue, "q", "get", [11]).Build();
        var fifo = new TotalQueueChecker("q").Check(reordered);
        Assert.False(fifo.Passed);
        Assert.Contains("consumer-1 got producer-1's item 11 after its later item 12 (not FIFO)", fifo.Detail);
    }

    [Fact]
    public void Counter_passes_when_the_final_value_is_the_acknowledged_increments()
    {
        var history = new HistoryBuilder("c-1", "c-2")
            .Op("c-1", Value, "n", "read", [], [0]).Op("c-1", Value, "n", "write", [1], [1])
            .Op("c-2", Value, "n", "read", [], [1]).Op("c-2", Value, "n", "write", [2], [2])
            .Op("c-2", Value, "n", "add", [1], [3]).Build();
        var verdict = new CounterChecker("n", 0).Check(history);
        Assert.True(verdict.Passed, verdict.Detail);
        Assert.Contains("final 3 = initial 0 + 3 acknowledged increments", verdict.Detail);
    }

    [Fact]
    public void Counter_fails_when_updates_were_lost_and_names_the_race()
    {
        var history = new HistoryBuilder("c-1", "c-2")
            .Op("c-1", Value, "n", "read", [], [0])
            .Op("c-2", Value, "n", "read", [], [0])
            .Op("c-1", Value, "n", "write", [1], [1])
            .Op("c-2", Value, "n", "write", [1], [1]).Build();
        var verdict = new CounterChecker("n", 0).Check(history);
        Assert.False(verdict.Passed);
        Assert.Contains("final 1, but 2 increments were acknowledged", verdict.Detail);
        Assert.Contains("c-1 and c-2 both read 0 and wrote 1", verdict.Detail);
    }

    [Fact]
    public void A_killed_process_whose_record_was_lost_is_known_from_the_coordinator_and_counted_as_attempted()
    {
        // c-2 was killed before it sent its own record: only the coordinator saw its read and its write land.
        var history = new HistoryBuilder("c-1", "c-2")
            .Op("c-1", Value, "n", "read", [], [0]).Op("c-1", Value, "n", "write", [1], [1])
            .Coordinator("c-2", Value, "n", "read", [1]).Coordinator("c-2", Value, "n", "write", [2])
            .Launcher("c-2", "kill").Build();
        var lost = history.Operations.Where(o => o.CoordinatorOnly).ToList();
        Assert.Equal(2, lost.Count);
        Assert.All(lost, o => Assert.Equal(HistoryType.Info, o.Type));
        var verdict = new CounterChecker("n", 0).Check(history);
        Assert.True(verdict.Passed, verdict.Detail);
        Assert.Contains("at most 2 attempted", verdict.Detail);
    }
}
