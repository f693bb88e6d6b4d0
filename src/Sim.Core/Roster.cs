using Akka.Actor;

namespace Sim.Core;

/// <summary>Acknowledges a <see cref="ParticipantExited"/> sent to the <see cref="Roster"/>.</summary>
public sealed record ExitNoted(string Name) : ISimMessage;

/// <summary>
/// The coordinator's door for news of participants leaving: a node that is terminated says so itself
/// before it ends, the launcher reports every exit it sees. Either way, every primitive hears it on the
/// event stream at once, instead of waiting ~12 s for remote failure detection.
/// </summary>
public sealed class Roster : ReceiveActor
{
    public const string Name = "roster";

    public static Props Props() => Akka.Actor.Props.Create(() => new Roster());

    public Roster()
    {
        Receive<ParticipantExited>(m =>
        {
            Context.System.EventStream.Publish(m);
            Sender.Tell(new ExitNoted(m.Name));
        });
    }
}
