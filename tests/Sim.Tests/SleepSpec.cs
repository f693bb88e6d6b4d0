using System.Diagnostics;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// Role code's sleep (<see cref="Sleep"/>): never shorter than asked, an earlier sleeper is not held up by a later one,
/// cancellation ends it at once, many at once each end. How close to the asked time it ends is a figure of the
/// benchmarks, not asserted here.
/// </summary>
public sealed class SleepSpec
{
    [Fact]
    public async Task A_sleep_never_ends_early()
    {
        for (var i = 0; i < 40; i++)
        {
            var delay = TimeSpan.FromMilliseconds(1 + i % 13) + TimeSpan.FromMicroseconds(137 * (i % 7));
            var clock = Stopwatch.StartNew();
            await Sleep.ForAsync(delay);
            Assert.True(clock.Elapsed >= delay, $"a sleep of {delay.TotalMilliseconds} ms ended after {clock.Elapsed.TotalMilliseconds} ms");
        }
    }

    [Fact]
    public async Task Zero_or_less_ends_at_once_and_a_cancelled_token_cancels()
    {
        Assert.True(Sleep.ForAsync(TimeSpan.Zero).IsCompletedSuccessfully);
        Assert.True(Sleep.ForAsync(TimeSpan.FromMilliseconds(-5)).IsCompletedSuccessfully);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Sleep.ForAsync(TimeSpan.FromSeconds(5), cancelled.Token));
    }

    [Fact]
    public async Task An_earlier_sleeper_is_not_held_up_by_a_later_one()
    {
        using var stop = new CancellationTokenSource();
        var later = Sleep.ForAsync(TimeSpan.FromSeconds(30), stop.Token);
        await Sleep.ForAsync(TimeSpan.FromMilliseconds(20)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(later.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => later.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Cancelling_one_sleeper_ends_only_it()
    {
        using var cancel = new CancellationTokenSource();
        var cancelled = Sleep.ForAsync(TimeSpan.FromSeconds(30), cancel.Token);
        var other = Sleep.ForAsync(TimeSpan.FromMilliseconds(300));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(other.IsCompleted);
        await other.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Many_sleepers_at_once_each_end_after_their_own_time()
    {
        var clock = Stopwatch.StartNew();
        var sleepers = Enumerable.Range(0, 500).Select(async i =>
        {
            var delay = TimeSpan.FromMilliseconds(i % 50);
            await Sleep.ForAsync(delay);
            return (delay, ended: clock.Elapsed);
        }).ToList();
        var ends = await Task.WhenAll(sleepers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.All(ends, e => Assert.True(e.ended >= e.delay, $"a sleep of {e.delay.TotalMilliseconds} ms ended at {e.ended.TotalMilliseconds} ms"));
    }
}
