using System.Diagnostics;
using Xunit;

namespace Sim.Tests;

/// <summary>The participant program on its own: how it fails when it cannot do its job.</summary>
public sealed class NodeProgramTests
{
    private static async Task<(int ExitCode, string Stderr)> RunNodeAsync(params string[] args)
    {
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "node", "Sim.Node"))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("Sim.Node did not exit within 60 s");
        }
        return (process.ExitCode, await stderr);
    }

    [Fact]
    public async Task Unreachable_coordinator_exits_3_with_one_line_naming_it()
    {
        // Port 1 on loopback: nothing listens there.
        var (code, stderr) = await RunNodeAsync(
            "--role", "buyer", "--name", "buyer-1", "--coordinator", "akka.tcp://sim@127.0.0.1:1", "--connect-timeout-ms", "2000");
        Assert.Equal(3, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains("akka.tcp://sim@127.0.0.1:1", lines[0]);
        Assert.Contains("not reachable", lines[0]);
    }

    [Theory]
    [InlineData("unknown argument '--bogus'", "--bogus")]
    [InlineData("unknown role 'pilot'", "--role", "pilot", "--name", "x", "--coordinator", "akka.tcp://sim@127.0.0.1:1")]
    [InlineData("'nonsense' is not an actor system address", "--role", "buyer", "--name", "x", "--coordinator", "nonsense")]
    public async Task Bad_arguments_exit_2_with_one_line(string expected, params string[] args)
    {
        var (code, stderr) = await RunNodeAsync(args);
        Assert.Equal(2, code);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
    }
}
