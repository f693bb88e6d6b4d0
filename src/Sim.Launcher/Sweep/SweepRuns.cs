using System.Globalization;
using System.Text;

namespace Sim.Launcher.Sweep;

/// <summary>One recorded run: which run it was, whether it went well, its exit code, how long it took, why it failed, and its figures.</summary>
public sealed record SweepRow(
    string Series, SweepPoint Point, int Run, bool Ok, int? ExitCode, double Seconds, string? Error, IReadOnlyDictionary<string, double> Figures);

/// <summary>
/// runs.csv: one row per run, appended and flushed to the disk after each run, so that an interrupted or crashed sweep keeps
/// every run it finished; read back when the same sweep starts again, to run only what is missing. Columns: the varied keys,
/// series (sim or python), run, ok, exit_code, run_s (the run's own time, start to exit, as the sweep saw it), error, then
/// every figure in the order they first appeared; a run that brings a new figure rewrites the file with the wider header.
/// </summary>
public sealed class SweepRuns
{
    public const string FileName = "runs.csv";
    private static readonly string[] Fixed = ["series", "run", "ok", "exit_code", "run_s", "error"];

    private readonly string _path;
    private readonly IReadOnlyList<string> _keys;
    private readonly List<string> _figures = [];
    private readonly List<SweepRow> _rows = [];
    private readonly HashSet<(string Series, SweepPoint Point, int Run)> _recorded = [];

    private SweepRuns(string path, IReadOnlyList<string> keys)
    {
        _path = path;
        _keys = keys;
    }

    public IReadOnlyList<SweepRow> Rows => _rows;

    /// <summary>The figure columns, in order.</summary>
    public IReadOnlyList<string> Figures => _figures;

    public bool Has(SweepRun run) => _recorded.Contains((run.Series, run.Point, run.Run));

    /// <summary>
    /// The runs recorded in <paramref name="folder"/>, if any. A last line cut short (the sweep died while writing it) is
    /// dropped, and the file written again without it.
    /// </summary>
    public static SweepRuns Open(string folder, IReadOnlyList<string> keys)
    {
        var runs = new SweepRuns(Path.Combine(folder, FileName), keys);
        if (!File.Exists(runs._path))
            return runs;
        var text = File.ReadAllText(runs._path);
        var lines = text.Split('\n').ToList();
        var torn = lines.Count > 0 && lines[^1].Length > 0;
        lines.RemoveAt(lines.Count - 1); // after the last '\n': empty, or a line cut short
        if (lines.Count == 0)
        {
            runs.Rewrite();
            return runs;
        }
        var header = Csv.Parse(lines[0]);
        if (!header.Take(keys.Count + Fixed.Length).SequenceEqual(keys.Concat(Fixed)))
            throw new UsageException($"{runs._path} has other columns ({string.Join(",", header.Take(keys.Count + Fixed.Length))}) than this sweep's ({string.Join(",", keys.Concat(Fixed))})");
        runs._figures.AddRange(header.Skip(keys.Count + Fixed.Length));
        foreach (var line in lines.Skip(1))
        {
            var fields = Csv.Parse(line);
            if (fields.Count != header.Count || ParseRow(runs, fields) is not { } row)
            {
                torn = true;
                continue;
            }
            runs.Add(row);
        }
        if (torn)
            runs.Rewrite();
        return runs;
    }

    private static SweepRow? ParseRow(SweepRuns runs, IReadOnlyList<string> fields)
    {
        var k = runs._keys.Count;
        if (!int.TryParse(fields[k + 1], CultureInfo.InvariantCulture, out var run) || fields[k + 2] is not ("true" or "false"))
            return null;
        var figures = new Dictionary<string, double>();
        for (var i = 0; i < runs._figures.Count; i++)
        {
            if (double.TryParse(fields[k + Fixed.Length + i], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                figures[runs._figures[i]] = value;
        }
        return new SweepRow(fields[k], new SweepPoint(runs._keys, fields.Take(k).Select(v => v.Length == 0 ? null : v).ToList()), run,
            fields[k + 2] == "true", int.TryParse(fields[k + 3], CultureInfo.InvariantCulture, out var code) ? code : null,
            double.TryParse(fields[k + 4], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? seconds : 0,
            fields[k + 5].Length == 0 ? null : fields[k + 5], figures);
    }

    /// <summary>Records a run: appended and flushed to the disk before this returns.</summary>
    public void Append(SweepRow row)
    {
        var wider = row.Figures.Keys.Where(f => !_figures.Contains(f)).ToList();
        Add(row);
        if (wider.Count > 0 || !File.Exists(_path))
        {
            _figures.AddRange(wider);
            Rewrite();
            return;
        }
        using var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
        var bytes = Encoding.UTF8.GetBytes(Line(row) + "\n");
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    private void Add(SweepRow row)
    {
        _rows.Add(row);
        _recorded.Add((row.Series, row.Point, row.Run));
    }

    /// <summary>The whole file again, into a temporary file flushed to the disk and then moved over the old one: never half written.</summary>
    private void Rewrite()
    {
        var temp = _path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            var text = new StringBuilder(Csv.Line(_keys.Concat(Fixed).Concat(_figures))).Append('\n');
            foreach (var row in _rows)
                text.Append(Line(row)).Append('\n');
            stream.Write(Encoding.UTF8.GetBytes(text.ToString()));
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, _path, overwrite: true);
    }

    private string Line(SweepRow row) => Csv.Line([
        .. row.Point.Values.Select(v => v ?? ""),
        row.Series, row.Run.ToString(CultureInfo.InvariantCulture), row.Ok ? "true" : "false",
        row.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "", Math.Round(row.Seconds, 3).ToString("R", CultureInfo.InvariantCulture),
        Csv.OneLine(row.Error ?? ""),
        .. _figures.Select(f => row.Figures.TryGetValue(f, out var v) ? Csv.Number(v) : ""),
    ]);
}
