using Akka.Actor;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>A participant is ready; the reply <see cref="Go"/> comes when the barrier is released.</summary>
public sealed record Ready(string Name, int Pid) : IParticipantRequest
{
    string IParticipantRequest.Participant => Name;
}

public sealed record Go(long ReleasedAtUnixMs) : ISimMessage;

/// <summary>Answered with <see cref="AllReady"/> once <paramref name="Count"/> participants are ready.</summary>
public sealed record AwaitReady(int Count) : ISimMessage;

public sealed record AllReady(IReadOnlyList<string> Names) : ISimMessage;

/// <summary>Let everyone go at once; later arrivals go straight through.</summary>
public sealed record ReleaseBarrier : ISimMessage
{
    public static readonly ReleaseBarrier Instance = new();
}

public sealed record BarrierReleased(int Waiting) : ISimMessage;

/// <summary>
/// Where participant <paramref name="Name"/>'s node is (the address its Ready came from), for faults that act on the
/// network between it and the coordinator. Asked on the coordinator's own node only, so it has no wire format.
/// </summary>
public sealed record GetParticipantAddress(string Name) : INoSerializationVerificationNeeded;

/// <summary><paramref name="Address"/>: null if that participant never said it was ready.</summary>
public sealed record ParticipantAddress(string Name, Address? Address) : INoSerializationVerificationNeeded;

// ---- Actor ----------------------------------------------------------------------------------

/// <summary>
/// Holds every participant until all are ready, so the lesson's race starts for all at the same moment
/// instead of being decided by who finished booting first.
/// </summary>
public sealed class StartBarrier : FencingActor
{
    public const string Name = "start-barrier";

    private readonly Dictionary<string, IActorRef> _waiting = new(StringComparer.Ordinal);
    private readonly HashSet<string> _ready = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Address> _addresses = new(StringComparer.Ordinal);
    private readonly List<(int Count, IActorRef ReplyTo)> _watchers = new();
    private Go? _released;

    public static Props Props() => Akka.Actor.Props.Create(() => new StartBarrier());

    public StartBarrier()
    {
        Receive<Ready>(m =>
        {
            _ready.Add(m.Name);
            _addresses[m.Name] = Sender.Path.Address;
            if (_released is not null)
                Sender.Tell(_released);
            else
                _waiting[m.Name] = Sender;
            NotifyWatchers();
        });
        Receive<GetParticipantAddress>(m => Sender.Tell(new ParticipantAddress(m.Name, _addresses.GetValueOrDefault(m.Name))));
        Receive<AwaitReady>(m =>
        {
            _watchers.Add((m.Count, Sender));
            NotifyWatchers();
        });
        Receive<ReleaseBarrier>(_ =>
        {
            _released ??= new Go(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            foreach (var replyTo in _waiting.Values)
                replyTo.Tell(_released);
            Sender.Tell(new BarrierReleased(_waiting.Count));
            _waiting.Clear();
        });
    }

    private void NotifyWatchers()
    {
        for (var i = _watchers.Count - 1; i >= 0; i--)
        {
            if (_ready.Count < _watchers[i].Count)
                continue;
            _watchers[i].ReplyTo.Tell(new AllReady(_ready.Order(StringComparer.Ordinal).ToList()));
            _watchers.RemoveAt(i);
        }
    }
}
