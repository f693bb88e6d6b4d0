namespace Sim.Report.Pictures;

/// <summary>
/// A picture written as PNG and SVG, with what a test (or a person) needs to find things in it: its size in pixels, its
/// lanes in order, and the pixel row (timeline) or column (message diagram) at the centre of each lane.
/// </summary>
public sealed record Picture(string Png, string Svg, int Width, int Height, IReadOnlyList<string> Lanes, IReadOnlyList<int> LanePixels, string? Capped);
