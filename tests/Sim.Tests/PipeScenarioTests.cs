using System.Text.Json;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Tests;

[Collection(ProcessTests.Name)]
public sealed class PipeScenarioTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-pipe-").FullName;

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(false, 150)]
    public async Task Every_message_arrives_in_order_and_the_survivor_sees_end_of_file(bool duplex, int warmup)
    {
        var json = Path.Combine(_folder, "pipe.json");
        var args = new List<string> { "pipe", "--messages", "300", "--size", "200", "--warmup", warmup.ToString(), "--json", json };
        if (duplex)
            args.Add("--duplex");
        var (run, root) = await SimCli.RunOkAsync(TimeSpan.FromMinutes(3), json, args.ToArray());
        Assert.True(root.GetProperty("ok").GetBoolean());
        // The warm-up's round trips and stream messages come first, checked in order too, and are not counted.
        Assert.Equal(300, root.GetProperty("received").GetInt64());
        Assert.Equal(warmup, root.GetProperty("warmup").GetInt32());
        Assert.Equal(0, root.GetProperty("out_of_order").GetInt64());
        Assert.True(root.GetProperty("eof").GetBoolean());
        Assert.Equal(200, root.GetProperty("burst_sent").GetInt64());
        Assert.Equal(200, root.GetProperty("burst_received").GetInt64());
        Assert.True(root.GetProperty("rtt_median_us").GetInt64() > 0);
        var processes = root.GetProperty("processes").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(-9, processes["pipe-b"].GetProperty("exitcode").GetInt32());
        Assert.Equal(0, processes["pipe-a"].GetProperty("exitcode").GetInt32());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
    }

    [Fact]
    public async Task The_burst_pipe_b_sent_right_before_it_was_killed_is_read_whole_before_end_of_file()
    {
        // pipe-b sends 200 messages, reports, and is killed at once, the news of its death sent to pipe-a as
        // it is killed: whatever left pipe-b must reach pipe-a's recv before end-of-file, run after run.
        var json = Path.Combine(_folder, "pipe.json");
        var eofAfterKill = new List<long>();
        for (var run = 0; run < 6; run++)
        {
            var (_, root) = await SimCli.RunOkAsync(TimeSpan.FromMinutes(1), json, "pipe", "--messages", "50", "--json", json);
            Assert.True(root.GetProperty("ok").GetBoolean(), $"run {run}: {root}");
            Assert.Equal(200, root.GetProperty("burst_received").GetInt64());
            Assert.Equal(0, root.GetProperty("burst_out_of_order").GetInt64());
            Assert.True(root.GetProperty("eof").GetBoolean());
            eofAfterKill.Add(root.GetProperty("eof_after_kill_ms").GetInt64());
        }
        output.WriteLine($"end-of-file after the kill: {string.Join(", ", eofAfterKill)} ms");
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
