using System.Buffers.Binary;
using System.Diagnostics;
using Akka.Actor;
using Sim.Core;
using Xunit;
using Xunit.Abstractions;

namespace Sim.Tests;

/// <summary>
/// A pipe across a real Akka.Remote connection whose far end's node goes away right after a burst, while the
/// coordinator's news of it travels a shorter way (here: none, the survivor lives in the coordinator's system).
/// </summary>
public sealed class PipeRemoteSpec(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private ActorSystem _coordinatorSystem = null!;
    private Coordinator _coordinator = null!;

    public Task InitializeAsync()
    {
        _coordinatorSystem = ActorSystem.Create(SimConfig.SystemName, SimConfig.Node());
        _coordinator = Coordinator.Start(_coordinatorSystem);
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _coordinatorSystem.Terminate();

    private Task<Participant> ConnectAsync(ActorSystem system, string name) =>
        Participant.ConnectAsync(system, _coordinator.Address,
            new ParticipantInfo(name, "test", Environment.ProcessId, new Dictionary<string, string>()), Wait);

    private static QueueItem Numbered(int n)
    {
        var bytes = new byte[1024];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, n);
        return QueueItem.Bytes(bytes);
    }

    [Fact]
    public async Task A_burst_sent_just_before_the_peers_node_ends_arrives_whole_before_end_of_file()
    {
        const int burst = 300;
        await using var a = await ConnectAsync(_coordinatorSystem, "pipe-a");
        var eofAfter = new List<double>();
        for (var iteration = 0; iteration < 20; iteration++)
        {
            var peerSystem = ActorSystem.Create(SimConfig.SystemName, SimConfig.Node());
            try
            {
                var b = await ConnectAsync(peerSystem, $"pipe-b{iteration}");
                var opening = a.PipeAsync($"p{iteration}", 0, duplex: true, Wait);
                var endB = await b.PipeAsync($"p{iteration}", 1, duplex: true, Wait);
                var endA = await opening;
                for (var n = 0; n < burst; n++)
                    await endB.SendAsync(Numbered(n));
                // The news of b's end is published before its burst has crossed the wire; then its node ends.
                _coordinator.ReportExited($"pipe-b{iteration}", -9);
                var ending = peerSystem.Terminate();
                var clock = Stopwatch.StartNew();
                for (var n = 0; n < burst; n++)
                    Assert.Equal(n, BinaryPrimitives.ReadInt32LittleEndian((await endA.RecvAsync(Wait)).Payload));
                await Assert.ThrowsAsync<PipeEofException>(() => endA.RecvAsync(Wait));
                eofAfter.Add(clock.Elapsed.TotalMilliseconds);
                await Assert.ThrowsAsync<PipeBrokenException>(() => endA.SendAsync("to the dead"));
                await ending.WaitAsync(Wait);
            }
            finally
            {
                await peerSystem.Terminate().WaitAsync(Wait);
            }
        }
        eofAfter.Sort();
        output.WriteLine($"burst read and end-of-file after: median {eofAfter[eofAfter.Count / 2]:0} ms, max {eofAfter[^1]:0} ms");
    }
    [Fact]
    public async Task After_drain_everything_sent_is_already_in_the_other_ends_process()
    {
        const int burst = 500;
        await using var a = await ConnectAsync(_coordinatorSystem, "drain-a");
        var peerSystem = ActorSystem.Create(SimConfig.SystemName, SimConfig.Node());
        try
        {
            var b = await ConnectAsync(peerSystem, "drain-b");
            var opening = a.PipeAsync("drained", 0, duplex: false, Wait);
            var endB = await b.PipeAsync("drained", 1, duplex: false, Wait);
            var endA = await opening;
            await Assert.ThrowsAsync<InvalidOperationException>(() => endA.DrainAsync(Wait));
            for (var round = 0; round < 5; round++)
            {
                for (var n = 0; n < burst; n++)
                    await endB.SendAsync(Numbered(n));
                await endB.DrainAsync(Wait);
                // Already there: no waiting on the network any more.
                for (var n = 0; n < burst; n++)
                    Assert.Equal(n, BinaryPrimitives.ReadInt32LittleEndian((await endA.RecvAsync(TimeSpan.Zero)).Payload));
            }
            _coordinator.ReportExited("drain-a", -9);
            await AwaitBrokenAsync(endB);
            await Assert.ThrowsAsync<PipeBrokenException>(() => endB.DrainAsync(Wait));
        }
        finally
        {
            await peerSystem.Terminate().WaitAsync(Wait);
        }
    }

    private static async Task AwaitBrokenAsync(PipeConnection end)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Wait)
        {
            try
            {
                await end.SendAsync("still there?");
            }
            catch (PipeBrokenException)
            {
                return;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException("the pipe did not break");
    }
}
