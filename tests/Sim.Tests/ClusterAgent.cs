using System.Text.RegularExpressions;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// A real <c>sim agent</c> process on a loopback address of its own (127.0.0.2, 127.0.0.3, ...), up in the cluster.
/// Disposing kills its whole process tree (its participants included).
/// </summary>
public sealed class ClusterAgent : IDisposable
{
    private static readonly TimeSpan UpTimeout = TimeSpan.FromSeconds(60);

    private ClusterAgent(SimCli cli, string name, string host, int port)
    {
        Cli = cli;
        Name = name;
        Host = host;
        Port = port;
    }

    public SimCli Cli { get; }
    public string Name { get; }
    public string Host { get; }
    public int Port { get; }

    /// <summary>HOST:PORT, for <c>--cluster</c> and <c>--seed</c>.</summary>
    public string Member => $"{Host}:{Port}";

    public static async Task<ClusterAgent> StartAsync(string host, string name, ClusterAgent? seed = null, int slots = 64, string? cert = null,
        IReadOnlyList<string>? wrapper = null)
    {
        var args = new List<string> { "agent", "--host", host, "--port", "0", "--name", name, "--slots", slots.ToString() };
        if (seed is not null)
            args.AddRange(["--seed", seed.Member]);
        if (cert is not null)
            args.AddRange(["--cert", cert]);
        var cli = wrapper is null ? SimCli.Start([.. args]) : SimCli.StartWrapped(wrapper, [.. args]);
        try
        {
            await cli.WaitForOutputAsync($"agent {name} is up", UpTimeout);
            var match = Regex.Match(cli.Stdout, $@"agent {Regex.Escape(name)} at {Regex.Escape(host)}:(\d+) ");
            Assert.True(match.Success, cli.Stdout);
            return new ClusterAgent(cli, name, host, int.Parse(match.Groups[1].Value));
        }
        catch
        {
            cli.Dispose();
            throw;
        }
    }

    /// <summary>Two agents, a1 on 127.0.0.2 (seeding itself) and a2 on 127.0.0.3 (joining a1).</summary>
    public static async Task<(ClusterAgent A1, ClusterAgent A2)> StartPairAsync(string? cert = null)
    {
        var a1 = await StartAsync("127.0.0.2", "a1", cert: cert);
        try
        {
            return (a1, await StartAsync("127.0.0.3", "a2", a1, cert: cert));
        }
        catch
        {
            a1.Dispose();
            throw;
        }
    }

    public void Dispose() => Cli.Dispose();
}
