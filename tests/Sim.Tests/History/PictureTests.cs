using Sim.Core.History;
using Sim.Report;
using Sim.Report.Pictures;
using SkiaSharp;
using Xunit;

namespace Sim.Tests.History;

/// <summary>
/// The pictures as a person sees them: the PNG decodes, has the size and lanes it says, each lane shows its bars at its
/// row, and the race without the lock shows in red on the lanes of the buyers in it, and only there.
/// </summary>
public sealed class PictureTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-pictures-").FullName;

    /// <summary>Four buyers without the lock: buyer-1 buys alone first, then buyer-2 and buyer-3 both read 2 and write 1; buyer-4 only searches.</summary>
    private static Sim.Report.History Race() => new HistoryBuilder("buyer-1", "buyer-2", "buyer-3", "buyer-4")
        .Op("buyer-4", HistoryOps.Tickets, HistoryOps.Tickets, "read", [], [3])
        .Op("buyer-1", HistoryOps.Tickets, HistoryOps.Tickets, "read", [], [3])
        .Op("buyer-1", HistoryOps.Tickets, HistoryOps.Tickets, "write", [2], [2])
        .Op("buyer-2", HistoryOps.Tickets, HistoryOps.Tickets, "read", [], [2])
        .Op("buyer-3", HistoryOps.Tickets, HistoryOps.Tickets, "read", [], [2])
        .Op("buyer-2", HistoryOps.Tickets, HistoryOps.Tickets, "write", [1], [1])
        .Op("buyer-3", HistoryOps.Tickets, HistoryOps.Tickets, "write", [1], [1])
        .Launcher("buyer-4", "kill").Build();

    [Fact]
    public void The_timeline_decodes_with_its_size_one_lane_per_process_and_the_race_in_red_on_the_racing_buyers_only()
    {
        var picture = Timeline.Draw(Race(), "tickets", Path.Combine(_folder, "t.png"), Path.Combine(_folder, "t.svg"));
        using var bitmap = SKBitmap.Decode(picture.Png);
        Assert.NotNull(bitmap);
        Assert.Equal((Timeline.Width, 360), (bitmap.Width, bitmap.Height));
        Assert.Equal((picture.Width, picture.Height), (bitmap.Width, bitmap.Height));
        Assert.Equal(["buyer-1", "buyer-2", "buyer-3", "buyer-4"], picture.Lanes);
        // Lanes top to bottom, evenly spaced, inside the picture.
        Assert.All(picture.LanePixels, y => Assert.InRange(y, 20, bitmap.Height - 40));
        var gaps = picture.LanePixels.Zip(picture.LanePixels.Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps, gap => Assert.InRange(gap, 30, 80));
        Assert.True(gaps.Max() - gaps.Min() <= 2, $"lanes unevenly spaced: {string.Join(",", picture.LanePixels)}");

        // The legend stands at the right, beside the lanes: rows are read left of it.
        int Count(int row, Func<SKColor, bool> match) => Enumerable.Range(0, bitmap.Width * 3 / 4).Count(x => match(bitmap.GetPixel(x, row)));
        static bool Saturated(SKColor c) => Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 60;
        static bool Red(SKColor c) => c.Red > 180 && c.Red - c.Green > 60 && c.Red - c.Blue > 60;
        for (var lane = 0; lane < 4; lane++)
        {
            var row = picture.LanePixels[lane];
            Assert.True(Count(row, Saturated) > 10, $"lane {picture.Lanes[lane]} (row {row}) shows no bar");
        }
        // Between two lanes the picture is calmer than on them: lanes are told apart.
        var between = (picture.LanePixels[0] + picture.LanePixels[1]) / 2;
        Assert.True(Count(between, Saturated) < Count(picture.LanePixels[0], Saturated));
        // The lost update: buyer-2 and buyer-3 in red, buyer-1 (bought alone) and buyer-4 (only searched) not.
        Assert.True(Count(picture.LanePixels[1], Red) > 5, "buyer-2's lost update is not red");
        Assert.True(Count(picture.LanePixels[2], Red) > 5, "buyer-3's lost update is not red");
        Assert.Equal(0, Count(picture.LanePixels[0], Red));
        Assert.True(File.Exists(picture.Svg) && File.ReadAllText(picture.Svg).Contains("<svg", StringComparison.Ordinal));
    }

    [Fact]
    public void The_message_diagram_has_a_lane_per_primitive_and_process_and_an_arrow_per_message()
    {
        var picture = MessageDiagram.Draw(Race(), "tickets", Path.Combine(_folder, "m.png"), Path.Combine(_folder, "m.svg"));
        using var bitmap = SKBitmap.Decode(picture.Png);
        Assert.Equal((picture.Width, MessageDiagram.Height), (bitmap.Width, bitmap.Height));
        Assert.Equal(["ticket file", "buyer-1", "buyer-2", "buyer-3", "buyer-4"], picture.Lanes);
        Assert.Null(picture.Capped);
        var columns = picture.LanePixels;
        Assert.True(columns.Zip(columns.Skip(1), (a, b) => b > a + 50).All(ok => ok), $"lanes not left to right: {string.Join(",", columns)}");
        // The coordinator's lane is drawn solid and dark from top to bottom.
        var dark = Enumerable.Range(0, bitmap.Height).Count(y => bitmap.GetPixel(columns[0], y) is var c && c.Red < 120 && c.Green < 120 && c.Blue < 120);
        Assert.True(dark > bitmap.Height / 2, $"the primitive's lane is not drawn ({dark} dark pixels)");
        // Arrows between the primitive and the buyers: coloured pixels between the first two lanes.
        var middle = (columns[0] + columns[1]) / 2;
        var coloured = Enumerable.Range(0, bitmap.Height).Count(y => bitmap.GetPixel(middle, y) is var c
            && Math.Max(c.Red, Math.Max(c.Green, c.Blue)) - Math.Min(c.Red, Math.Min(c.Green, c.Blue)) > 60);
        Assert.True(coloured >= 6, $"no arrows crossing between the primitive and the buyers ({coloured})");
    }

    [Fact]
    public void A_message_diagram_of_a_long_run_draws_the_first_operations_and_says_so()
    {
        var builder = new HistoryBuilder("counter-1");
        for (var i = 0; i < MessageDiagram.MaxOperations + 30; i++)
            builder.Op("counter-1", HistoryOps.Value, "n", "add", [1], [i + 1]);
        var picture = MessageDiagram.Draw(builder.Build(), "counter", Path.Combine(_folder, "c.png"), Path.Combine(_folder, "c.svg"));
        Assert.Equal($"first {MessageDiagram.MaxOperations} of {MessageDiagram.MaxOperations + 30} operations shown", picture.Capped);
        Assert.Contains("operations shown", File.ReadAllText(picture.Svg));
    }

    [Fact]
    public void The_history_file_is_json_lines_of_invoke_then_completion_with_faults_as_nemesis_operations()
    {
        var path = Path.Combine(_folder, "h.jsonl");
        HistoryFile.Write(Race(), path);
        var lines = HistoryFile.Read(path);
        Assert.Equal(7 * 2 + 2, lines.Count);
        Assert.Equal(Enumerable.Range(0, lines.Count), lines.Select(l => (int)l["index"]!));
        var times = lines.Select(l => (long)l["time"]!).ToList();
        Assert.Equal(times.Order(), times);
        foreach (var process in new[] { "buyer-1", "buyer-2", "buyer-3", "buyer-4" })
        {
            var mine = lines.Where(l => (string?)l["process"] == process).Select(l => (string)l["type"]!).ToList();
            Assert.True(mine.Count % 2 == 0 && mine.Chunk(2).All(pair => pair is ["invoke", "ok"]), $"{process}: {string.Join(",", mine)}");
        }
        var write = lines.First(l => (string?)l["process"] == "buyer-2" && (string?)l["f"] == "write" && (string?)l["type"] == "ok");
        Assert.Equal(1, (long)write["value"]!);
        Assert.Equal(1, (int)write["process_id"]!);
        Assert.NotNull(write["coordinator_index"]);
        var kill = lines.Where(l => (string?)l["process"] == "nemesis").ToList();
        Assert.Equal(["invoke", "info"], kill.Select(l => (string)l["type"]!));
        Assert.All(kill, l => Assert.Equal(("kill", "buyer-4"), ((string)l["f"]!, (string)l["value"]!)));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
