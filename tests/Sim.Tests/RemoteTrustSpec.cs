using Akka.Actor;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// What another node may do to the coordinator over Akka.Remote, with Sim's real configuration: it may ask the
/// coordinator's named actors, but not stop them, nor reach actors that are not meant to be found.
/// </summary>
public sealed class RemoteTrustSpec : TwoNodeSpec
{
    private async Task<IActorRef> ResolveAsync(string name) =>
        await ParticipantSystem.ActorSelection(new RootActorPath(Coordinator.Address) / "user" / name).ResolveOne(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task A_remote_PoisonPill_or_Kill_does_not_stop_the_lock_manager()
    {
        var remote = await ResolveAsync(LockManager.Name);
        var probe = CoordinatorSystem.ActorOf(Props.Create(() => new Watcher(Coordinator.LockManager)));
        remote.Tell(PoisonPill.Instance);
        remote.Tell(Kill.Instance);
        ParticipantSystem.ActorSelection(new RootActorPath(Coordinator.Address) / "user" / LockManager.Name).Tell(PoisonPill.Instance);

        // Still there and still answering, from the other node and locally; and nobody saw it stop.
        var state = await remote.Ask<LockState>(new GetLockState("tickets"), TimeSpan.FromSeconds(10));
        Assert.Equal("tickets", state.Lock);
        await Task.Delay(500);
        Assert.False(await probe.Ask<bool>("stopped?", TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_remote_selection_finds_the_coordinators_doors_and_nothing_else()
    {
        await ResolveAsync(Roster.Name);
        var hidden = CoordinatorSystem.ActorOf(Props.Create(() => new Watcher(Coordinator.Roster)), "hidden");
        Assert.NotNull(hidden);
        await Assert.ThrowsAsync<ActorNotFoundException>(async () =>
            await ParticipantSystem.ActorSelection(new RootActorPath(Coordinator.Address) / "user" / "hidden").ResolveOne(TimeSpan.FromSeconds(2)));
        await Assert.ThrowsAsync<ActorNotFoundException>(async () =>
            await ParticipantSystem.ActorSelection(new RootActorPath(Coordinator.Address) / "system" / "*").ResolveOne(TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_remote_Kill_does_not_stop_a_queue()
    {
        var queues = await ResolveAsync(QueueManager.Name);
        var declared = await queues.Ask<QueueDeclared>(new DeclareQueue("q", 0, false, "stranger"), TimeSpan.FromSeconds(10));
        declared.Ref.Tell(Kill.Instance);
        declared.Ref.Tell(PoisonPill.Instance);
        await Task.Delay(300);
        var status = await declared.Ref.Ask<QueueStatus>(GetQueueStatus.Instance, TimeSpan.FromSeconds(10));
        Assert.Equal("q", status.Queue);
    }

    [Fact]
    public async Task A_message_with_no_wire_format_is_refused_not_sent_as_json()
    {
        var serialization = ParticipantSystem.Serialization;
        var serializer = serialization.FindSerializerFor(new Unregistered(42));
        Assert.IsType<Sim.Core.Serialization.NoFallbackSerializer>(serializer);
        var refused = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.ToBinary(new Unregistered(42)));
        Assert.Contains(typeof(Unregistered).FullName!, refused.Message);

        // Sent anyway, it never arrives, and the connection keeps working for what has a wire format.
        var remote = await ResolveAsync(LockManager.Name);
        remote.Tell(new Unregistered(42));
        var state = await remote.Ask<LockState>(new GetLockState("after"), TimeSpan.FromSeconds(10));
        Assert.Equal("after", state.Lock);
    }

    public sealed record Unregistered(int Value);

    private sealed class Watcher : ReceiveActor
    {
        public Watcher(IActorRef watched)
        {
            var stopped = false;
            Context.Watch(watched);
            Receive<Terminated>(_ => stopped = true);
            Receive<string>(_ => Sender.Tell(stopped));
        }
    }
}
