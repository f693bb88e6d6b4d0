using System.Reflection;
using Akka.Configuration;

namespace Sim.Core;

/// <summary>The shared node configuration (hocon/akka.hocon, embedded) plus per-process overrides.</summary>
public static class SimConfig
{
    /// <summary>Every Sim node runs an actor system of this name, so addresses are predictable.</summary>
    public const string SystemName = "sim";

    private static readonly Lazy<string> SharedText = new(() =>
    {
        using var stream = typeof(SimConfig).Assembly.GetManifestResourceStream("Sim.Core.akka.hocon")
            ?? throw new InvalidOperationException("embedded resource Sim.Core.akka.hocon is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    /// <summary>
    /// Environment variable with HOCON that overrides the shared configuration in every Sim process (the
    /// launcher passes its environment to the participants), e.g. <c>SIM_AKKA_CONFIG='akka.loglevel = DEBUG'</c>.
    /// </summary>
    public const string OverrideVariable = "SIM_AKKA_CONFIG";

    /// <summary>The HOCON that <see cref="OverrideVariable"/> adds in this process, if any.</summary>
    public static string? Override => Environment.GetEnvironmentVariable(OverrideVariable) is { Length: > 0 } text ? text : null;

    /// <summary>
    /// Akka.Remote's throttling transport adapter under every connection (as Akka's multi-node test conductor uses it),
    /// so that the coordinator can cut one participant off and heal it. Only for runs with a partition fault: it adds a
    /// step to every message received. Every node of the run must have it (it changes the addresses' protocol).
    /// </summary>
    public const string PartitionableConfig = "akka.remote.dot-netty.tcp.applied-adapters = [trttl]";

    /// <summary>
    /// The node configuration with this process's host and port; <paramref name="extra"/> wins over both. A process that
    /// <paramref name="serves"/> others (the coordinator, an agent) logs hostile input on its port (<see cref="HostileInputLogger"/>),
    /// unless <c>SIM_AKKA_CONFIG</c> sets the logging itself.
    /// </summary>
    public static Config Node(string host = "127.0.0.1", int port = 0, string? extra = null, bool serves = false)
    {
        var overrides = $"akka.remote.dot-netty.tcp.hostname = \"{host}\"\nakka.remote.dot-netty.tcp.port = {port}\n";
        var config = ConfigurationFactory.ParseString(overrides);
        if (serves)
            config = ConfigurationFactory.ParseString(HostileInputLogger.Config).WithFallback(config);
        if (Override is { } fromEnvironment)
        {
            try
            {
                config = ConfigurationFactory.ParseString(fromEnvironment).WithFallback(config);
            }
            catch (Exception e)
            {
                throw new SimConfigException(fromEnvironment, e);
            }
        }
        if (!string.IsNullOrWhiteSpace(extra))
            config = ConfigurationFactory.ParseString(extra).WithFallback(config);
        return config.WithFallback(ConfigurationFactory.ParseString(SharedText.Value));
    }
}

/// <summary>
/// The actor system did not start while <c>SIM_AKKA_CONFIG</c> adds settings (most likely one it cannot start with: not
/// HOCON, an unknown type, a bad value): one line naming the variable and Akka's innermost reason, for a usage error
/// instead of a stack trace.
/// </summary>
public sealed class SimConfigException(string overrideText, Exception cause)
    : Exception($"the actor system did not start with {SimConfig.OverrideVariable}='{OneLine(overrideText)}': {OneLine(Innermost(cause).Message)}", cause)
{
    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return e;
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
