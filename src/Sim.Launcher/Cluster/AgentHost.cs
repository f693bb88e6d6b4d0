using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Sim.Core;
using Spectre.Console;
using AkkaCluster = Akka.Cluster.Cluster;

namespace Sim.Launcher.Cluster;

/// <summary>What <c>sim agent</c> was told.</summary>
public sealed record AgentOptions(string Host, int Port, IReadOnlyList<Address> Seeds, int Slots, string Name, string? Certificate);

/// <summary>
/// <c>sim agent</c>: a long-lived member of the cluster (role <c>agent</c>) that starts participants on this machine.
/// When the cluster downs it, its actor system ends (run-coordinated-shutdown-when-down): its participants are ended
/// and it joins again as a new incarnation, on the same address. SIGINT/SIGTERM: it leaves, ends its participants, exits 0.
/// </summary>
public static class AgentHost
{
    public static async Task<int> RunAsync(AgentOptions options, IAnsiConsole console, CancellationToken cancellationToken)
    {
        ClusterConfig.RequireCertificateOffLoopback(options.Host, options.Certificate, "an agent (it starts processes on request)");
        var certificate = options.Certificate is null ? null : SimTls.Load(options.Certificate);
        var node = NodeBinary.Locate();
        var settings = new AgentSettings(options.Name, options.Host, options.Slots, node,
            options.Certificate is null ? null : Path.GetFullPath(options.Certificate));
        var processes = new AgentProcesses();
        var port = options.Port;
        for (var incarnation = 1; ; incarnation++)
        {
            ActorSystem system;
            try
            {
                system = SimTls.Create(SimConfig.SystemName, ClusterConfig.Member(ClusterConfig.AgentRole, options.Host, port), certificate);
            }
            catch (Exception e) when (IsBindFailure(e))
            {
                if (incarnation == 1)
                    throw new UsageException($"--host {options.Host} --port {port}: cannot bind ({Innermost(e).Message})");
                // The last incarnation's port may take a moment to be free again.
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                continue;
            }
            var cluster = AkkaCluster.Get(system);
            // Bound now: with --port 0, later incarnations keep the port this one got.
            port = cluster.SelfAddress.Port ?? port;
            _ = DistributedPubSub.Get(system).Mediator;
            system.ActorOf(AgentActor.Props(settings, processes), AgentActor.Name);
            var seeds = options.Seeds.Count > 0 ? options.Seeds : [cluster.SelfAddress];
            var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            cluster.RegisterOnMemberUp(() => up.TrySetResult());
            cluster.JoinSeedNodes(seeds);
            console.MarkupLineInterpolated(
                $"agent {options.Name} at {options.Host}:{port} ({cluster.SelfAddress}), {options.Slots} slots, joining {string.Join(", ", seeds.Select(s => $"{s.Host}:{s.Port}"))}{(certificate is null ? "" : ", TLS")}");
            _ = up.Task.ContinueWith(_ => console.MarkupLineInterpolated($"agent {options.Name} is up"), TaskScheduler.Default);

            var stop = Task.Delay(Timeout.Infinite, cancellationToken);
            var finished = await Task.WhenAny(system.WhenTerminated, stop).ConfigureAwait(false);
            if (finished == stop)
            {
                // Leave the cluster in order (others see it go at once, not after the failure detector), then end.
                var ended = await processes.KillAllAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                await cluster.LeaveAsync().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, CancellationToken.None).ConfigureAwait(false);
                await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, CancellationToken.None).ConfigureAwait(false);
                console.MarkupLineInterpolated($"agent {options.Name} left the cluster ({ended} participant(s) ended)");
                return 0;
            }
            var lost = await processes.KillAllAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            console.MarkupLineInterpolated($"agent {options.Name} was removed from the cluster (downed): {lost} participant(s) ended; joining again");
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }
    }

    private static bool IsBindFailure(Exception e) =>
        Innermost(e) is System.Net.Sockets.SocketException || e.ToString().Contains("Address already in use", StringComparison.Ordinal);

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e;
    }
}
