using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// The executor Akka.Remote's actors run on in every Sim node (hocon/akka.hocon): a mailbox runs on the thread-pool
/// thread that scheduled it, and on another kind of thread only if it is an arrival's (a remote writer on a DotNetty I/O
/// thread would write out of order), a mailbox that has more than its throughput continues on the thread pool (it holds no caller's
/// thread), a chain of mailboxes deeper than its limit continues there too, and nothing is lost or reordered.
/// </summary>
public sealed class InlineExecutorSpec : IAsyncLifetime
{
    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        _system = ActorSystem.Create("inline", ConfigurationFactory.ParseString("""
            akka.loglevel = OFF
            akka.stdout-loglevel = OFF
            inline-dispatcher {
              executor = "Sim.Core.InlineExecutorConfigurator, Sim.Core"
              throughput = 5
            }
            """));
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _system.Terminate();

    private sealed record WhereDidYouRun(TaskCompletionSource<int> Thread);

    private sealed record WhatIsYourMailbox(TaskCompletionSource<Mailbox> Mailbox);

    private sealed record Relay(int Hops, TaskCompletionSource<(int Thread, int Hops)> Done);

    private sealed class Recorder : ReceiveActor
    {
        public Recorder(List<int> seen, TaskCompletionSource finished, int expected)
        {
            Receive<WhereDidYouRun>(m => m.Thread.TrySetResult(Environment.CurrentManagedThreadId));
            Receive<WhatIsYourMailbox>(m => m.Mailbox.TrySetResult(((ActorCell)Context).Mailbox!));
            Receive<int>(i =>
            {
                seen.Add(i);
                if (seen.Count == expected)
                    finished.TrySetResult();
            });
        }
    }

    /// <summary>Passes a message down a chain of its kind; the last one says on which thread it ran.</summary>
    private sealed class Link : ReceiveActor
    {
        public Link(IActorRef? next)
        {
            Receive<Relay>(m =>
            {
                if (next is null)
                    m.Done.TrySetResult((Environment.CurrentManagedThreadId, m.Hops));
                else
                    next.Tell(m with { Hops = m.Hops + 1 });
            });
        }
    }

    private IActorRef Inline(Props props) => _system.ActorOf(props.WithDispatcher("inline-dispatcher"));

    [Fact]
    public async Task A_message_is_handled_on_the_thread_that_sent_it_before_the_send_returns()
    {
        var recorder = Inline(Props.Create(() => new Recorder(new List<int>(), new TaskCompletionSource(), int.MaxValue)));
        // The first message also starts the actor (a system message): let that settle first.
        var warm = new TaskCompletionSource<int>();
        recorder.Tell(new WhereDidYouRun(warm));
        await warm.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await Task.Run(() =>
        {
            var ran = new TaskCompletionSource<int>();
            recorder.Tell(new WhereDidYouRun(ran));
            Assert.True(ran.Task.IsCompleted, "the send returned before the actor handled it");
            Assert.Equal(Environment.CurrentManagedThreadId, ran.Task.Result);
        });
    }

    [Fact]
    public async Task A_message_sent_from_a_thread_outside_the_pool_is_handled_on_the_pool()
    {
        var recorder = Inline(Props.Create(() => new Recorder(new List<int>(), new TaskCompletionSource(), int.MaxValue)));
        var ran = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var sender = 0;
        var thread = new Thread(() =>
        {
            sender = Environment.CurrentManagedThreadId;
            recorder.Tell(new WhereDidYouRun(ran));
            // Busy until handled: had it run inline, it would have run here.
            ran.Task.Wait(TimeSpan.FromSeconds(10));
        });
        thread.Start();
        var handledOn = await ran.Task.WaitAsync(TimeSpan.FromSeconds(10));
        thread.Join();
        Assert.NotEqual(sender, handledOn);
    }

    [Fact]
    public async Task Only_the_arrivals_actors_may_run_on_an_io_thread_and_this_Akka_lets_them_be_told_apart()
    {
        // Akka keeps a mailbox's actor internal: if a version hid it, arrivals would quietly lose their inline run.
        Assert.True(InlineExecutor.MailboxActorVisible);
        var recorder = Inline(Props.Create(() => new Recorder(new List<int>(), new TaskCompletionSource(), int.MaxValue)));
        var mailbox = new TaskCompletionSource<Mailbox>();
        recorder.Tell(new WhatIsYourMailbox(mailbox));
        Assert.False(InlineExecutor.IsArrival(await mailbox.Task.WaitAsync(TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public async Task A_chain_deeper_than_the_limit_goes_on_on_the_thread_pool_and_arrives()
    {
        IActorRef? next = null;
        for (var i = 0; i < InlineExecutor.MaxDepth + 4; i++)
            next = Inline(Props.Create(() => new Link(next)));
        var first = next!;
        // Started (each actor's creation is a system message it handles on first run).
        var warm = new TaskCompletionSource<(int, int)>();
        first.Tell(new Relay(0, warm));
        await warm.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var done = new TaskCompletionSource<(int Thread, int Hops)>();
        var sender = 0;
        await Task.Run(() =>
        {
            sender = Environment.CurrentManagedThreadId;
            first.Tell(new Relay(0, done));
            // The sender's thread stays busy here, so whichever thread ends the chain is not this one unless it ran inline.
            done.Task.Wait(TimeSpan.FromSeconds(10));
        });
        var (thread, hops) = await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(InlineExecutor.MaxDepth + 3, hops);
        Assert.NotEqual(sender, thread);
    }

    [Fact]
    public async Task Many_senders_at_once_lose_nothing_and_each_senders_order_holds()
    {
        const int senders = 8, each = 5_000;
        var seen = new List<int>();
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var recorder = Inline(Props.Create(() => new Recorder(seen, finished, senders * each)));
        await Task.WhenAll(Enumerable.Range(0, senders).Select(s => Task.Run(() =>
        {
            for (var i = 0; i < each; i++)
                recorder.Tell(s * each + i);
        })));
        await finished.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(senders * each, seen.Count);
        Assert.Equal(senders * each, seen.Distinct().Count());
        foreach (var group in seen.GroupBy(i => i / each))
            Assert.Equal(group.OrderBy(i => i), group);
    }
}
