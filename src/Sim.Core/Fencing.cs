using Akka.Actor;

namespace Sim.Core;

/// <summary>
/// A request a participant makes of the coordinator, naming who makes it. Once that participant has left the run
/// (said goodbye, or its process was seen to end), every coordinator actor refuses its requests: a terminated
/// role that is still running for a moment must not write after its locks and deliveries were handed on.
/// </summary>
public interface IParticipantRequest : ISimMessage
{
    string Participant { get; }
}

/// <summary>The answer to any request from a participant that has left the run.</summary>
public sealed record ParticipantFenced(string Participant, string Reason) : ISimMessage;

/// <summary>The coordinator refused a request because this participant has already left the run.</summary>
public sealed class ParticipantFencedException(string message) : InvalidOperationException(message);

/// <summary>
/// Base of the coordinator's actors: hears of every participant that leaves (<see cref="ParticipantExited"/> on
/// the event stream), remembers it, and answers its later requests with <see cref="ParticipantFenced"/> before they
/// reach the actor's own handlers. The event reaches every primitive in one publish, before anything that the
/// primitives hand on because of it (a lock grant, a redelivery) can come back as a new request.
/// </summary>
public abstract class FencingActor : ReceiveActor
{
    // Names only: small, and a name that left must stay refused for the life of the run.
    private readonly Dictionary<string, string> _gone = new(StringComparer.Ordinal);
    // Participants' sessions this actor watches, each once until its participant leaves (no Watch and Unwatch per request).
    private readonly Dictionary<IActorRef, string> _sessions = new();

    protected FencingActor()
    {
        Receive<ParticipantExited>(m =>
        {
            _gone.TryAdd(m.Name, m.ExitCode is { } code ? $"it left the run with exit code {code}" : "it left the run");
            foreach (var session in _sessions.Where(s => s.Value == m.Name).Select(s => s.Key).ToList())
            {
                _sessions.Remove(session);
                Context.Unwatch(session);
            }
            OnParticipantExited(m);
        });
        // Remote DeathWatch, the slow backstop: every primitive hears of it (and fences the participant) on the event
        // stream, exactly as of an exit the launcher reported.
        Receive<Terminated>(m =>
        {
            if (_sessions.Remove(m.ActorRef, out var participant))
                Context.System.EventStream.Publish(new ParticipantExited(participant, null));
        });
    }

    /// <summary>Watches <paramref name="session"/> (once) so that the death of <paramref name="participant"/>'s node is heard.</summary>
    protected void WatchSession(IActorRef session, string participant)
    {
        if (!session.IsNobody() && _sessions.TryAdd(session, participant))
            Context.Watch(session);
    }

    /// <summary>What the actor hands on when <paramref name="exited"/> has left (its locks, its deliveries).</summary>
    protected virtual void OnParticipantExited(ParticipantExited exited)
    {
    }

    protected bool HasLeft(string participant) => _gone.ContainsKey(participant);

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is IParticipantRequest request && _gone.TryGetValue(request.Participant, out var why))
        {
            Sender.Tell(new ParticipantFenced(request.Participant, $"requests of {request.Participant} are refused: {why}"));
            return true;
        }
        return base.AroundReceive(receive, message);
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(ParticipantExited));

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
