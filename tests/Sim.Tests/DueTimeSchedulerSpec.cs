using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// The tick-less scheduler every Sim node runs (hocon/akka.hocon): what is scheduled arrives, not before its time,
/// once or repeatedly; what is cancelled does not; a stopped scheduler refuses new work and runs what was still due.
/// </summary>
public sealed class DueTimeSchedulerSpec : SimSpec
{
    [Fact]
    public void Every_Sim_node_runs_it()
    {
        Assert.IsType<DueTimeScheduler>(Sys.Scheduler);
    }

    [Fact]
    public void A_scheduled_tell_arrives_after_its_delay_not_before()
    {
        var clock = Stopwatch.StartNew();
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(200), TestActor, "due", ActorRefs.NoSender);
        ExpectMsg("due", TimeSpan.FromSeconds(5));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(195), $"arrived after {clock.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public void Many_tells_each_arrive_once()
    {
        for (var i = 0; i < 200; i++)
            Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(i % 20), TestActor, i, ActorRefs.NoSender);
        var seen = Enumerable.Range(0, 200).Select(_ => ExpectMsg<int>(TimeSpan.FromSeconds(5))).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 200), seen);
        ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void A_cancelled_tell_never_arrives()
    {
        var cancelable = Sys.Scheduler.ScheduleTellOnceCancelable(TimeSpan.FromMilliseconds(150), TestActor, "cancelled", ActorRefs.NoSender);
        cancelable.Cancel();
        var already = new Cancelable(Sys.Scheduler);
        already.Cancel();
        Sys.Scheduler.ScheduleTellOnce(TimeSpan.FromMilliseconds(10), TestActor, "cancelled before", ActorRefs.NoSender, already);
        ExpectNoMsg(TimeSpan.FromMilliseconds(400));
    }

    [Fact]
    public void A_repeated_tell_repeats_until_cancelled()
    {
        var cancelable = Sys.Scheduler.ScheduleTellRepeatedlyCancelable(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(50), TestActor, "tick", ActorRefs.NoSender);
        for (var i = 0; i < 4; i++)
            ExpectMsg("tick", TimeSpan.FromSeconds(5));
        cancelable.Cancel();
        // One tick may have been on its way when it was cancelled; after that, silence.
        Assert.True(ReceiveWhile(TimeSpan.FromMilliseconds(30), m => m).Count <= 1);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Scheduled_actions_run()
    {
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Sys.Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(30), () => ran.TrySetResult());
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_disposed_scheduler_refuses_new_work_and_runs_what_was_still_due()
    {
        IScheduler scheduler = new DueTimeScheduler(ConfigurationFactory.Empty.WithFallback(Sys.Settings.Config), Sys.Log);
        var pending = false;
        var repeated = 0;
        var cancelled = false;
        scheduler.Advanced.ScheduleOnce(TimeSpan.FromHours(1), () => pending = true);
        scheduler.Advanced.ScheduleRepeatedly(TimeSpan.FromHours(1), TimeSpan.FromHours(1), () => repeated++);
        var cancel = new Cancelable(scheduler.Advanced);
        scheduler.Advanced.ScheduleOnce(TimeSpan.FromHours(1), () => cancelled = true, cancel);
        cancel.Cancel();
        ((IDisposable)scheduler).Dispose();
        Assert.True(pending);
        Assert.Equal(0, repeated);
        Assert.False(cancelled);
        Assert.Throws<SchedulerException>(() => scheduler.Advanced.ScheduleOnce(TimeSpan.Zero, () => { }));
    }
}
