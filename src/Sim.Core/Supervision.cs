using Akka.Actor;

namespace Sim.Core;

/// <summary>
/// How Sim's actors are supervised: as Akka's default (restart on an exception), except that a <see cref="Kill"/>
/// does not stop them. Akka.NET's untrusted mode drops a remote <see cref="PoisonPill"/> but lets a remote
/// <c>Kill</c> through (it is not marked possibly harmful), and the default strategy stops an actor that was killed:
/// any node could stop the lock manager with one message. Resumed instead, the actor keeps its state and goes on.
/// </summary>
public sealed class SimSupervision : SupervisorStrategyConfigurator
{
    public static readonly SupervisorStrategy Strategy = new OneForOneStrategy(e => e switch
    {
        ActorKilledException => Directive.Resume,
        _ => SupervisorStrategy.DefaultDecider.Decide(e),
    });

    public override SupervisorStrategy Create() => Strategy;
}
