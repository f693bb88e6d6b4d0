using Spectre.Console;

namespace Sim.Launcher;

/// <summary>The console the launcher prints to.</summary>
public static class Output
{
    /// <summary>
    /// When stdout is a file or a pipe there is no terminal width to wrap at: use a wide one so result lines
    /// stay whole for whoever reads or greps them, and drop colour codes.
    /// </summary>
    public static IAnsiConsole Console { get; } = Create();

    private static IAnsiConsole Create()
    {
        if (!System.Console.IsOutputRedirected)
            return AnsiConsole.Console;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 160;
        return console;
    }
}
