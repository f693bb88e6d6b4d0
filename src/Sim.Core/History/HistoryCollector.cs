using Akka.Actor;

namespace Sim.Core.History;

/// <summary>
/// A participant's recorded events, sent in one message (<see cref="HistoryRecorder"/>). <paramref name="Ack"/>: the
/// last batch before the participant reports, answered with <see cref="HistoryBatchTaken"/> so that its history is
/// complete on the coordinator before its report is.
/// </summary>
public sealed record HistoryBatch(string Process, IReadOnlyList<HistoryEvent> Events, bool Ack) : ISimMessage;

public sealed record HistoryBatchTaken(int Count) : ISimMessage;

/// <summary>
/// Takes the participants' batches into the coordinator's <see cref="HistoryLog"/>. A batch speaks for one process:
/// events in it that name another are dropped. When the log is off the batches are dropped (and still answered).
/// </summary>
public sealed class HistoryCollector : ReceiveActor
{
    public const string Name = "history";

    public static Props Props() => Akka.Actor.Props.Create(() => new HistoryCollector());

    public HistoryCollector()
    {
        var log = HistoryLog.Of(Context.System);
        Receive<HistoryBatch>(m =>
        {
            log.AddRange(m.Events.Where(e => e.Process == m.Process && e.Site == HistorySite.Process));
            if (m.Ack)
                Sender.Tell(new HistoryBatchTaken(m.Events.Count));
        });
    }
}
