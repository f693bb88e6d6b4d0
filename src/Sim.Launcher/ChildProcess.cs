using System.Diagnostics;

namespace Sim.Launcher;

/// <summary>How a child process ended: its exit code (null when it was ended for taking too long), its output, how long it took.</summary>
public sealed record ChildResult(int? ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
{
    public bool TimedOut => ExitCode is null;

    /// <summary>Why it failed, in one line: the last line it wrote to stderr, else to stdout.</summary>
    public string Reason
    {
        get
        {
            var line = LastLine(Stderr) ?? LastLine(Stdout) ?? "no output";
            return line.StartsWith("sim: ", StringComparison.Ordinal) ? line[5..] : line;
        }
    }

    public static string? LastLine(string text) =>
        text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
}

/// <summary>Runs a child process to its end with its output captured, a time limit, and a clean end when cancelled.</summary>
public static class ChildProcess
{
    private const int Sigint = 2;

    /// <summary>
    /// Runs <paramref name="info"/>. Past <paramref name="timeout"/> the child is ended (see below) and the result has no
    /// exit code. When <paramref name="cancellationToken"/> fires, the child gets SIGINT, as Ctrl-C at a terminal gives it
    /// (a <c>sim</c> child then ends and reaps its participants), up to <paramref name="grace"/> to end, then its whole
    /// tree is killed; the cancellation is rethrown.
    /// </summary>
    public static async Task<ChildResult> RunAsync(ProcessStartInfo info, TimeSpan timeout, TimeSpan grace, CancellationToken cancellationToken)
    {
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var process = Process.Start(info) ?? throw new RunFailedException($"{info.FileName} did not start");
        var clock = Stopwatch.StartNew();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        var ended = true;
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            ended = false;
            await EndAsync(process, grace).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        return new ChildResult(ended ? process.ExitCode : null, await Drain(stdout).ConfigureAwait(false), await Drain(stderr).ConfigureAwait(false),
            clock.Elapsed);
    }

    /// <summary>SIGINT, then up to <paramref name="grace"/> to end, then the whole tree killed.</summary>
    private static async Task EndAsync(Process process, TimeSpan grace)
    {
        if (process.HasExited)
            return;
        Posix.kill(process.Id, Sigint);
        try
        {
            await process.WaitForExitAsync().WaitAsync(grace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }
    }

    /// <summary>What the child wrote; a grandchild that outlived it may hold the pipe open, so the wait is bounded.</summary>
    private static async Task<string> Drain(Task<string> output)
    {
        try
        {
            return await output.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return "";
        }
    }
}
