using Sim.Core.History;

namespace Sim.Report.Checkers;

/// <summary>
/// A read-then-write that another write overtook: <see cref="Writer"/> read <see cref="Read"/> (its value), others wrote
/// in between (<see cref="Overwritten"/>), then it wrote <see cref="Write"/>, over their writes.
/// </summary>
public sealed record LostUpdate(string Writer, HistoryEvent Read, HistoryEvent Write, IReadOnlyList<HistoryEvent> Overwritten)
{
    /// <summary>The read each overwritten write was based on, where its writer read first.</summary>
    public IReadOnlyDictionary<HistoryEvent, HistoryEvent> ReadsOfOverwritten { get; init; } = new Dictionary<HistoryEvent, HistoryEvent>();
}

/// <summary>
/// The race of the lesson, found in the coordinator's order of one register's reads and writes: a process's write that
/// is not based on the latest write (someone else wrote after this process read) loses that other update.
/// </summary>
public static class LostUpdates
{
    /// <summary>Every lost update among <paramref name="ordered"/> (one register's records, in the coordinator's order).</summary>
    public static IReadOnlyList<LostUpdate> Find(IEnumerable<HistoryEvent> ordered)
    {
        var lastRead = new Dictionary<string, HistoryEvent>(StringComparer.Ordinal);
        var writes = new List<HistoryEvent>();
        var basedOn = new Dictionary<HistoryEvent, HistoryEvent>();
        var found = new List<LostUpdate>();
        foreach (var e in ordered)
        {
            if (e.Type != HistoryType.Ok)
                continue;
            if (e.F == "read")
                lastRead[e.Process] = e;
            else if (e.F == "write")
            {
                if (lastRead.Remove(e.Process, out var read))
                {
                    basedOn[e] = read;
                    var between = writes.Where(w => w.Seq > read.Seq).ToList();
                    if (between.Count > 0)
                    {
                        found.Add(new LostUpdate(e.Process, read, e, between)
                        {
                            ReadsOfOverwritten = between.Where(basedOn.ContainsKey).ToDictionary(w => w, w => basedOn[w]),
                        });
                    }
                }
                writes.Add(e);
            }
            else if (e.F == "add")
                writes.Add(e);
        }
        return found;
    }

    /// <summary>
    /// The lost updates in words, grouped by what was read and written: "buyer-3 and buyer-7 both read 2 and wrote 1". Each
    /// group names the writers whose read of that value was followed by a write of that value, where one overwrote another.
    /// </summary>
    public static IReadOnlyList<(string Text, IReadOnlyList<HistoryEvent> Events)> Describe(IReadOnlyList<LostUpdate> lost)
    {
        var groups = new List<(string, IReadOnlyList<HistoryEvent>)>();
        foreach (var group in lost.GroupBy(l => (Read: l.Read.Values.FirstOrDefault(), Wrote: l.Write.Values.FirstOrDefault())))
        {
            var (read, wrote) = group.Key;
            var events = new List<HistoryEvent>();
            var writers = new List<string>();
            void Add(string writer, IEnumerable<HistoryEvent> more)
            {
                if (!writers.Contains(writer))
                    writers.Add(writer);
                events.AddRange(more);
            }
            foreach (var l in group)
            {
                // The overwritten writers that read the same value and wrote the same are part of the same race.
                foreach (var other in l.Overwritten.Where(o => o.Values.FirstOrDefault() == wrote))
                {
                    if (l.ReadsOfOverwritten.TryGetValue(other, out var theirRead) && theirRead.Values.FirstOrDefault() == read)
                        Add(other.Process, [theirRead, other]);
                }
                Add(l.Writer, [l.Read, l.Write]);
            }
            var ordered = writers.OrderBy(w => events.Where(e => e.Process == w).Min(e => e.Seq)).ToList();
            var text = ordered.Count >= 2
                ? $"{Evidence.Names(ordered)} {(ordered.Count == 2 ? "both" : "all")} read {read} and wrote {wrote}"
                : $"{ordered[0]} read {read} and wrote {wrote} over {Evidence.Names(group.SelectMany(l => l.Overwritten).Select(o => $"{o.Process}'s write of {o.Values.FirstOrDefault()}").Distinct().ToList())}";
            groups.Add((text, events));
        }
        return groups;
    }
}
