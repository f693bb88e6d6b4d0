using Akka.Actor;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>
/// What one participant reports at the end of its role: named integer figures (e.g. searched=3,
/// bought=1, token=7). Acknowledged with <see cref="ResultRecorded"/>, so a participant exits only
/// after its report is safe.
/// </summary>
public sealed record ParticipantResult(string Name, string Role, int Pid, IReadOnlyDictionary<string, long> Figures) : IParticipantRequest
{
    string IParticipantRequest.Participant => Name;
}

public sealed record ResultRecorded(string Name) : ISimMessage;

public sealed record GetResults : ISimMessage
{
    public static readonly GetResults Instance = new();
}

public sealed record Results(IReadOnlyList<ParticipantResult> All) : ISimMessage;

/// <summary>Answered with <see cref="Results"/> once <paramref name="Count"/> participants have reported.</summary>
public sealed record AwaitResults(int Count) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

/// <summary>Collects every participant's report for the launcher's table and JSON.</summary>
public sealed class ResultCollector : FencingActor
{
    public const string Name = "results";

    private readonly Dictionary<string, ParticipantResult> _results = new(StringComparer.Ordinal);
    private readonly List<(int Count, IActorRef ReplyTo)> _waiting = new();

    public static Props Props() => Akka.Actor.Props.Create(() => new ResultCollector());

    public ResultCollector()
    {
        Receive<ParticipantResult>(m =>
        {
            // A participant reports once; a retry after a lost ack must not count twice.
            _results[m.Name] = m;
            Sender.Tell(new ResultRecorded(m.Name));
            NotifyWaiting();
        });
        Receive<GetResults>(_ => Sender.Tell(Snapshot()));
        Receive<AwaitResults>(m =>
        {
            _waiting.Add((m.Count, Sender));
            NotifyWaiting();
        });
    }

    private Results Snapshot() => new(_results.Values.OrderBy(r => r.Name, StringComparer.Ordinal).ToList());

    private void NotifyWaiting()
    {
        for (var i = _waiting.Count - 1; i >= 0; i--)
        {
            if (_results.Count < _waiting[i].Count)
                continue;
            _waiting[i].ReplyTo.Tell(Snapshot());
            _waiting.RemoveAt(i);
        }
    }
}
