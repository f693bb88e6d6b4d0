using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SkiaSharp;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// The history of real runs (the real launcher, one OS process per buyer): written as JSON Lines of invoke/ok pairs,
/// checked (without the lock the checkers name the buyers of the race; with it they pass), and drawn (a timeline that
/// decodes, one lane per buyer, the race in red) into a report whose index.html shows the pictures.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed partial class HistoryScenarioTests : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(3);
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-history-").FullName;

    [GeneratedRegex(@"lost updates?: (?<names>[a-z0-9\-, ]+?) (both|all) read (?<read>\d+) and wrote (?<wrote>\d+)")]
    private static partial Regex Race();

    [Fact]
    public async Task Without_the_lock_the_history_names_the_buyers_that_read_the_same_count_and_the_timeline_shows_it_in_red()
    {
        // 300 ms between each buyer's read and write: the reads of 6 buyers released together all land before a write, so
        // the race is certain; a loaded machine might still spread them, so up to 3 runs.
        for (var attempt = 1; ; attempt++)
        {
            var run = Path.Combine(_folder, $"run-{attempt}");
            var (json, history, report) = (Path.Combine(run, "run.json"), Path.Combine(run, "history.jsonl"), Path.Combine(run, "report"));
            Directory.CreateDirectory(run);
            var (_, root) = await SimCli.RunOkAsync(HardTimeout, json, "tickets", "--buyers", "6", "--tickets", "3", "--no-lock", "--delay-ms", "300",
                "--db", Path.Combine(run, "db.json"), "--json", json, "--history", history, "--report", report);
            var register = Check(root, "ticket file as a register");
            if (register.GetProperty("passed").GetBoolean() && attempt < 3)
                continue;
            Assert.False(register.GetProperty("passed").GetBoolean(), register.GetProperty("detail").GetString());
            var detail = register.GetProperty("detail").GetString()!;
            var race = Race().Match(detail);
            Assert.True(race.Success, detail);
            var named = race.Groups["names"].Value.Replace(" and ", ", ").Split(", ");
            Assert.True(named.Length >= 2, detail);
            Assert.All(named, n => Assert.Matches("^buyer-[1-6]$", n));
            Assert.NotEmpty(register.GetProperty("evidence").EnumerateArray());

            // The history file: JSON Lines, each buyer's operations invoke then ok; and it agrees with what the checker said.
            var lines = File.ReadLines(history).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            foreach (var buyer in Enumerable.Range(1, 6).Select(i => $"buyer-{i}"))
            {
                var types = lines.Where(l => (string?)l["process"] == buyer).Select(l => (string)l["type"]!).ToList();
                Assert.True(types.Count >= 4 && types.Chunk(2).All(p => p is ["invoke", "ok"]), $"{buyer}: {string.Join(",", types)}");
            }
            foreach (var buyer in named)
            {
                bool Did(string f, string value) => lines.Any(l => (string?)l["process"] == buyer && (string?)l["type"] == "ok"
                    && (string?)l["f"] == f && l["value"]?.ToJsonString() == value);
                Assert.True(Did("read", race.Groups["read"].Value), $"{buyer} did not read {race.Groups["read"].Value}");
                Assert.True(Did("write", race.Groups["wrote"].Value), $"{buyer} did not write {race.Groups["wrote"].Value}");
            }

            // The report: index.html shows both pictures; the timeline decodes with one lane per buyer, and the race is red.
            var index = File.ReadAllText(Path.Combine(report, "index.html"));
            Assert.Contains("src=\"timeline.png\"", index);
            Assert.Contains("src=\"messages.png\"", index);
            Assert.Contains("history.jsonl", index);
            using var pictures = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "pictures.json")));
            var timeline = pictures.RootElement.GetProperty("timeline");
            using var bitmap = SKBitmap.Decode(Path.Combine(report, "timeline.png"));
            Assert.Equal((timeline.GetProperty("width").GetInt32(), timeline.GetProperty("height").GetInt32()), (bitmap.Width, bitmap.Height));
            Assert.Equal(Enumerable.Range(1, 6).Select(i => $"buyer-{i}"), timeline.GetProperty("lanes").EnumerateArray().Select(l => l.GetString()));
            var rows = timeline.GetProperty("lane_pixels").EnumerateArray().Select(p => p.GetInt32()).ToList();
            int Count(int row, Func<SKColor, bool> match) => Enumerable.Range(0, bitmap.Width * 3 / 4).Count(x => match(bitmap.GetPixel(x, row)));
            var redLanes = rows.Count(row => Count(row, c => c.Red > 180 && c.Red - c.Green > 60 && c.Red - c.Blue > 60) > 5);
            Assert.True(redLanes >= named.Length, $"{redLanes} lanes show the race in red, {named.Length} buyers are named");
            Assert.All(rows, row => Assert.True(Count(row, c => Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 60) > 10));
            using var messages = SKBitmap.Decode(Path.Combine(report, "messages.png"));
            Assert.Equal(pictures.RootElement.GetProperty("messages").GetProperty("width").GetInt32(), messages.Width);
            return;
        }
    }

    [Fact]
    public async Task With_the_lock_the_checkers_pass_and_the_critical_sections_follow_each_other_in_token_order()
    {
        var (json, history, report) = (Path.Combine(_folder, "run.json"), Path.Combine(_folder, "history.jsonl"), Path.Combine(_folder, "report"));
        var (_, root) = await SimCli.RunOkAsync(HardTimeout, json, "tickets", "--buyers", "4", "--tickets", "2", "--db", Path.Combine(_folder, "db.json"),
            "--json", json, "--history", history, "--report", report);
        var checks = root.GetProperty("history_checks").EnumerateArray().ToList();
        Assert.Equal(2, checks.Count);
        Assert.All(checks, c => Assert.True(c.GetProperty("passed").GetBoolean(), c.GetProperty("detail").GetString()));
        Assert.Contains("4 grants", Check(root, "mutual exclusion of lock tickets").GetProperty("detail").GetString());

        // From the buyers' own clocks: each holding (acquire ok .. release) ends before the next token's begins.
        var lines = File.ReadLines(history).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var holds = lines.Where(l => (string?)l["kind"] == "lock" && (string?)l["f"] == "acquire" && (string?)l["type"] == "ok")
            .Select(l => (Token: (long)l["token"]!, Process: (string)l["process"]!, From: (long)l["time"]!,
                To: (long)lines.First(r => (string?)r["process"] == (string)l["process"]! && (string?)r["f"] == "release" && (string?)r["type"] == "invoke"
                                           && (long?)r["token"] == (long)l["token"]!)["time"]!))
            .OrderBy(h => h.Token).ToList();
        Assert.Equal([1L, 2, 3, 4], holds.Select(h => h.Token));
        Assert.All(holds.Zip(holds.Skip(1)), pair => Assert.True(pair.First.To <= pair.Second.From,
            $"{pair.First.Process} (token {pair.First.Token}) still held the lock when {pair.Second.Process} (token {pair.Second.Token}) got it"));

        using var pictures = JsonDocument.Parse(File.ReadAllText(Path.Combine(report, "pictures.json")));
        using var bitmap = SKBitmap.Decode(Path.Combine(report, "timeline.png"));
        var rows = pictures.RootElement.GetProperty("timeline").GetProperty("lane_pixels").EnumerateArray().Select(p => p.GetInt32()).ToList();
        Assert.Equal(4, rows.Count);
        Assert.All(rows, row => Assert.Equal(0, Enumerable.Range(0, bitmap.Width * 3 / 4)
            .Count(x => bitmap.GetPixel(x, row) is var c && c.Red > 180 && c.Red - c.Green > 60 && c.Red - c.Blue > 60)));
    }

    private static JsonElement Check(JsonElement root, string name) =>
        root.GetProperty("history_checks").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
