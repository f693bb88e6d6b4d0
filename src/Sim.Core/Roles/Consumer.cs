namespace Sim.Core.Roles;

/// <summary>
/// The lesson's consumer: takes items until it gets the sentinel <c>None</c> (sentinel mode) or forever
/// (joinable mode, where it is a daemon ended with its launcher), works <c>work-ms</c> per item, records what
/// it processed in the ledger, then marks the items done (joinable).
/// </summary>
public sealed class Consumer : IRole
{
    public string Name => "consumer";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var settings = QueueRoleSettings.Read(info);
        var (joinable, batch, timeout) = (settings.Joinable, settings.Batch, settings.Timeout);
        var work = TimeSpan.FromMilliseconds(info.Int("work-ms", 0));

        var queue = await settings.OpenAsync(participant).ConfigureAwait(false);
        // With slow consumers, prefetching would starve the others: take one at a time then.
        queue.Prefetch = work > TimeSpan.Zero ? 1 : batch;
        await participant.ReadyAsync(timeout, cancellationToken).ConfigureAwait(false);

        long consumed = 0, corrupt = 0;
        var sawSentinel = false;
        // Records (with their task_done) go out while the next batch is worked on; at most two unanswered.
        var recording = new Queue<Task>();
        while (!sawSentinel)
        {
            IReadOnlyList<QueueItem> items;
            try
            {
                items = await queue.GetManyAsync(queue.Prefetch, timeout).ConfigureAwait(false);
            }
            catch (QueueClosedException)
            {
                break;
            }
            catch (QueueEmptyException) when (joinable)
            {
                // A daemon consumer waits for work for as long as it lives.
                continue;
            }
            var ids = new List<long>(items.Count);
            foreach (var item in items)
            {
                if (item.IsNone)
                {
                    sawSentinel = true;
                    break;
                }
                if (ProducedItem.Check(item) is { } id)
                    ids.Add(id);
                else
                    corrupt++;
                if (work > TimeSpan.Zero)
                    await Task.Delay(work, cancellationToken).ConfigureAwait(false);
            }
            consumed += ids.Count;
            while (recording.Count >= 2)
                await recording.Dequeue().ConfigureAwait(false);
            // Recorded first, then done, in one message: a crash in between is a redelivery, never a loss.
            if (queue is SimJoinableQueue joinableQueue && items.Count > 0)
                recording.Enqueue(participant.RecordConsumedAndTaskDoneAsync(ids, joinableQueue, items.Count));
            else if (ids.Count > 0)
                recording.Enqueue(participant.RecordConsumedAsync(ids));
        }
        while (recording.Count > 0)
            await recording.Dequeue().ConfigureAwait(false);
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["consumed"] = consumed,
            ["corrupt"] = corrupt,
        }).ConfigureAwait(false);
        return 0;
    }
}
