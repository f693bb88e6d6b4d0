using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text;

namespace Sim.Node;

/// <summary>
/// Where a participant's start-up goes, phase by phase (issue 17): with <c>SIM_NODE_PHASES=FILE</c> set, each node
/// appends one line to FILE when it has reached the coordinator: for each phase its end (ms since exec), the CPU the
/// process used by then, and the methods the JIT compiled by then (count and ms). A second line, with the phase
/// <c>done</c> added, follows when its role has returned: what the work itself cost the node. Off by default, and then
/// free.
/// </summary>
public static class StartupTrace
{
    public const string Variable = "SIM_NODE_PHASES";

    private static readonly string? Target = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? path : null;
    private static readonly List<string> Marks = new();
    // The exec moment on the monotonic clock: /proc/self/stat's start time (clock ticks since boot), measured
    // against /proc/uptime once (both since boot, 10 ms resolution), then the Stopwatch from there.
    private static long _execTimestamp;

    public static bool Enabled => Target is not null;

    public static void Mark(string phase)
    {
        if (Target is null)
            return;
        if (Marks.Count == 0)
            _execTimestamp = ExecTimestamp();
        var wall = Stopwatch.GetElapsedTime(_execTimestamp).TotalMilliseconds;
        var cpu = Environment.CpuUsage.TotalTime.TotalMilliseconds;
        Marks.Add(string.Create(CultureInfo.InvariantCulture,
            $"\"{phase}\":{{\"wall_ms\":{wall:0},\"cpu_ms\":{cpu:0},\"jit_methods\":{JitInfo.GetCompiledMethodCount()},\"jit_ms\":{JitInfo.GetCompilationTime().TotalMilliseconds:0},\"assemblies\":{AppDomain.CurrentDomain.GetAssemblies().Length}}}"));
    }

    /// <summary>Appends this node's line (one write, so lines of nodes writing at once do not interleave).</summary>
    public static void Write(string name)
    {
        if (Target is null)
            return;
        var line = $"{{\"name\":\"{name}\",\"pid\":{Environment.ProcessId},{string.Join(',', Marks)}}}\n";
        try
        {
            using var file = new FileStream(Target, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            file.Write(Encoding.UTF8.GetBytes(line));
        }
        catch (IOException)
        {
            // A diagnostic: never the node's failure.
        }
    }

    private static long ExecTimestamp()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var startTicks = long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19], CultureInfo.InvariantCulture);
            var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
            var sinceExec = TimeSpan.FromSeconds(uptime - startTicks / 100.0);
            return Stopwatch.GetTimestamp() - (long)(sinceExec.TotalSeconds * Stopwatch.Frequency);
        }
        catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException)
        {
            return Stopwatch.GetTimestamp();
        }
    }
}
