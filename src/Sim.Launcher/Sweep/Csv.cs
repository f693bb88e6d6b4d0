using System.Text;

namespace Sim.Launcher.Sweep;

/// <summary>The CSV of a sweep's files: comma-separated, a field quoted when it holds a comma or a quote; no field holds a line break.</summary>
public static class Csv
{
    public static string Line(IEnumerable<string> fields) =>
        string.Join(",", fields.Select(f => f.Contains(',') || f.Contains('"') ? $"\"{f.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : f));

    public static List<string> Parse(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"')
                    field.Append(line[++i]);
                else if (c == '"')
                    quoted = false;
                else
                    field.Append(c);
            }
            else if (c == '"')
                quoted = true;
            else if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else
                field.Append(c);
        }
        fields.Add(field.ToString());
        return fields;
    }

    /// <summary>A figure: 12 significant digits, enough for any measurement and without a median's binary noise (0.7232000000000001).</summary>
    public static string Number(double value) => value.ToString("G12", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One line whatever the text held.</summary>
    public static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
