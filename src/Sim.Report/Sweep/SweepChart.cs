using ScottPlot;
using Sim.Report.Pictures;

namespace Sim.Report.Sweep;

/// <summary>One point of a series: its place on x (the value, or the position of a category) and the figure's median, min and max over its runs.</summary>
public sealed record ChartPoint(double X, double Median, double Min, double Max, int Runs);

/// <summary>One line of a sweep chart: Sim at one combination of the other varied keys, or the Python reference (drawn dashed).</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<ChartPoint> Points, bool Reference = false);

/// <summary>
/// How one figure moves with the varied key. <paramref name="Categories"/> names the x positions 0, 1, ... when the key's
/// values are not numbers (<c>mode=sentinel,joinable</c>); null when x is the value itself.
/// </summary>
public sealed record Chart(string Title, string XLabel, string YLabel, IReadOnlyList<string>? Categories, IReadOnlyList<ChartSeries> Series);

/// <summary>
/// Draws a sweep's chart with ScottPlot, as PNG and SVG: x the varied key, y the median of the runs with an error bar from
/// their min to their max, one line per series. Series sharing an x are drawn a little apart so their bars do not hide each other.
/// </summary>
public static class SweepChart
{
    public const int Width = 960;
    public const int Height = 560;

    private static readonly Color[] Colors =
        [Color.FromHex("#1F6FD1"), Color.FromHex("#2E9E44"), Color.FromHex("#7B3FB5"), Color.FromHex("#159C9C"), Color.FromHex("#A0622D"), Color.FromHex("#555555")];

    /// <summary>The Python reference: the same colour in every chart.</summary>
    private static readonly Color Reference = Pictures.Palette.Waiting;

    public static Picture Draw(Chart chart, string png, string svg)
    {
        var plot = new Plot();
        var xs = chart.Series.SelectMany(s => s.Points).Select(p => p.X).Distinct().Order().ToList();
        var span = chart.Categories is not null ? 1.0 : xs.Count > 1 ? xs[^1] - xs[0] : Math.Max(1, Math.Abs(xs.FirstOrDefault()));
        var step = chart.Series.Count > 1 ? span * (chart.Categories is not null ? 0.06 : 0.012) : 0;
        var own = 0;
        for (var i = 0; i < chart.Series.Count; i++)
        {
            var series = chart.Series[i];
            if (series.Points.Count == 0)
                continue;
            var color = series.Reference ? Reference : Colors[own++ % Colors.Length];
            var points = series.Points.OrderBy(p => p.X).ToList();
            var shift = step * (i - (chart.Series.Count - 1) / 2.0);
            var x = points.Select(p => p.X + shift).ToArray();
            var median = points.Select(p => p.Median).ToArray();
            var bars = new ScottPlot.Plottables.ErrorBar(x, median, null, null,
                points.Select(p => p.Max - p.Median).ToArray(), points.Select(p => p.Median - p.Min).ToArray())
            {
                Color = color, LineWidth = 2, CapSize = 5,
            };
            plot.Add.Plottable(bars);
            var line = plot.Add.Scatter(x, median, color);
            line.LegendText = series.Name;
            line.LineWidth = 2;
            line.MarkerSize = 8;
            // Squares, not a dashed line: Skia's SVG canvas cannot draw dashes (it says so on stdout).
            if (series.Reference)
                line.MarkerShape = MarkerShape.FilledSquare;
        }
        if (chart.Categories is { } categories)
        {
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, categories.Count).Select(i => (double)i).ToArray(), categories.ToArray());
            plot.Axes.SetLimitsX(-0.5, categories.Count - 0.5);
        }
        else if (xs.Count > 0)
        {
            // A tick at each value swept, and only there: 10, 25, 50, not 0.95, 1.00, 1.05.
            plot.Axes.Bottom.SetTicks(xs.ToArray(), xs.Select(x => x.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)).ToArray());
            plot.Axes.SetLimitsX(xs[0] - span * 0.06, xs[^1] + span * 0.06);
        }
        // From zero when every value is positive: a scaling curve read against its origin, not a zoomed-in wiggle.
        var tops = chart.Series.SelectMany(s => s.Points).Select(p => p.Max).ToList();
        var bottoms = chart.Series.SelectMany(s => s.Points).Select(p => p.Min).ToList();
        if (tops.Count > 0 && bottoms.Min() >= 0)
            plot.Axes.SetLimitsY(0, Math.Max(tops.Max(), 1e-9) * 1.1);
        plot.Title(chart.Title);
        plot.XLabel(chart.XLabel);
        plot.YLabel(chart.YLabel);
        plot.ShowLegend(Edge.Right);
        plot.SavePng(png, Width, Height);
        plot.SaveSvg(svg, Width, Height);
        return new Picture(png, svg, Width, Height, chart.Series.Select(s => s.Name).ToList(), [], null);
    }
}
