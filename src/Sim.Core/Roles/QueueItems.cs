using System.Buffers.Binary;

namespace Sim.Core.Roles;

/// <summary>
/// The items producers make and consumers check: the item id (8 bytes), filler derived from the id, and a
/// 4-byte FNV-1a checksum of the rest, so a consumer detects a corrupted or mixed-up item.
/// </summary>
public static class ProducedItem
{
    public const int MinBytes = 12;

    public static QueueItem Make(long id, int size)
    {
        var bytes = new byte[Math.Max(size, MinBytes)];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, id);
        for (var i = 8; i < bytes.Length - 4; i++)
            bytes[i] = (byte)(id + i);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Fnv1a(bytes.AsSpan(0, bytes.Length - 4)));
        return QueueItem.Bytes(bytes);
    }

    /// <summary>The item's id, or null when its checksum does not match.</summary>
    public static long? Check(QueueItem item)
    {
        var bytes = item.Payload;
        if (item.Kind != QueueItemKind.Bytes || bytes.Length < MinBytes)
            return null;
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4));
        return Fnv1a(bytes.AsSpan(0, bytes.Length - 4)) == expected ? BinaryPrimitives.ReadInt64LittleEndian(bytes) : null;
    }

    private static uint Fnv1a(ReadOnlySpan<byte> data)
    {
        var hash = 2166136261u;
        foreach (var b in data)
            hash = (hash ^ b) * 16777619u;
        return hash;
    }
}

/// <summary>What producers and consumers share: which queue, which mode, how big, how many per message.</summary>
public sealed record QueueRoleSettings(string Queue, bool Joinable, int MaxSize, int Batch, TimeSpan Timeout)
{
    public static QueueRoleSettings Read(ParticipantInfo info) => new(
        info.Text("queue", "q"),
        info.Text("mode", "sentinel") == "joinable",
        info.Int("maxsize", 0),
        Math.Max(1, info.Int("batch", 5000)),
        TimeSpan.FromMilliseconds(info.Int("timeout-ms", 120_000)));

    /// <summary>The queue as this participant's client: a <see cref="SimJoinableQueue"/> in joinable mode.</summary>
    public async Task<SimQueue> OpenAsync(Participant participant) => Joinable
        ? await participant.JoinableQueueAsync(Queue, MaxSize).ConfigureAwait(false)
        : await participant.QueueAsync(Queue, MaxSize).ConfigureAwait(false);
}
