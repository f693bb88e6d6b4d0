using System.Diagnostics;
using Spectre.Console;

namespace Sim.Launcher.Sweep;

/// <summary>
/// How a sweep shows where it is: at a terminal, Spectre.Console's progress bar with the run under way and the time left,
/// and a line per finished run above it; into a file or a pipe, the line per finished run only, with its count and the time left.
/// </summary>
public sealed class SweepProgress
{
    private readonly IAnsiConsole _console;
    private readonly int _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private ProgressTask? _bar;
    private int _done;

    private SweepProgress(IAnsiConsole console, int total)
    {
        _console = console;
        _total = total;
    }

    public static async Task RunAsync(IAnsiConsole console, int total, Func<SweepProgress, Task> body)
    {
        var progress = new SweepProgress(console, total);
        if (!console.Profile.Capabilities.Interactive || total == 0)
        {
            await body(progress);
            return;
        }
        await console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                progress._bar = context.AddTask("starting", maxValue: total);
                await body(progress);
            });
    }

    /// <summary>A run is starting.</summary>
    public void Starting(string what)
    {
        if (_bar is not null)
            _bar.Description = Markup.Escape($"[{_done + 1}/{_total}] {what}");
    }

    /// <summary>A run is over; <paramref name="line"/> says how it went (markup).</summary>
    public void Finished(string line)
    {
        _done++;
        if (_bar is not null)
        {
            _console.MarkupLine(line);
            _bar.Increment(1);
            return;
        }
        var left = TimeSpan.FromSeconds(_clock.Elapsed.TotalSeconds / _done * (_total - _done));
        _console.MarkupLine($"[[{_done}/{_total}]] {line}{(_done < _total ? $" [grey](about {Describe(left)} left)[/]" : "")}");
    }

    private static string Describe(TimeSpan time) =>
        time.TotalHours >= 1 ? $"{(int)time.TotalHours} h {time.Minutes} min" : time.TotalMinutes >= 1 ? $"{(int)time.TotalMinutes} min {time.Seconds} s" : $"{time.Seconds} s";
}
