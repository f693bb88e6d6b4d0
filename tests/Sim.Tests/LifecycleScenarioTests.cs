using System.Text.Json;
using Xunit;

namespace Sim.Tests;

[Collection(ProcessTests.Name)]
public sealed class LifecycleScenarioTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-lifecycle-").FullName;

    [Fact]
    public async Task Lifecycle_shows_every_process_point_of_the_lesson()
    {
        var json = Path.Combine(_folder, "lifecycle.json");
        var (run, root) = await SimCli.RunOkAsync(TimeSpan.FromMinutes(3), json, "lifecycle", "--json", json);
        Assert.True(root.GetProperty("ok").GetBoolean(), root.GetProperty("errors").ToString());
        var steps = root.GetProperty("steps");
        Assert.Equal(0, steps.GetProperty("join").GetProperty("exitcode").GetInt32());
        Assert.True(steps.GetProperty("join").GetProperty("waited_s").GetDouble() >= 1.4);
        Assert.True(steps.GetProperty("terminate").GetProperty("join_timeout_returned_alive").GetBoolean());
        Assert.Equal(-15, steps.GetProperty("terminate").GetProperty("exitcode").GetInt32());
        Assert.Equal(-9, steps.GetProperty("kill").GetProperty("exitcode").GetInt32());
        Assert.Equal(3, steps.GetProperty("exit_code").GetProperty("exitcode").GetInt32());

        var daemon = steps.GetProperty("daemon");
        Assert.True(daemon.GetProperty("daemon_gone_ms").GetInt64() < 2000);
        Assert.True(daemon.GetProperty("worker_gone_ms").GetInt64() < 6000);
        Assert.False(ProcFs.IsRunning(daemon.GetProperty("daemon_pid").GetInt32()));
        Assert.False(ProcFs.IsRunning(daemon.GetProperty("worker_pid").GetInt32()));

        Assert.True(steps.GetProperty("zombie").GetProperty("seen").GetBoolean());
        Assert.True(steps.GetProperty("zombie").GetProperty("reaped").GetBoolean());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
        Assert.Equal(0, root.GetProperty("orphans").GetInt32());
        Assert.Contains("p.join(0.3)", run.Stdout);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
