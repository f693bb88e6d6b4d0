using System.Text;
using System.Text.Json;
using Akka.Actor;
using Sim.Core;

namespace Sim.Node;

/// <summary>
/// A node of the warm pool (the forkserver idea): it boots its actor system before it has any work, says
/// <c>READY</c> on stdout, and waits for its assignment, one line on stdin holding the arguments a launcher
/// would have given it (JSON array). The pool server keeps stdin open afterwards and closes it when the
/// launcher that claimed the node is gone, so the parent watch works as for a node the launcher started.
/// </summary>
public static class WarmStart
{
    public const string Flag = "--pool";

    /// <summary>The booted system and the assigned arguments; null when the pool closed stdin before any work came.</summary>
    public static (ActorSystem System, string[] Arguments)? Boot(string host, Address? warmUp)
    {
        var system = ActorSystem.Create(SimConfig.SystemName, SimConfig.Node(host, 0));
        // A node's first association and first asks cost most of a second of type loading and set-up: paid
        // here, before the node is idle, they cost its launcher nothing.
        if (warmUp is not null && Participant.WarmUpAsync(system, warmUp, $"warm-up-{Environment.ProcessId}").GetAwaiter().GetResult() is { } failed)
            Console.Error.WriteLine($"Sim.Node: warm-up against {warmUp} failed: {failed}");
        Console.Out.WriteLine("READY");
        Console.Out.Flush();
        var line = ReadLine();
        if (string.IsNullOrWhiteSpace(line))
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(5));
            return null;
        }
        var arguments = JsonSerializer.Deserialize<string[]>(line)
            ?? throw new FormatException("the pool's assignment is not a JSON array of arguments");
        return (system, arguments);
    }

    /// <summary>One line from stdin, byte by byte: nothing beyond it is read, so the parent watch sees the rest of the stream.</summary>
    private static string? ReadLine()
    {
        using var stdin = Console.OpenStandardInput();
        var bytes = new List<byte>(512);
        var buffer = new byte[1];
        while (stdin.Read(buffer, 0, 1) == 1)
        {
            if (buffer[0] == (byte)'\n')
                return Encoding.UTF8.GetString(bytes.ToArray());
            bytes.Add(buffer[0]);
        }
        return null;
    }
}
