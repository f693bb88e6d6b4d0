using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;

namespace Sim.Launcher.Cluster;

/// <summary>
/// Answers one <see cref="ClusterQuery"/>: asks every agent (pub-sub) for its status and replies with what came within
/// a second and a half, or as soon as all <paramref name="expected"/> reachable agents answered.
/// </summary>
public sealed class StatusGatherer : ReceiveActor
{
    private readonly List<AgentStatus> _agents = new();

    public static Props Props(IActorRef replyTo, IReadOnlyList<MemberView> members, int expected) =>
        Akka.Actor.Props.Create(() => new StatusGatherer(replyTo, members, expected));

    public StatusGatherer(IActorRef replyTo, IReadOnlyList<MemberView> members, int expected)
    {
        Receive<AgentStatus>(s =>
        {
            if (_agents.All(a => a.Name != s.Name))
                _agents.Add(s);
            if (_agents.Count >= expected)
                Reply();
        });
        Receive<ReceiveTimeout>(_ => Reply());

        void Reply()
        {
            replyTo.Tell(new ClusterView(members, _agents.OrderBy(a => a.Name, StringComparer.Ordinal).ToList()));
            Context.Stop(Self);
        }
    }

    protected override void PreStart()
    {
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Publish(AgentTopics.All, AgentQuery.Instance));
        Context.SetReceiveTimeout(TimeSpan.FromSeconds(1.5));
    }
}
