using System.CommandLine;
using System.Globalization;

namespace Sim.Launcher;

/// <summary>
/// How a run's participant processes start, after Python's start methods. <c>spawn</c>: a new Sim.Node process per
/// participant, booted from nothing (Python's spawn: a fresh interpreter). <c>forkserver</c>: booted nodes of the warm
/// pool, which is started on first use and stops by itself when unused (Python's forkserver: a server process started
/// on first use forks each child from its own booted state). Python's third method, <c>fork</c>, copies the parent
/// process; .NET cannot fork a running runtime, so Sim has no such method.
/// </summary>
public enum StartMethod
{
    Spawn,
    Forkserver,
}

/// <summary>The <c>--start-method</c> option and the <c>SIM_START_METHOD</c> and <c>SIM_POOL_IDLE_TIMEOUT</c> variables.</summary>
public static class StartMethods
{
    public const string Variable = "SIM_START_METHOD";
    public const string IdleTimeoutVariable = "SIM_POOL_IDLE_TIMEOUT";

    /// <summary>How long a pool started on first use waits with nobody connected before it stops by itself.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(5);

    private static readonly string[] Names = ["spawn", "forkserver"];

    public static readonly Option<string?> Option = Create();

    private static Option<string?> Create()
    {
        var option = new Option<string?>("--start-method")
        {
            Description = $"How participants start: spawn (a new process each, booted cold) or forkserver (booted nodes of the warm pool, started on first use; it stops after {DefaultIdleTimeout.TotalMinutes:0} minutes unused, {IdleTimeoutVariable}=S to change). Default: ${Variable}, else spawn",
            HelpName = "spawn|forkserver",
            Recursive = true,
        };
        // Our own message, which names the option (the parser's own does not).
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text && !Names.Contains(text))
                result.AddError($"--start-method '{text}' is not a start method (spawn or forkserver)");
        });
        return option;
    }

    /// <summary>Scenario commands start participants: those with the run options, and <c>sim</c> alone (tickets).</summary>
    private static bool StartsParticipants(Command command) =>
        command is RootCommand || command.Options.Contains(ClusterCli.ClusterOption);

    /// <summary>
    /// The run's start method: <c>--start-method</c>, else <c>SIM_START_METHOD</c> (only where it can apply: a scenario
    /// command run locally), else spawn; <c>--pool</c> is forkserver on a pool started by hand. A bad value or a
    /// combination that cannot be is a usage error.
    /// </summary>
    public static StartMethod Resolve(ParseResult parsed, bool pool)
    {
        var command = parsed.CommandResult.Command;
        if (parsed.GetValue(Option) is { } chosen)
        {
            if (!StartsParticipants(command))
                throw new UsageException($"--start-method does not apply to '{command.Name}'");
            var method = Parse(chosen, "--start-method");
            if (pool && method == StartMethod.Spawn)
                throw new UsageException("--pool runs the participants on the warm pool: it does not go with --start-method spawn");
            return method;
        }
        if (pool || !StartsParticipants(command))
            return pool ? StartMethod.Forkserver : StartMethod.Spawn;
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } text)
            return StartMethod.Spawn;
        var fromEnvironment = Parse(text, Variable);
        // The warm pool's nodes are local and without TLS: across the cluster the variable yields to the run's options.
        var remote = command.Options.Contains(ClusterCli.ClusterOption)
                     && (parsed.GetValue(ClusterCli.ClusterOption) ?? parsed.GetValue(ClusterCli.CertOption)) is not null;
        return remote ? StartMethod.Spawn : fromEnvironment;
    }

    private static StartMethod Parse(string text, string source) => text switch
    {
        "spawn" => StartMethod.Spawn,
        "forkserver" => StartMethod.Forkserver,
        _ => throw new UsageException($"{source} '{text}' is not a start method (spawn or forkserver)"),
    };

    /// <summary>The idle timeout of a pool started on first use: <c>SIM_POOL_IDLE_TIMEOUT</c> seconds, else 5 minutes.</summary>
    public static TimeSpan IdleTimeout() => EnvironmentSeconds.Read(IdleTimeoutVariable, DefaultIdleTimeout, 1, 86_400);
}
