using System.Text;
using Akka.Actor;
using Sim.Core;

namespace Sim.Node;

/// <summary>
/// A node of the warm pool (the forkserver idea): it boots its actor system before it has any work, says
/// <c>READY</c> on stdout, and waits for its assignment on stdin: the arguments a launcher would have given it,
/// as their count on a line and then each followed by a NUL byte (which no argument can contain). The pool
/// server keeps stdin open afterwards and closes it when the launcher that claimed the node is gone, so the
/// parent watch works as for a node the launcher started.
/// </summary>
public static class WarmStart
{
    public const string Flag = "--pool";

    /// <summary>The booted system and the assigned arguments; null when the pool closed stdin before any work came.</summary>
    public static (ActorSystem System, string[] Arguments)? Boot(string host, Address? warmUp)
    {
        var system = SimTls.Create(SimConfig.SystemName, SimConfig.Node(host, 0));
        // A node's first association and first asks cost most of a second of type loading and set-up: paid
        // here, before the node is idle, they cost its launcher nothing.
        if (warmUp is not null && Participant.WarmUpAsync(system, warmUp, $"warm-up-{Environment.ProcessId}").GetAwaiter().GetResult() is { } failed)
            Console.Error.WriteLine($"Sim.Node: warm-up against {warmUp} failed: {failed}");
        Console.Out.WriteLine("READY");
        Console.Out.Flush();
        var arguments = ReadAssignment();
        if (arguments is null)
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(5));
            return null;
        }
        return (system, arguments);
    }

    /// <summary>
    /// The assignment, read byte by byte: nothing beyond it is consumed, so the parent watch sees the rest of the
    /// stream. Null at end-of-file (the pool stopped).
    /// </summary>
    private static string[]? ReadAssignment()
    {
        using var stdin = Console.OpenStandardInput();
        string? Until(byte end)
        {
            var bytes = new List<byte>(64);
            var buffer = new byte[1];
            while (stdin.Read(buffer, 0, 1) == 1)
            {
                if (buffer[0] == end)
                    return Encoding.UTF8.GetString(bytes.ToArray());
                bytes.Add(buffer[0]);
            }
            return null;
        }

        if (Until((byte)'\n') is not { } header)
            return null;
        if (!int.TryParse(header, out var count) || count is < 0 or > 10_000)
            throw new FormatException($"the pool's assignment starts with '{header}', not an argument count");
        var arguments = new string[count];
        for (var i = 0; i < count; i++)
            arguments[i] = Until(0) ?? throw new FormatException($"the pool's assignment ended after {i} of {count} arguments");
        return arguments;
    }
}
