using Akka.Actor;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>
/// A consumer processed these item ids (answered with <see cref="ConsumedAck"/>). A consumer of a joinable queue sends its
/// records with its task_done instead (<see cref="QueueTaskDone.Ledger"/>): the queue records only what the consumer still
/// held, in the same step that marks it done.
/// </summary>
public sealed record Consumed(string Consumer, IReadOnlyList<long> Ids)
    : IParticipantRequest
{
    string IParticipantRequest.Participant => Consumer;
}

public sealed record ConsumedAck(int Count) : ISimMessage;

/// <summary>Compare what was consumed with what was produced: <paramref name="Produced"/> holds each producer's item count.</summary>
public sealed record CheckLedger(IReadOnlyList<long> Produced) : ISimMessage;

/// <summary>
/// The verdict on exactly-once: <paramref name="Missing"/> ids never consumed, <paramref name="Duplicates"/> ids consumed more
/// than once (with who consumed them in <paramref name="DuplicateConsumers"/>), per-consumer counts.
/// </summary>
public sealed record LedgerReport(
    long Consumed, long Distinct, long Missing, long Duplicates, long Unexpected,
    IReadOnlyDictionary<string, long> PerConsumer, IReadOnlyList<string> DuplicateConsumers, long LastRecordUnixMs) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

/// <summary>
/// Records which consumer processed which item, so the launcher can prove every item was consumed exactly
/// once, and explain a duplicate (an item redelivered after its first consumer died).
/// </summary>
public sealed class Ledger : FencingActor
{
    public const string Name = "ledger";

    /// <summary>An item id: the producer's number (1-based) in the high half, its sequence number in the low half.</summary>
    public static long ItemId(int producer, long sequence) => ((long)producer << 32) | sequence;

    public static Props Props() => Akka.Actor.Props.Create(() => new Ledger());

    public Ledger()
    {
        var seen = new Dictionary<long, string>();
        var duplicates = new Dictionary<long, List<string>>();
        var perConsumer = new Dictionary<string, long>(StringComparer.Ordinal);
        long consumed = 0, lastRecord = 0;
        Receive<Consumed>(m =>
        {
            foreach (var id in m.Ids)
            {
                if (seen.TryGetValue(id, out var first))
                {
                    if (!duplicates.TryGetValue(id, out var also))
                        duplicates[id] = also = [first];
                    also.Add(m.Consumer);
                }
                else
                    seen[id] = m.Consumer;
            }
            consumed += m.Ids.Count;
            perConsumer[m.Consumer] = perConsumer.GetValueOrDefault(m.Consumer) + m.Ids.Count;
            lastRecord = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            // A queue recording for its consumer waits for no answer.
            if (!Sender.IsNobody())
                Sender.Tell(new ConsumedAck(m.Ids.Count));
        });
        Receive<CheckLedger>(m =>
        {
            long missing = 0, expected = 0;
            for (var p = 0; p < m.Produced.Count; p++)
            {
                for (long s = 0; s < m.Produced[p]; s++)
                {
                    if (!seen.ContainsKey(ItemId(p + 1, s)))
                        missing++;
                }
                expected += m.Produced[p];
            }
            var unexpected = seen.Keys.LongCount(id => (int)(id >> 32) is var p && (p < 1 || p > m.Produced.Count || (id & 0xFFFFFFFF) >= m.Produced[p - 1]));
            var duplicateConsumers = duplicates.Values.SelectMany(c => c).Distinct().Order(StringComparer.Ordinal).ToList();
            Sender.Tell(new LedgerReport(consumed, seen.Count, missing, duplicates.Count, unexpected, perConsumer.ToDictionary(),
                duplicateConsumers, lastRecord));
        });
    }
}
