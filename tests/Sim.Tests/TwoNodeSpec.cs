using Akka.Actor;
using Akka.Configuration;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// Base of the specs that cross real Akka.Remote connections: a coordinator's actor system and a participants' one on
/// loopback, with Sim's real configuration (plus <paramref name="extra"/>), so every message is really serialized.
/// </summary>
public abstract class TwoNodeSpec(Config? extra = null) : IAsyncLifetime
{
    protected ActorSystem CoordinatorSystem { get; private set; } = null!;
    protected ActorSystem ParticipantSystem { get; private set; } = null!;
    protected Coordinator Coordinator { get; private set; } = null!;

    public Task InitializeAsync()
    {
        CoordinatorSystem = ActorSystem.Create(SimConfig.SystemName, Node());
        ParticipantSystem = ActorSystem.Create(SimConfig.SystemName, Node());
        Coordinator = Coordinator.Start(CoordinatorSystem);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await ParticipantSystem.Terminate();
        await CoordinatorSystem.Terminate();
    }

    protected Task<Participant> ConnectAsync(string name, ActorSystem? system = null) =>
        Participant.ConnectAsync(system ?? ParticipantSystem, Coordinator.Address,
            new ParticipantInfo(name, "test", Environment.ProcessId, new Dictionary<string, string>()), TimeSpan.FromSeconds(30));

    private Config Node() => extra is null ? SimConfig.Node() : extra.WithFallback(SimConfig.Node());
}
