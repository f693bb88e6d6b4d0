using System.Globalization;

namespace Sim.Launcher.Sweep;

/// <summary>One varied key and its values, in the order given.</summary>
public sealed record SweepAxis(string Key, IReadOnlyList<string> Values)
{
    /// <summary>Every value is a number: a chart's x is the value itself, else the values are categories in this order.</summary>
    public bool Numeric => Values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
}

/// <summary>
/// One point of the grid: a value for each varied key, in the keys' order. A Python reference's point has no value (null)
/// for the keys it has no counterpart of (start-method, agents, ...): one Python run stands for all the points that differ only there.
/// </summary>
public sealed record SweepPoint(IReadOnlyList<string> Keys, IReadOnlyList<string?> Values)
{
    public string? this[string key] => Keys.ToList().IndexOf(key) is >= 0 and var i ? Values[i] : null;

    /// <summary>The keys that have a value here, with it.</summary>
    public IEnumerable<(string Key, string Value)> Settings => Keys.Zip(Values).Where(kv => kv.Second is not null).Select(kv => (kv.First, kv.Second!));

    public string Label => string.Join(" ", Settings.Select(s => $"{s.Key}={s.Value}")) is { Length: > 0 } label ? label : "(one point)";

    /// <summary>The point in a file name.</summary>
    public string Slug => string.Concat(string.Join("_", Settings.Select(s => $"{s.Key}={s.Value}"))
        .Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '=' or '_' or '-' ? c : '-')) is { Length: > 0 } slug ? slug : "point";

    /// <summary>The same point with only the keys <paramref name="keep"/> says to keep.</summary>
    public SweepPoint Keep(Func<string, bool> keep) => this with { Values = Keys.Zip(Values).Select(kv => keep(kv.First) ? kv.Second : null).ToList() };

    private string Id => string.Join('\u001f', Values.Select(v => v ?? "\u0000"));

    public bool Equals(SweepPoint? other) => other is not null && Id == other.Id;

    public override int GetHashCode() => Id.GetHashCode(StringComparison.Ordinal);
}

/// <summary>The grid of a sweep: every combination of the varied keys' values.</summary>
public static class SweepGrid
{
    /// <summary>
    /// Parses <c>--vary KEY=V1,V2,...</c>, each key once; a key without values, an empty value, a value twice or a key
    /// twice is a usage error naming it.
    /// </summary>
    public static IReadOnlyList<SweepAxis> Parse(IReadOnlyList<string> vary)
    {
        var axes = new List<SweepAxis>();
        foreach (var text in vary)
        {
            var eq = text.IndexOf('=');
            var key = eq > 0 ? text[..eq].Trim() : "";
            if (key.Length == 0 || key.StartsWith('-') || key.Any(char.IsWhiteSpace))
                throw new UsageException($"--vary '{text}' is not KEY=V1,V2,... (e.g. buyers=10,50,100)");
            var list = text[(eq + 1)..];
            if (list.Trim().Length == 0)
                throw new UsageException($"--vary {text}: no values (give them as {key}=V1,V2,...)");
            var values = list.Split(',').Select(v => v.Trim()).ToList();
            if (values.Any(v => v.Length == 0))
                throw new UsageException($"--vary {text}: an empty value in the list");
            if (values.GroupBy(v => v).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new UsageException($"--vary {text}: {key}={twice.Key} twice");
            if (axes.Any(a => a.Key == key))
                throw new UsageException($"--vary {key}: the key is varied twice; give all its values in one --vary {key}=V1,V2,...");
            axes.Add(new SweepAxis(key, values));
        }
        return axes;
    }

    /// <summary>Every combination of the axes' values, the last key changing fastest.</summary>
    public static IReadOnlyList<SweepPoint> Points(IReadOnlyList<SweepAxis> axes)
    {
        var keys = axes.Select(a => a.Key).ToList();
        IEnumerable<IReadOnlyList<string?>> combinations = [[]];
        foreach (var axis in axes)
            combinations = combinations.SelectMany(c => axis.Values.Select(v => (IReadOnlyList<string?>)[.. c, v]));
        return combinations.Select(values => new SweepPoint(keys, values)).ToList();
    }
}
