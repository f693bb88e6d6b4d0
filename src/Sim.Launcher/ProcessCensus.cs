namespace Sim.Launcher;

/// <summary>
/// What /proc says is left of a run: zombies (children of ours that ended and were not reaped) and orphans
/// (processes still alive in a participant's process group after the participant is gone). Both must be 0.
/// </summary>
public sealed record ProcessCensus(IReadOnlyList<int> Zombies, IReadOnlyList<int> Orphans)
{
    public static ProcessCensus Take(IEnumerable<int> participantGroups)
    {
        var self = Environment.ProcessId;
        var groups = participantGroups.ToHashSet();
        var zombies = new List<int>();
        var orphans = new List<int>();
        if (!Directory.Exists("/proc"))
            return new ProcessCensus(zombies, orphans);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || ProcStat.Read(pid) is not { } stat)
                continue;
            if (stat.Parent == self && stat.State == 'Z')
                zombies.Add(pid);
            else if (groups.Contains(stat.ProcessGroup) && stat.State is not ('Z' or 'X'))
                orphans.Add(pid);
        }
        return new ProcessCensus(zombies, orphans);
    }
}

/// <summary>The fields of /proc/PID/stat that Sim uses; the start time (clock ticks since boot) tells a process from a
/// later one that got the same pid; the CPU time is utime + stime, all its threads, in clock ticks (USER_HZ, 100 a second).</summary>
public sealed record ProcStat(char State, int Parent, int ProcessGroup, long StartTime, long CpuTicks)
{
    public static ProcStat? Read(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name may hold spaces and parentheses: the fields start after the last ')'.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            // Fields 3 (state), 4, 5, 14 and 15 (utime, stime), 22 (start time) of proc(5).
            return new ProcStat(fields[0][0], int.Parse(fields[1]), int.Parse(fields[2]), long.Parse(fields[19]),
                long.Parse(fields[11]) + long.Parse(fields[12]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
