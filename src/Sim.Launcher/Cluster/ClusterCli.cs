using System.CommandLine;
using Spectre.Console;
using Sim.Core;
using Sim.Launcher.Cluster;

namespace Sim.Launcher;

/// <summary>
/// The command line of runs across machines: the options every scenario command takes (<c>--cluster</c>, <c>--host</c>,
/// <c>--placement</c>, <c>--on</c>, <c>--cert</c>), and the commands <c>sim agent</c>, <c>sim cluster</c> and <c>sim cert new</c>.
/// </summary>
public static class ClusterCli
{
    public static readonly Option<string?> ClusterOption = new("--cluster")
    {
        Description = "Run the participants on the agents of the cluster that this member (any agent, HOST:PORT) belongs to",
        HelpName = "HOST:PORT",
    };

    public static readonly Option<string?> HostOption = new("--host")
    {
        Description = "With --cluster: the address this launcher binds; participants on other machines connect to it (default 127.0.0.1)",
        HelpName = "ADDR",
    };

    public static readonly Option<string?> PlacementOption = CreatePlacement();

    public static readonly Option<string?> OnOption = new("--on")
    {
        Description = "With --cluster: only these agents (comma-separated names) run participants",
        HelpName = "NAME,...",
    };

    public static readonly Option<string?> CertOption = new("--cert")
    {
        Description = "All Akka.Remote traffic over TLS with mutual authentication, with this certificate (a PFX from `sim cert new`; the same file on every machine)",
        HelpName = "FILE",
    };

    private static Option<string?> CreatePlacement()
    {
        var option = new Option<string?>("--placement") { Description = "With --cluster: spread the participants over the agents in turn, or pack each agent before the next (default spread)" };
        option.AcceptOnlyFromAmong("spread", "pack");
        return option;
    }

    /// <summary>Adds the options of a run across the cluster to a scenario command.</summary>
    public static Command WithClusterOptions(this Command command)
    {
        command.Options.Add(ClusterOption);
        command.Options.Add(HostOption);
        command.Options.Add(PlacementOption);
        command.Options.Add(OnOption);
        command.Options.Add(CertOption);
        return command;
    }

    /// <summary>Reads the run's cluster and certificate options (when its command has them) into <see cref="ScenarioRun"/>.</summary>
    public static void Apply(ParseResult parsed, bool pool)
    {
        var command = parsed.CommandResult.Command;
        if (!command.Options.Contains(ClusterOption))
            return;
        var cluster = parsed.GetValue(ClusterOption);
        var host = parsed.GetValue(HostOption);
        var placement = parsed.GetValue(PlacementOption);
        var on = parsed.GetValue(OnOption);
        var cert = parsed.GetValue(CertOption);
        if (cluster is null)
        {
            foreach (var (name, value) in new[] { ("--host", host), ("--placement", placement), ("--on", on) })
            {
                if (value is not null)
                    throw new UsageException($"{name} {value} applies only with --cluster HOST:PORT");
            }
        }
        if (pool && (cluster ?? cert) is not null)
            throw new UsageException($"--pool does not go with {(cluster is not null ? "--cluster" : "--cert")}: the warm pool's nodes are local and booted without TLS");
        (string, System.Security.Cryptography.X509Certificates.X509Certificate2)? certificate = null;
        if (cert is not null)
            certificate = (Path.GetFullPath(cert), Load(cert));
        if (cluster is not null)
        {
            host ??= "127.0.0.1";
            ClusterConfig.RequireCertificateOffLoopback(host, cert, "the launcher");
            var names = on?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (on is not null && names!.Length == 0)
                throw new UsageException($"--on '{on}' names no agent");
            ScenarioRun.Cluster = new ClusterRunOptions(ClusterConfig.ParseMember("--cluster", cluster, cert is not null), cluster, host,
                placement == "pack" ? Placement.Pack : Placement.Spread, names);
        }
        ScenarioRun.Certificate = certificate;
    }

    private static System.Security.Cryptography.X509Certificates.X509Certificate2 Load(string path)
    {
        try
        {
            return SimTls.Load(path);
        }
        catch (CertificateException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary><c>sim agent --host ADDR [--port P] [--seed HOST:PORT]... [--slots N] [--name NAME] [--cert FILE]</c>.</summary>
    public static Command AgentCommand(Func<string, string, int, int, int, Option<int>> intOption)
    {
        var host = new Option<string>("--host") { Description = "The address this agent and its participants bind (loopback unless --cert)", Required = true, HelpName = "ADDR" };
        var port = intOption("--port", "The agent's port", ClusterConfig.DefaultAgentPort, 0, 65535);
        var seeds = new Option<string[]>("--seed") { Description = "A member to join (HOST:PORT); repeatable. Without one, the agent starts a cluster of its own", HelpName = "HOST:PORT" };
        var slots = intOption("--slots", "Most participant processes this agent runs at once", 64, 1, 1000);
        var name = new Option<string?>("--name") { Description = "The agent's name in the cluster (default: its --host)", HelpName = "NAME" };
        var command = new Command("agent", "A long-lived member of the cluster (role agent) that starts participants on this machine when a run asks")
        {
            host, port, seeds, slots, name, CertOption,
        };
        command.SetAction((parsed, cancellationToken) =>
        {
            var options = new AgentOptions(parsed.GetValue(host)!, parsed.GetValue(port),
                (parsed.GetValue(seeds) ?? []).Select(s => ClusterConfig.ParseMember("--seed", s, parsed.GetValue(CertOption) is not null)).ToList(),
                parsed.GetValue(slots), parsed.GetValue(name) ?? parsed.GetValue(host)!, parsed.GetValue(CertOption));
            if (options.Name.Length == 0 || options.Name.Any(c => char.IsWhiteSpace(c) || c is ',' or '/'))
                throw new UsageException($"--name '{options.Name}' must be a word without spaces, commas or slashes");
            return Run(() => AgentHost.RunAsync(options, Output.Console, cancellationToken));
        });
        return command;
    }

    /// <summary><c>sim cluster --cluster HOST:PORT [--host ADDR] [--cert FILE]</c>: members, roles, slots, what runs where.</summary>
    public static Command StatusCommand()
    {
        var cluster = new Option<string>("--cluster") { Description = "Any agent of the cluster (HOST:PORT)", Required = true, HelpName = "HOST:PORT" };
        var host = new Option<string>("--host") { Description = "The address this command binds for the answer (default 127.0.0.1)", DefaultValueFactory = _ => "127.0.0.1", HelpName = "ADDR" };
        var json = new Option<bool>("--json") { Description = "Print the answer as JSON" };
        var command = new Command("cluster", "The cluster's members, their roles, the agents' slots and which participants run where")
        {
            cluster, host, json, CertOption,
        };
        command.SetAction((parsed, cancellationToken) =>
        {
            var cert = parsed.GetValue(CertOption);
            var member = ClusterConfig.ParseMember("--cluster", parsed.GetValue(cluster)!, cert is not null);
            var bind = parsed.GetValue(host)!;
            ClusterConfig.RequireCertificateOffLoopback(bind, cert, "`sim cluster`");
            return Run(() => ClusterStatus.RunAsync(member, parsed.GetValue(cluster)!, bind, cert is null ? null : Load(cert),
                parsed.GetValue(json), Output.Console, cancellationToken));
        });
        return command;
    }

    /// <summary><c>sim cert new --out FILE [--days N]</c>.</summary>
    public static Command CertCommand(Func<string, string, int, int, int, Option<int>> intOption)
    {
        var output = new Option<string>("--out") { Description = "The PFX file to write (with its private key; keep it private)", Required = true, HelpName = "FILE" };
        var days = intOption("--days", "Days the certificate is valid", 365, 1, 36500);
        var force = new Option<bool>("--force") { Description = "Overwrite the file if it exists" };
        var create = new Command("new", "Make a self-signed certificate for the cluster's TLS (copy the same file to every machine)")
        {
            output, days, force,
        };
        create.SetAction((parsed, _) =>
        {
            var path = Path.GetFullPath(parsed.GetValue(output)!);
            var thumbprint = CertificateMaker.Write(path, parsed.GetValue(days), parsed.GetValue(force));
            Output.Console.WriteLine($"wrote {path} (self-signed, thumbprint {thumbprint}); use the same file with --cert on every agent and launcher");
            return Task.FromResult(0);
        });
        return new Command("cert", "Certificates for a cluster over TLS") { create };
    }

    /// <summary>A certificate error is a usage error (one line, exit 2).</summary>
    private static async Task<int> Run(Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (CertificateException e)
        {
            throw new UsageException(e.Message);
        }
    }
}
