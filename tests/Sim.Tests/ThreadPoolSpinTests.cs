using Sim.Launcher;
using Xunit;

namespace Sim.Tests;

/// <summary>The launcher keeps .NET's thread-pool spinning only for runs that warm up, read from its raw arguments.</summary>
public class ThreadPoolSpinTests
{
    [Theory]
    [InlineData(true, "lock", "--processes", "4", "--warmup", "2000")]
    [InlineData(true, "pipe", "--warmup=20000", "--messages", "10")]
    [InlineData(false, "lock", "--processes", "4", "--warmup", "0")]
    [InlineData(false, "lock", "--warmup=0")]
    [InlineData(false, "pipe", "--warmup", "many")]
    [InlineData(false, "lock", "--warmup")]
    [InlineData(false, "tickets", "--buyers", "100")]
    [InlineData(false, "bench", "lock")]
    public void A_run_warms_up_only_with_a_positive_warmup(bool expected, params string[] args) =>
        Assert.Equal(expected, ThreadPoolSpin.WarmsUp(args));
}
