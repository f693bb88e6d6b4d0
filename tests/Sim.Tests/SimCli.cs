using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Sim.Tests;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs the real <c>sim</c> launcher as an OS process. Every run has a hard timeout after which the whole
/// process tree is killed and the test fails; no test leaves a process behind.
/// </summary>
public sealed class SimCli : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private SimCli(IEnumerable<string> args, IReadOnlyList<string>? wrapper = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "sim.dll");
        var info = new ProcessStartInfo(wrapper is { Count: > 0 } ? wrapper[0] : DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        if (wrapper is { Count: > 0 })
        {
            // e.g. `ip netns exec NS`: it execs the launcher, so the pid stays the launcher's.
            foreach (var arg in wrapper.Skip(1))
                info.ArgumentList.Add(arg);
            info.ArgumentList.Add(DotnetHost());
        }
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        _process = new Process { StartInfo = info };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public static SimCli Start(params string[] args) => new(args);

    /// <summary>Starts <c>sim ARGS</c> through <paramref name="wrapper"/> (a program that execs the rest of its arguments).</summary>
    public static SimCli StartWrapped(IReadOnlyList<string> wrapper, params string[] args) => new(args, wrapper);

    public static async Task<CliResult> RunAsync(TimeSpan hardTimeout, params string[] args)
    {
        using var cli = Start(args);
        return await cli.WaitAsync(hardTimeout);
    }

    /// <summary>
    /// Runs <c>sim ARGS</c> (which write JSON to <paramref name="jsonPath"/>), requires exit code 0, and returns
    /// the run's output with the JSON it wrote.
    /// </summary>
    public static Task<(CliResult Run, JsonElement Root)> RunOkAsync(TimeSpan hardTimeout, string jsonPath, params string[] args) =>
        RunOkWithHistoryAsync(hardTimeout, jsonPath, historyPath: null, args);

    /// <summary>
    /// As <see cref="RunOkAsync(TimeSpan, string, string[])"/>, with the run's history written to <paramref name="historyPath"/>
    /// (when given) and put into the message of a failed exit: <see cref="Failure"/> gives the same text to later asserts.
    /// </summary>
    public static async Task<(CliResult Run, JsonElement Root)> RunOkWithHistoryAsync(TimeSpan hardTimeout, string jsonPath, string? historyPath,
        params string[] args)
    {
        var run = await RunAsync(hardTimeout, historyPath is null ? args : [.. args, "--history", historyPath]);
        Assert.True(run.ExitCode == 0, Failure(run, historyPath));
        using var doc = JsonDocument.Parse(File.ReadAllText(jsonPath));
        return (run, doc.RootElement.Clone());
    }

    /// <summary>What a run printed, and its history when it wrote one: the message of a failed assert about it.</summary>
    public static string Failure(CliResult run, string? historyPath) =>
        run.Stdout + run.Stderr + (historyPath is null ? "" : $"\nhistory:\n{(File.Exists(historyPath) ? File.ReadAllText(historyPath) : "(none)")}");

    public async Task<CliResult> WaitAsync(TimeSpan hardTimeout)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(hardTimeout);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"sim {string.Join(' ', _process.StartInfo.ArgumentList.Skip(1))} did not end within {hardTimeout}; killed its tree.\n{Stdout}\n{_stderr}");
        }
        _process.WaitForExit();
        lock (_stderr)
            return new CliResult(_process.ExitCode, Stdout, _stderr.ToString());
    }

    /// <summary>Waits until the launcher has printed <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Stdout.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                Assert.Fail($"launcher did not print '{text}' within {timeout}:\n{Stdout}\n{_stderr}");
            await Task.Delay(50);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
}

/// <summary>What /proc says about processes: children, liveness, zombies.</summary>
public static class ProcFs
{
    public static IReadOnlyList<int> ChildrenOf(int parent) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ParentOf(pid) == parent)
            .ToList();

    /// <summary>True if <paramref name="pid"/> exists and is not a zombie.</summary>
    public static bool IsRunning(int pid) => State(pid) is { } s && s != 'Z' && s != 'X';

    public static char? State(int pid) => Stat(pid) is { } stat ? stat.State : null;

    public static int? ParentOf(int pid) => Stat(pid)?.Parent;

    private static (char State, int Parent)? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name may hold spaces and parentheses: fields start after the last ')'.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
