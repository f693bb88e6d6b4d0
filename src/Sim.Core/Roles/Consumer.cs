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

        long consumed = 0, corrupt = 0, lost = 0;
        var sawSentinel = false;
        // Records (with their task_done) go out while the next batch is worked on; at most two unanswered.
        var recording = new Queue<Task>();
        async Task DoneAsync(Task<QueueTaskDoneAck> done)
        {
            // Items whose lease ran out while this consumer held them (it was paused or cut off) went to another: not ours.
            var lostHere = (await done.ConfigureAwait(false)).Lost.Count;
            Interlocked.Add(ref lost, lostHere);
            Interlocked.Add(ref consumed, -lostHere);
        }
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
            // Per item, its id or -1 (the sentinel, a corrupt item): what the joinable queue records with each task_done.
            var record = new List<long>(items.Count);
            foreach (var item in items)
            {
                if (sawSentinel || item.IsNone)
                {
                    sawSentinel = true;
                    record.Add(-1);
                    continue;
                }
                var id = ProducedItem.Check(item);
                if (id is { } valid)
                    ids.Add(valid);
                else
                    corrupt++;
                record.Add(id ?? -1);
                if (work > TimeSpan.Zero)
                    await Sleep.ForAsync(work, cancellationToken).ConfigureAwait(false);
            }
            Interlocked.Add(ref consumed, ids.Count);
            while (recording.Count >= 2)
                await recording.Dequeue().ConfigureAwait(false);
            // Recorded and done in one step at the queue: a crash before it is a redelivery, never a loss.
            if (queue is SimJoinableQueue joinableQueue && items.Count > 0)
                recording.Enqueue(DoneAsync(participant.RecordConsumedAndTaskDoneAsync(record, joinableQueue)));
            else if (ids.Count > 0)
                recording.Enqueue(participant.RecordConsumedAsync(ids));
        }
        while (recording.Count > 0)
            await recording.Dequeue().ConfigureAwait(false);
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["consumed"] = consumed,
            ["corrupt"] = corrupt,
            ["lost"] = lost,
        }).ConfigureAwait(false);
        return 0;
    }
}
