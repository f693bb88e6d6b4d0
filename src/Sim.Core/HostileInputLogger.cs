using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Akka.Remote;

namespace Sim.Core;

/// <summary>
/// The Akka logger of the processes that serve others (the coordinator, an agent). Sim keeps Akka's own logs off; what a
/// stranger sends to the port (bytes that are not Akka.Remote, an oversized frame, a PDU that does not decode, a message in a
/// format Sim refuses, a handshake from an actor system that is not Sim's) is the exception: one line on stderr per connection,
/// never a stack trace, and the run goes on. A system of another name is also quarantined, so it cannot talk to the run.
/// Everything else Akka logs is dropped here, as with logging off (<c>SIM_AKKA_CONFIG</c> brings the standard logger back).
/// </summary>
public sealed partial class HostileInputLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    /// <summary>Lines at most per process: a flood of garbage must not become a flood of lines.</summary>
    private const int MaxLines = 100;

    /// <summary>How a process that serves others logs: warnings and errors reach this logger, which keeps only the hostile ones.</summary>
    public const string Config = """
        akka.loglevel = WARNING
        akka.stdout-loglevel = OFF
        akka.loggers = ["Sim.Core.HostileInputLogger, Sim.Core"]
        """;

    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private int _lines;

    public HostileInputLogger()
    {
        Receive<InitializeLogger>(_ =>
        {
            Context.System.EventStream.Subscribe(Self, typeof(AssociatedEvent));
            Sender.Tell(new LoggerInitialized());
        });
        Receive<LogEvent>(e =>
        {
            if (Describe(e) is { } what)
                Report(what.Peer, what.Why);
        });
        Receive<AssociatedEvent>(e =>
        {
            if (e.RemoteAddress.System == SimConfig.SystemName)
                return;
            Report(e.RemoteAddress.ToString(), $"an actor system named '{e.RemoteAddress.System}', not Sim's: quarantined");
            ((IRemoteActorRefProvider)((ExtendedActorSystem)Context.System).Provider).Quarantine(e.RemoteAddress, null);
        });
    }

    private void Report(string peer, string why)
    {
        // One line per connection: the first thing that went wrong on it says enough.
        if (!_reported.Add(peer) || _lines >= MaxLines)
            return;
        _lines++;
        var more = _lines == MaxLines ? " (further hostile input is not logged)" : "";
        Console.Error.WriteLine($"sim: {DateTime.UtcNow:HH:mm:ss.fff} refused input from {peer}: {why}; the run goes on{more}");
    }

    /// <summary>Who sent what, for the events a stranger on the wire causes; null for every other event.</summary>
    internal static (string Peer, string Why)? Describe(LogEvent e)
    {
        if (e is not (Error or Warning))
            return null;
        var text = e.Message?.ToString() ?? "";
        var cause = (e as Error)?.Cause;
        var innermost = cause?.GetBaseException();
        var peer = Channel().Match(text) is { Success: true } channel
                ? channel.Groups["peer"].Value.Replace("[::ffff:", "", StringComparison.Ordinal).Replace("[", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal)
            : Address().Match(text) is { Success: true } address ? address.Value
            : "an unknown peer";
        var causeName = innermost?.GetType().FullName ?? "";
        if (causeName.StartsWith("DotNetty.Codecs.", StringComparison.Ordinal))
            return (peer, $"not Akka.Remote framing ({First(innermost!.Message)})");
        if (text.Contains("decoding incoming Akka PDU", StringComparison.OrdinalIgnoreCase) || causeName.EndsWith("PduCodecException", StringComparison.Ordinal))
            return (peer, "an Akka.Remote frame that does not decode");
        if (text.Contains("deserializ", StringComparison.OrdinalIgnoreCase) || text.Contains("serializer", StringComparison.OrdinalIgnoreCase)
            || causeName.Contains("Serialization", StringComparison.Ordinal))
            return (peer, $"a message in a format Sim does not accept ({First(innermost?.Message ?? text)})");
        if (text.Contains("UntrustedMode", StringComparison.OrdinalIgnoreCase) || text.Contains("untrusted", StringComparison.OrdinalIgnoreCase))
            return (peer, $"a selection of an actor that is not open to others ({First(text)})");
        return null;
    }

    private static string First(string message)
    {
        var line = message.Split('\n')[0].Trim();
        return line.Length <= 160 ? line : line[..160] + "...";
    }

    // "Error caught channel [[::ffff:127.0.0.1]:36767->[::ffff:127.0.0.1]:46938](Id=...)": the peer is after the arrow.
    [GeneratedRegex(@"->(?<peer>\S+?)\]\(Id=")]
    private static partial Regex Channel();

    [GeneratedRegex(@"akka(?:\.ssl)?\.tcp://[^/\s\]]+")]
    private static partial Regex Address();
}
