using Akka.Actor;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>Python's <c>Event.set()</c> (<paramref name="Set"/> true: wakes every waiter) or <c>clear()</c> (false).</summary>
public sealed record EventChange(string Event, bool Set, string Participant) : IParticipantRequest;

/// <summary>Python's <c>Event.wait(timeout)</c>: answered with <see cref="EventWaited"/> once the flag is set or the timeout passed.</summary>
public sealed record EventWait(string Event, long RequestId, string Participant, IActorRef Owner, TimeSpan Timeout) : IParticipantRequest;

/// <summary><paramref name="IsSet"/>: true if the flag was set before the timeout (Python's return value of wait).</summary>
public sealed record EventWaited(string Event, long RequestId, bool IsSet) : ISimMessage;

public sealed record GetEventState(string Event) : ISimMessage;

/// <summary>The event's flag and how many wait for it; the answer to a change too (<paramref name="Woken"/>: waiters a set woke).</summary>
public sealed record EventState(string Event, bool IsSet, int Waiting, int Woken = 0) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

public sealed partial class LockManager
{
    private sealed record EventDeadline(string Event, string Participant, long RequestId) : INoSerializationVerificationNeeded;

    private sealed class EventWaiter(EventWait request, IActorRef replyTo, ICancelable timer)
    {
        public EventWait Request { get; } = request;
        public IActorRef ReplyTo { get; } = replyTo;
        public ICancelable Timer { get; } = timer;
    }

    private sealed class NamedEvent
    {
        public bool IsSet { get; set; }
        public LinkedList<EventWaiter> Waiters { get; } = new();
    }

    private readonly Dictionary<string, NamedEvent> _events = new(StringComparer.Ordinal);

    private void ReceiveEvents()
    {
        Receive<EventChange>(m =>
        {
            if (BadName(m.Event) is { } bad)
            {
                Sender.Tell(new AcquireRefused(m.Event, 0, bad));
                return;
            }
            var named = EventOf(m.Event);
            named.IsSet = m.Set;
            var woken = 0;
            if (m.Set)
            {
                // Every waiter at once, with true: set then clear at once still wakes them all (Python's wait returns True).
                foreach (var waiter in named.Waiters)
                {
                    waiter.Timer.Cancel();
                    waiter.ReplyTo.Tell(new EventWaited(m.Event, waiter.Request.RequestId, true));
                    woken++;
                }
                named.Waiters.Clear();
            }
            Sender.Tell(new EventState(m.Event, named.IsSet, named.Waiters.Count, woken));
        });
        Receive<EventWait>(m =>
        {
            if ((BadName(m.Event) ?? BadTimeout(m.Timeout)) is { } bad)
            {
                Sender.Tell(new AcquireRefused(m.Event, m.RequestId, bad));
                return;
            }
            var named = EventOf(m.Event);
            if (named.IsSet || m.Timeout == TimeSpan.Zero)
            {
                Sender.Tell(new EventWaited(m.Event, m.RequestId, named.IsSet));
                return;
            }
            var timer = Context.System.Scheduler.ScheduleTellOnceCancelable(m.Timeout, Self, new EventDeadline(m.Event, m.Participant, m.RequestId), Self);
            named.Waiters.AddLast(new EventWaiter(m, Sender, timer));
            WatchSession(m.Owner, m.Participant);
        });
        Receive<EventDeadline>(m =>
        {
            if (_events.TryGetValue(m.Event, out var named)
                && named.Waiters.FirstOrDefault(w => w.Request.Participant == m.Participant && w.Request.RequestId == m.RequestId) is { } waiter)
            {
                named.Waiters.Remove(waiter);
                waiter.ReplyTo.Tell(new EventWaited(m.Event, m.RequestId, named.IsSet));
            }
        });
        Receive<GetEventState>(m =>
            Sender.Tell(_events.TryGetValue(m.Event, out var named) ? new EventState(m.Event, named.IsSet, named.Waiters.Count) : new EventState(m.Event, false, 0)));
    }

    private NamedEvent EventOf(string name)
    {
        if (!_events.TryGetValue(name, out var named))
            _events[name] = named = new NamedEvent();
        return named;
    }

    private void EventsForget(string participant)
    {
        foreach (var named in _events.Values)
            foreach (var waiter in named.Waiters.Where(w => w.Request.Participant == participant).ToList())
            {
                named.Waiters.Remove(waiter);
                waiter.Timer.Cancel();
            }
    }
}
