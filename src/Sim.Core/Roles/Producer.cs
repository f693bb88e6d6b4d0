namespace Sim.Core.Roles;

/// <summary>
/// The lesson's producer: puts <c>count</c> items (ids <c>producer-index:0..count-1</c>, <c>item-bytes</c>
/// each) into the queue, <c>batch</c> per message, pipelined; in joinable mode it then waits on the queue's join, as
/// the lesson's producer calls <c>q.join()</c>.
/// </summary>
public sealed class Producer : IRole
{
    public string Name => "producer";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var settings = QueueRoleSettings.Read(info);
        var (batch, timeout) = (settings.Batch, settings.Timeout);
        var index = info.Int("producer-index", 1);
        var count = info.Int("count", 100);
        var size = info.Int("item-bytes", 64);

        var queue = await settings.OpenAsync(participant).ConfigureAwait(false);
        await participant.ReadyAsync(timeout, cancellationToken).ConfigureAwait(false);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        // Items are made as the queue client sends them: batch per message, a few messages on the wire at once.
        queue.PutBatch = batch;
        await queue.PutManyAsync(Enumerable.Range(0, count).Select(s => ProducedItem.Make(Ledger.ItemId(index, s), size)),
            timeout, cancellationToken).ConfigureAwait(false);
        var putMs = (long)clock.Elapsed.TotalMilliseconds;
        if (queue is SimJoinableQueue joinableQueue)
            await joinableQueue.JoinAsync(timeout).ConfigureAwait(false);
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["produced"] = count,
            ["put_ms"] = putMs,
            ["joined_ms"] = (long)clock.Elapsed.TotalMilliseconds,
        }).ConfigureAwait(false);
        return 0;
    }
}
