using ScottPlot;
using Sim.Core.History;
using Sim.Report.Checkers;

namespace Sim.Report.Pictures;

/// <summary>
/// The run as a timeline: one lane per process, time across (seconds since the start barrier let everyone go). A lane
/// shows waiting for a lock (orange, thin), holding it (green, with its token), each read (blue) and write (purple) and
/// the read-then-write window between them (light purple: red where the write lost another's update, the race the
/// lock prevents), queue puts (teal) and gets (brown), and kills, terminations and exits (red crosses, marks).
/// </summary>
public static class Timeline
{
    public const int MaxLanes = 64;
    public const int MaxOperationsPerLane = 400;
    public const int Width = 1400;
    private const int LaneHeight = 44;

    public static Picture Draw(History history, string title, string png, string svg)
    {
        var lanes = history.Processes.Take(MaxLanes).ToList();
        var capped = new List<string>();
        if (history.Processes.Count > MaxLanes)
            capped.Add($"first {MaxLanes} of {history.Processes.Count} processes shown");
        var height = Math.Max(360, 130 + LaneHeight * lanes.Count);
        var plot = new Plot();
        var ops = history.Operations.Where(o => lanes.Contains(o.Process)).ToList();
        var times = ops.SelectMany(o => new[] { o.InvokeUs, o.CompleteUs ?? o.CoordinatorUs ?? o.InvokeUs })
            .Concat(history.ProcessEvents.Where(e => e.F != "exit" || e.Values is not [0]).Select(e => e.TimeUs)).Append(history.OriginUs)
            .Select(history.Seconds).ToList();
        // The work is what matters: before the start, only a short stretch is shown (the searches of a slow start-up are
        // cut at the left edge rather than squeezing the work into a corner).
        var right = Math.Max(times.Max(), 1e-3);
        var left = Math.Max(times.Min(), -0.15 * right);
        var span = Math.Max(right - left, 1e-3);
        (left, right) = (left - span * 0.02, right + span * 0.12);
        var minimum = (right - left) * 3.0 / Width;
        var lost = LostWrites(history);
        var used = new HashSet<string>();

        double Lane(int i) => lanes.Count - 1 - i;
        void Bar(double from, double to, double y, double half, Color color, string legend)
        {
            if (to - from < minimum)
                to = from + minimum;
            var rect = plot.Add.Rectangle(from, to, y - half, y + half);
            rect.FillColor = color;
            rect.LineWidth = 0;
            used.Add(legend);
        }
        void Label(string text, double x, double y, Color color, float size = 11, bool bold = false)
        {
            var label = plot.Add.Text(text, x, y);
            label.LabelFontSize = size;
            label.LabelFontColor = color;
            label.LabelBold = bold;
            label.LabelAlignment = Alignment.LowerLeft;
        }

        for (var i = 0; i < lanes.Count; i++)
        {
            var y = Lane(i);
            if (i % 2 == 0)
            {
                var stripe = plot.Add.Rectangle(left, right, y - 0.5, y + 0.5);
                stripe.FillColor = Palette.Lane.WithAlpha(0.5);
                stripe.LineWidth = 0;
            }
            var mine = ops.Where(o => o.Process == lanes[i]).OrderBy(o => o.InvokeUs).ToList();
            if (mine.Count > MaxOperationsPerLane)
            {
                capped.Add($"{lanes[i]}: first {MaxOperationsPerLane} of {mine.Count} operations");
                mine = mine.Take(MaxOperationsPerLane).ToList();
            }
            var ends = history.ProcessEvents.Where(e => e.Process == lanes[i]).Select(e => e.TimeUs).DefaultIfEmpty(long.MaxValue).Min();
            for (var k = 0; k < mine.Count; k++)
            {
                var op = mine[k];
                var (from, to) = (history.Seconds(op.InvokeUs), history.Seconds(op.CompleteUs ?? op.CoordinatorUs ?? op.InvokeUs));
                switch (op.Kind, op.F)
                {
                    case (HistoryOps.Lock, "acquire"):
                        if (!op.CoordinatorOnly)
                            Bar(from, to, y + 0.3, 0.07, Palette.Waiting, "waiting for the lock");
                        if (op.IsOk || op.CoordinatorOnly)
                        {
                            var release = mine.Skip(k + 1).FirstOrDefault(o => o.Kind == HistoryOps.Lock && o.Key == op.Key && o.F == "release" && o.Token == op.Token);
                            var endUs = release is null ? Math.Min(ends, history.OriginUs + (long)(right * 1e6)) : release.CoordinatorOnly ? release.CoordinatorUs!.Value : release.InvokeUs;
                            Bar(to, history.Seconds(endUs), y, 0.34, Palette.Holding.WithAlpha(0.45), "holding the lock");
                            Label($"t{op.Token}", to, y + 0.12, Palette.Holding.Darken(0.4), 11, bold: true);
                        }
                        break;
                    case (HistoryOps.Tickets or HistoryOps.Value, "read"):
                        var next = mine.Skip(k + 1).FirstOrDefault(o => o.Kind == op.Kind && o.Key == op.Key);
                        if (op.IsOk && next is { F: "write" })
                        {
                            var writeEnd = history.Seconds(next.CompleteUs ?? next.CoordinatorUs ?? next.InvokeUs);
                            var race = lost.Contains(next.CoordinatorSeq ?? -1);
                            Bar(from, writeEnd, y, 0.3, race ? Palette.Lost.WithAlpha(0.55) : Palette.Window.WithAlpha(0.6),
                                race ? "read-then-write that lost an update" : "read-then-write");
                            if (mine.Count <= 60)
                                Label($"{op.Value}→{next.InvokeValues.FirstOrDefault()}{(race ? " lost" : "")}", writeEnd, y - 0.38, race ? Palette.Lost : Palette.Write, 10);
                            Bar(from, to, y, 0.14, Palette.Read, "read");
                        }
                        else
                        {
                            var search = op.InvokeUs < history.OriginUs;
                            Bar(from, to, y, 0.14, search ? Palette.Search : Palette.Read, search ? "search (read before the start)" : "read");
                        }
                        break;
                    case (HistoryOps.Tickets or HistoryOps.Value, "write" or "add" or "cas"):
                        Bar(from, to, y, 0.14, op.Type == HistoryType.Fail ? Palette.Lost : Palette.Write, op.Type == HistoryType.Fail ? "write refused" : "write");
                        break;
                    case (HistoryOps.Queue, "put"):
                        Bar(from, to, y, 0.18, Palette.Put, "queue put");
                        break;
                    case (HistoryOps.Queue, "get" or "task_done"):
                        Bar(from, to, y, 0.18, op.IsOk && op.Values.Count > 0 ? Palette.Get : Palette.Get.WithAlpha(0.35), "queue get");
                        break;
                    case (HistoryOps.Lock, _):
                        break;
                    default:
                        Bar(from, to, y, 0.15, Palette.Other, "other");
                        break;
                }
            }
            foreach (var e in history.ProcessEvents.Where(e => e.Process == lanes[i]))
            {
                var x = history.Seconds(e.TimeUs);
                if (e.F is "kill" or "terminate")
                {
                    plot.Add.Marker(x, y, MarkerShape.Cross, 16, Palette.Fault);
                    Label(e.F == "kill" ? "killed" : "terminated", x, y + 0.2, Palette.Fault, 11, bold: true);
                    used.Add("kill / terminate");
                }
                else if (e.F == "exit" && e.Values is [var code] && code != 0)
                {
                    plot.Add.Marker(x, y, MarkerShape.FilledSquare, 7, Colors.Black);
                    Label($"exit {code}", x, y - 0.4, Colors.Black, 10);
                }
            }
        }
        var start = plot.Add.VerticalLine(0, 1, Colors.Gray, LinePattern.Dashed);
        start.Text = "start";
        plot.Axes.Left.SetTicks(Enumerable.Range(0, lanes.Count).Select(Lane).ToArray(), lanes.ToArray());
        plot.Axes.SetLimits(left, right, -0.7, lanes.Count - 0.3);
        plot.XLabel("seconds since the start barrier let everyone go (host clock)");
        plot.Title(capped.Count == 0 ? title : $"{title} ({string.Join("; ", capped)})");
        foreach (var (legend, color) in Legend().Where(l => used.Contains(l.Name)))
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = legend, FillColor = color, LineWidth = 0 });
        // Beside the lanes, not over them.
        plot.ShowLegend(Edge.Right);
        plot.SavePng(png, Width, height);
        var pixels = Enumerable.Range(0, lanes.Count).Select(i => (int)Math.Round(plot.GetPixel(new Coordinates(0, Lane(i))).Y)).ToList();
        plot.SaveSvg(svg, Width, height);
        return new Picture(png, svg, Width, height, lanes, pixels, capped.Count == 0 ? null : string.Join("; ", capped));
    }

    private static IEnumerable<(string Name, Color Color)> Legend() =>
    [
        ("waiting for the lock", Palette.Waiting),
        ("holding the lock", Palette.Holding.WithAlpha(0.45)),
        ("search (read before the start)", Palette.Search),
        ("read", Palette.Read),
        ("write", Palette.Write),
        ("read-then-write", Palette.Window.WithAlpha(0.6)),
        ("read-then-write that lost an update", Palette.Lost.WithAlpha(0.55)),
        ("write refused", Palette.Lost),
        ("queue put", Palette.Put),
        ("queue get", Palette.Get),
        ("kill / terminate", Palette.Fault),
    ];

    /// <summary>The coordinator's places (Seq) of the writes in a lost update, as writer or as overwritten, in every register.</summary>
    private static HashSet<long> LostWrites(History history)
    {
        var registers = history.Coordinator.Where(e => e.Kind is HistoryOps.Tickets or HistoryOps.Value).GroupBy(e => (e.Kind, e.Key));
        var seqs = new HashSet<long>();
        foreach (var register in registers)
        {
            var lost = LostUpdates.Find(register);
            foreach (var (_, events) in LostUpdates.Describe(lost))
                seqs.UnionWith(events.Where(e => e.F == "write").Select(e => e.Seq));
        }
        return seqs;
    }
}
