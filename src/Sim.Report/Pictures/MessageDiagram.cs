using ScottPlot;

namespace Sim.Report.Pictures;

/// <summary>
/// A Lamport diagram of the run: one vertical lane per coordinator primitive (left) and per process, time going down,
/// and an arrow per message: a request from the process (when it was invoked, on its clock) to the primitive (when the
/// coordinator processed it), and the answer back (when the process got it). A one-way message has no answer. Only the
/// first <see cref="MaxOperations"/> operations are drawn, so that the diagram stays readable; the title says so.
/// </summary>
public static class MessageDiagram
{
    public const int MaxOperations = 120;
    public const int MaxProcesses = 24;
    public const int Height = 1000;

    public static Picture Draw(History history, string title, string png, string svg)
    {
        var processes = history.Processes.Take(MaxProcesses).ToList();
        // From the start on: what the participants did together (their searches while the others were still starting are in the timeline).
        var all = history.Operations.Where(o => o.CoordinatorUs is { } at && at >= history.OriginUs && processes.Contains(o.Process)).ToList();
        var drawn = all.Take(MaxOperations).ToList();
        var primitives = drawn.Select(LaneOf).Distinct().Order(StringComparer.Ordinal).ToList();
        var lanes = primitives.Concat(processes).ToList();
        var x = lanes.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => (double)p.i);
        var width = Math.Max(900, 160 + 120 * lanes.Count);
        var plot = new Plot();
        foreach (var (lane, i) in lanes.Select((l, i) => (l, i)))
        {
            var line = plot.Add.VerticalLine(i, i < primitives.Count ? 3 : 1.5f, i < primitives.Count ? Colors.DarkSlateGray : Colors.Gray);
            line.LinePattern = i < primitives.Count ? LinePattern.Solid : LinePattern.Dotted;
        }
        double T(long us) => history.Seconds(us);
        var labels = drawn.Count <= 24;
        foreach (var op in drawn)
        {
            var process = x[op.Process];
            var primitive = x[LaneOf(op)];
            var at = T(op.CoordinatorUs!.Value);
            var color = Palette.Of(op.F);
            if (!op.CoordinatorOnly)
                Arrow(plot, process, T(op.InvokeUs), primitive, at, color);
            if (op.CompleteUs is { } done && op.Note != "one-way")
                Arrow(plot, primitive, at, process, T(done), color.WithAlpha(0.6));
            if (labels)
            {
                var text = plot.Add.Text($"{op.F}{(op.Value is { } v ? $" {v}" : "")}{(op.Token != 0 ? $" t{op.Token}" : "")}", primitive, at);
                text.LabelFontSize = 9;
                text.LabelFontColor = color;
                text.LabelAlignment = Alignment.MiddleLeft;
                text.OffsetX = 4;
            }
        }
        var faults = history.ProcessEvents.Where(e => e.F is "kill" or "terminate" && x.ContainsKey(e.Process)).ToList();
        foreach (var e in faults)
            plot.Add.Marker(x[e.Process], T(e.TimeUs), MarkerShape.Cross, 16, Palette.Fault);
        var capped = all.Count > drawn.Count || history.Processes.Count > processes.Count
            ? $"first {drawn.Count} of {all.Count} operations{(history.Processes.Count > processes.Count ? $", {processes.Count} of {history.Processes.Count} processes" : "")} shown"
            : null;
        plot.Axes.Bottom.SetTicks(lanes.Select((_, i) => (double)i).ToArray(), lanes.ToArray());
        var times = drawn.SelectMany(o => new[] { o.InvokeUs, o.CoordinatorUs!.Value, o.CompleteUs ?? o.InvokeUs }).Select(T).DefaultIfEmpty(0).ToList();
        var (latest, earliest) = (times.Max(), times.Min());
        var pad = Math.Max((latest - earliest) * 0.03, 1e-3);
        // Time goes down: the later, the lower (limits given bottom first, so the axis is inverted).
        plot.Axes.SetLimits(-0.6, lanes.Count - 0.4, latest + pad, earliest - pad);
        plot.YLabel("seconds since the start (time goes down)");
        plot.Title(capped is null ? title : $"{title} ({capped})");
        plot.SavePng(png, width, Height);
        var pixels = lanes.Select((_, i) => (int)Math.Round(plot.GetPixel(new Coordinates(i, (latest + earliest) / 2)).X)).ToList();
        plot.SaveSvg(svg, width, Height);
        return new Picture(png, svg, width, Height, lanes, pixels, capped);
    }

    /// <summary>The lane of the coordinator's primitive an operation went to ("lock tickets", "queue q", "ticket file").</summary>
    private static string LaneOf(Operation op) => op.Kind == Sim.Core.History.HistoryOps.Tickets ? "ticket file" : $"{op.Kind} {op.Key}";

    private static void Arrow(Plot plot, double x1, double y1, double x2, double y2, Color color)
    {
        var arrow = plot.Add.Arrow(new Coordinates(x1, y1), new Coordinates(x2, y2));
        arrow.ArrowLineColor = color;
        arrow.ArrowFillColor = color;
        arrow.ArrowLineWidth = 0;
        arrow.ArrowWidth = 1.5f;
        arrow.ArrowheadWidth = 7;
        arrow.ArrowheadLength = 9;
    }
}
