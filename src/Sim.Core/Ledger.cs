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

/// <summary>
/// What a joinable queue marked done for <paramref name="Consumer"/> and records on its behalf (never from the wire: no
/// codec). The queue accepted it before it heard the consumer had left, so the ledger takes it even if it heard of the
/// leaving first: the two hear of it in one publish, but the queue's record comes after, and a fenced
/// <see cref="Consumed"/> here would leave an item done and recorded by nobody (seen once in CI: "missing 1").
/// </summary>
internal sealed record ConsumedViaQueue(string Consumer, IReadOnlyList<long> Ids) : INoSerializationVerificationNeeded;

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
        void Record(string consumer, IReadOnlyList<long> ids)
        {
            foreach (var id in ids)
            {
                if (seen.TryGetValue(id, out var first))
                {
                    if (!duplicates.TryGetValue(id, out var also))
                        duplicates[id] = also = [first];
                    also.Add(consumer);
                }
                else
                    seen[id] = consumer;
            }
            consumed += ids.Count;
            perConsumer[consumer] = perConsumer.GetValueOrDefault(consumer) + ids.Count;
            lastRecord = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        }

        Receive<Consumed>(m =>
        {
            Record(m.Consumer, m.Ids);
            Sender.Tell(new ConsumedAck(m.Ids.Count));
        });
        // A queue recording for its consumer waits for no answer.
        Receive<ConsumedViaQueue>(m => Record(m.Consumer, m.Ids));
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
