using System.Text.Json;
using Xunit;

namespace Sim.Tests;

/// <summary>The lesson's four producer–consumer programs, as real processes, run from their scenario files.</summary>
[Collection(ProcessTests.Name)]
public sealed class ProdconsScenarioTests : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(3);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-prodcons-").FullName;

    private string Json => Path.Combine(_folder, "run.json");

    [Theory]
    [InlineData("prodcons-1p1c-sentinel", "sentinel", 1, 1, 10)]
    [InlineData("prodcons-1p1c-joinable", "joinable", 1, 1, 10)]
    [InlineData("prodcons-multi-sentinel", "sentinel", 3, 2, 30)]
    [InlineData("prodcons-multi-joinable", "joinable", 3, 2, 30)]
    public async Task Lesson_program_consumes_every_item_exactly_once(string file, string mode, int producers, int consumers, int items)
    {
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "run", file, "--json", Json);
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal(mode, root.GetProperty("mode").GetString());
        var counts = root.GetProperty("items");
        Assert.Equal(items, counts.GetProperty("produced").GetInt64());
        Assert.Equal(items, counts.GetProperty("consumed").GetInt64());
        Assert.Equal(items, counts.GetProperty("consumed_total").GetInt64());
        Assert.Equal(0, counts.GetProperty("missing").GetInt64());
        Assert.Equal(0, counts.GetProperty("duplicates").GetInt64());
        Assert.Equal(0, counts.GetProperty("corrupt").GetInt64());

        var processes = root.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal(producers, processes.Count(p => p.GetProperty("role").GetString() == "producer"));
        var consumerEntries = processes.Where(p => p.GetProperty("role").GetString() == "consumer").ToList();
        Assert.Equal(consumers, consumerEntries.Count);
        // Consumers are daemons with JoinableQueue, as in the lesson, and are ended (−15) when the main program is done.
        Assert.All(consumerEntries, c => Assert.Equal(mode == "joinable", c.GetProperty("daemon").GetBoolean()));
        Assert.All(consumerEntries, c => Assert.Equal(mode == "joinable" ? -15 : 0, c.GetProperty("exitcode").GetInt32()));
        Assert.Equal(producers + consumers, processes.Select(p => p.GetProperty("pid").GetInt32()).Distinct().Count());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
        Assert.Equal(0, root.GetProperty("orphans").GetInt32());
    }

    [Fact]
    public async Task Joinable_mode_loses_nothing_when_a_consumer_is_killed_mid_run()
    {
        // Slow consumers (300 ms per item, one at a time): consumer-1 holds an unfinished item when it is killed.
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "prodcons", "--producers", "2", "--consumers", "3", "--items", "30",
            "--mode", "joinable", "--work-ms", "300", "--kill", "consumer-1@0.45", "--json", Json);
        var counts = root.GetProperty("items");
        Assert.Equal(30, counts.GetProperty("produced").GetInt64());
        Assert.Equal(0, counts.GetProperty("missing").GetInt64());
        Assert.Equal(30, counts.GetProperty("consumed").GetInt64());
        Assert.True(counts.GetProperty("redelivered").GetInt64() >= 1);
        var killed = root.GetProperty("processes").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "consumer-1");
        Assert.Equal(-9, killed.GetProperty("exitcode").GetInt32());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
    }

    [Fact]
    public async Task Joinable_mode_with_terminated_consumers_misses_nothing_and_finishes_nothing_unprocessed()
    {
        // SIGTERM lets a consumer say goodbye while its role still runs for a moment: it must not fetch or mark done
        // anything after its items were handed on. Repeated: the window is narrow.
        for (var i = 0; i < 5; i++)
        {
            // The run's history goes into the message of a failure: this window was seen to lose an item once (in CI,
            // 2026-12-07), and the history is what tells which item and why.
            var history = Path.Combine(_folder, "history.jsonl");
            var (run, root) = await SimCli.RunOkWithHistoryAsync(HardTimeout, Json, history, "prodcons", "--producers", "2", "--consumers", "3", "--items", "60",
                "--mode", "joinable", "--work-ms", "20", "--terminate", "consumer-1@0.3", "--terminate", "consumer-2@0.5", "--json", Json);
            var context = $"run {i + 1}: {SimCli.Failure(run, history)}";
            var counts = root.GetProperty("items");
            Assert.True(root.GetProperty("ok").GetBoolean(), context);
            Assert.Equal(60, counts.GetProperty("produced").GetInt64());
            // Every item was recorded as processed before it was marked done; join completing means all 60 were.
            Assert.True(counts.GetProperty("missing").GetInt64() == 0, context);
            Assert.Equal(60, counts.GetProperty("consumed").GetInt64());
            Assert.Equal(0, counts.GetProperty("unexpected").GetInt64());
        }
    }

    [Fact]
    public async Task A_killed_producer_counts_only_what_it_really_put()
    {
        // A slow consumer (1 ms per item) behind a small queue keeps the producers busy for seconds: the kill lands mid-run.
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "prodcons", "--producers", "2", "--consumers", "1", "--items", "2000",
            "--maxsize", "20", "--work-ms", "1", "--kill", "producer-1@0.3", "--json", Json);
        var counts = root.GetProperty("items");
        Assert.Equal(2000, counts.GetProperty("planned").GetInt64());
        Assert.True(counts.GetProperty("produced").GetInt64() < 2000);
        Assert.Equal(counts.GetProperty("produced").GetInt64(), counts.GetProperty("consumed").GetInt64());
        Assert.Equal(0, counts.GetProperty("missing").GetInt64());
    }

    [Fact]
    public async Task Bounded_queue_with_several_producers_keeps_every_item()
    {
        var (run, root) = await SimCli.RunOkAsync(HardTimeout, Json, "prodcons", "--producers", "3", "--consumers", "2", "--items", "3000",
            "--maxsize", "50", "--item-bytes", "1000", "--batch", "20", "--json", Json);
        var counts = root.GetProperty("items");
        Assert.Equal(3000, counts.GetProperty("consumed").GetInt64());
        Assert.Equal(0, counts.GetProperty("duplicates").GetInt64());
    }

    [Theory]
    [InlineData("no-such-scenario", "run", "no-such-scenario")]
    [InlineData("'fast'", "prodcons", "--mode", "fast")]
    [InlineData("--item-bytes", "prodcons", "--item-bytes", "5")]
    [InlineData("'frobnicate'", "pool", "frobnicate")]
    [InlineData("--size", "pool", "start", "--size", "0")]
    public async Task Bad_input_is_one_line_and_exit_code_2(string named, params string[] args)
    {
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), args);
        Assert.Equal(2, run.ExitCode);
        var lines = run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(named, lines[0]);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
