using System.Buffers.Binary;

namespace Sim.Core.Roles;

/// <summary>
/// The measuring end of the pipe scenario (<c>pipe-a</c>): ping-pong on the duplex pipe "ping" for round-trip
/// latency, then streams <c>messages</c> numbered messages of <c>size</c> bytes on pipe "stream" (one-way throughput:
/// until the other end says it read them all), then reads
/// "ping" until end-of-file, counting the burst the other end sent just before it was killed. With <c>warmup</c>,
/// that many untimed round trips come before the timed ones, and as many stream messages before the timed stream
/// (the other end says when it has read them): with tiered compilation (the launcher turns it on for such runs) the
/// hot path gets its best code only after it has run a while.
/// </summary>
public sealed class PipeSender : IRole
{
    public string Name => "pipe-sender";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var messages = info.Int("messages", 1000);
        var size = Math.Max(8, info.Int("size", 64));
        var duplex = info.Bool("duplex", false);
        var warmup = Math.Max(0, info.Int("warmup", 0));
        var timeout = TimeSpan.FromMilliseconds(info.Int("timeout-ms", 120_000));

        var ping = await participant.PipeAsync("ping", 0, duplex: true, timeout).ConfigureAwait(false);
        // One-way: end 1 sends. Duplex: either end may; the sender takes end 0.
        var stream = await participant.PipeAsync("stream", duplex ? 0 : 1, duplex, timeout).ConfigureAwait(false);
        await participant.ReadyAsync(timeout, cancellationToken).ConfigureAwait(false);

        var rtts = new List<double>(messages);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = -warmup; i < messages; i++)
        {
            var started = clock.Elapsed;
            await ping.SendAsync(PipeMessages.Numbered(i, size), timeout).ConfigureAwait(false);
            var echo = await ping.RecvAsync(timeout).ConfigureAwait(false);
            if (PipeMessages.Number(echo) != i)
                throw new InvalidOperationException($"echo {PipeMessages.Number(echo)} came back for message {i}");
            if (i >= 0)
                rtts.Add((clock.Elapsed - started).TotalMicroseconds);
        }
        if (warmup > 0)
        {
            for (var i = 0; i < warmup; i++)
                await stream.SendAsync(PipeMessages.Numbered(i, size), timeout).ConfigureAwait(false);
            var warmed = PipeMessages.Number(await ping.RecvAsync(timeout).ConfigureAwait(false));
            if (warmed != PipeMessages.ReadWarmup)
                throw new InvalidOperationException($"message {warmed} came where the end of the warm-up stream was due");
        }
        // One-way throughput as Python's reference measures it: from the first message sent until the other end
        // says it has read them all (one hop back included), not the reader's pace through what already arrived.
        var oneWay = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < messages; i++)
            await stream.SendAsync(PipeMessages.Numbered(i, size), timeout).ConfigureAwait(false);
        var readAll = PipeMessages.Number(await ping.RecvAsync(timeout).ConfigureAwait(false));
        if (readAll != PipeMessages.ReadAll)
            throw new InvalidOperationException($"message {readAll} came where the end of the stream was due");
        var oneWaySeconds = Math.Max(oneWay.Elapsed.TotalSeconds, 1e-6);

        // The other end sends its burst, and the launcher kills it: recv must yield every message that left
        // that process, in order, and then raise EOFError, not hang.
        long eof = 0, burstReceived = 0, burstOutOfOrder = 0;
        var eofWait = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (true)
            {
                if (PipeMessages.Number(await ping.RecvAsync(timeout).ConfigureAwait(false)) != burstReceived)
                    burstOutOfOrder++;
                burstReceived++;
            }
        }
        catch (PipeEofException)
        {
            eof = 1;
        }
        rtts.Sort();
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["rtt_median_us"] = (long)Percentile(rtts, 0.5),
            ["rtt_p99_us"] = (long)Percentile(rtts, 0.99),
            ["messages_per_s"] = (long)(messages / oneWaySeconds),
            ["eof"] = eof,
            ["burst_received"] = burstReceived,
            ["burst_out_of_order"] = burstOutOfOrder,
            ["eof_wait_ms"] = (long)eofWait.Elapsed.TotalMilliseconds,
            ["eof_at_ms"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        }).ConfigureAwait(false);
        return eof == 1 ? 0 : 1;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

/// <summary>
/// The other end (<c>pipe-b</c>): echoes every ping, receives the stream checking that every message arrives
/// once and in order, says so on "ping", sends a burst of <c>burst</c> numbered messages back on "ping", reports
/// what it received, then waits until it is ended.
/// </summary>
public sealed class PipeReceiver : IRole
{
    public string Name => "pipe-receiver";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var messages = info.Int("messages", 1000);
        var size = Math.Max(8, info.Int("size", 64));
        var burst = info.Int("burst", 0);
        var duplex = info.Bool("duplex", false);
        var warmup = Math.Max(0, info.Int("warmup", 0));
        var timeout = TimeSpan.FromMilliseconds(info.Int("timeout-ms", 120_000));

        var ping = await participant.PipeAsync("ping", 1, duplex: true, timeout).ConfigureAwait(false);
        var stream = await participant.PipeAsync("stream", duplex ? 1 : 0, duplex, timeout).ConfigureAwait(false);
        await participant.ReadyAsync(timeout, cancellationToken).ConfigureAwait(false);

        for (var i = 0; i < warmup + messages; i++)
            await ping.SendAsync(await ping.RecvAsync(timeout).ConfigureAwait(false), timeout).ConfigureAwait(false);

        long outOfOrder = 0, bytes = 0;
        if (warmup > 0)
        {
            for (var i = 0; i < warmup; i++)
            {
                if (PipeMessages.Number(await stream.RecvAsync(timeout).ConfigureAwait(false)) != i)
                    outOfOrder++;
            }
            await ping.SendAsync(PipeMessages.Numbered(PipeMessages.ReadWarmup, 8), timeout).ConfigureAwait(false);
        }
        for (var i = 0; i < messages; i++)
        {
            var message = await stream.RecvAsync(timeout).ConfigureAwait(false);
            if (PipeMessages.Number(message) != i)
                outOfOrder++;
            bytes += message.Payload.Length;
        }
        await ping.SendAsync(PipeMessages.Numbered(PipeMessages.ReadAll, 8), timeout).ConfigureAwait(false);
        // The last words before this process is killed: the other end must read them all before end-of-file.
        for (var i = 0; i < burst; i++)
            await ping.SendAsync(PipeMessages.Numbered(i, Math.Min(size, 64)), timeout).ConfigureAwait(false);
        // Sent is not yet out of this process (the transport's queues): the report below, after which the launcher
        // kills this process, goes another way and could overtake them.
        await ping.DrainAsync(timeout, cancellationToken).ConfigureAwait(false);
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["received"] = messages,
            ["out_of_order"] = outOfOrder,
            ["bytes"] = bytes,
            ["burst_sent"] = burst,
        }).ConfigureAwait(false);
        // Stay until ended: the other end's recv must see end-of-file when this process is gone.
        await Task.Delay(timeout, cancellationToken).ConfigureAwait(false);
        return 0;
    }
}

internal static class PipeMessages
{
    /// <summary>The reader's word that it has read the whole stream (on "ping", before any burst).</summary>
    public const int ReadAll = -1;

    /// <summary>The reader's word that it has read the warm-up stream.</summary>
    public const int ReadWarmup = -2;

    public static QueueItem Numbered(int number, int size)
    {
        var bytes = new byte[size];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, number);
        return QueueItem.Bytes(bytes);
    }

    public static int Number(QueueItem item) => BinaryPrimitives.ReadInt32LittleEndian(item.Payload);
}
