using Akka.Actor;
using Akka.Cluster;

namespace Sim.Launcher.Cluster;

/// <summary>
/// The run's end of the agents' conversation, in the launcher (<c>/user/run-link</c>): the sender of every command, so
/// agents answer it (statuses, starts, refusals, ends) and watch it (when it goes, they end the run's participants).
/// It also follows the cluster's reachability: an agent unreachable for <see cref="ClusterConfig.LostAfterUnreachable"/>,
/// or removed, loses its participants.
/// </summary>
public sealed class RunLink : ReceiveActor, IWithTimers
{
    public const string Name = "run-link";

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record StillUnreachable(Address Address);

    public static Props Props(ClusterHome home) => Akka.Actor.Props.Create(() => new RunLink(home));

    public RunLink(ClusterHome home)
    {
        Receive<AgentStatus>(home.OnStatus);
        Receive<ParticipantStarted>(home.OnStarted);
        Receive<StartRefused>(home.OnRefused);
        Receive<ParticipantEnded>(home.OnEnded);
        Receive<ClusterEvent.UnreachableMember>(m =>
            Timers.StartSingleTimer(m.Member.Address, new StillUnreachable(m.Member.Address), ClusterConfig.LostAfterUnreachable));
        Receive<ClusterEvent.ReachableMember>(m => Timers.Cancel(m.Member.Address));
        Receive<StillUnreachable>(m => home.OnAgentGone(m.Address, $"unreachable for {(ClusterConfig.LostAfterUnreachable.TotalSeconds):0.#} s beyond the failure detector's pause"));
        Receive<ClusterEvent.MemberRemoved>(m =>
        {
            Timers.Cancel(m.Member.Address);
            home.OnAgentGone(m.Member.Address, "removed from the cluster");
        });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
    }

    protected override void PreStart() =>
        Akka.Cluster.Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IReachabilityEvent), typeof(ClusterEvent.IMemberEvent));

    protected override void PostStop() => Akka.Cluster.Cluster.Get(Context.System).Unsubscribe(Self);
}
