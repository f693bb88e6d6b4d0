using System.Diagnostics;

namespace Sim.Launcher;

/// <summary>The Python <c>multiprocessing</c> references of bench/python, found next to the launcher, and how they are run.</summary>
public static class PythonProcess
{
    /// <summary>The folder of the reference scripts, copied next to the launcher by its build.</summary>
    public static string Scripts => Path.Combine(AppContext.BaseDirectory, "bench", "python");

    /// <summary>python3 on the PATH, or null.</summary>
    public static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "python3")).FirstOrDefault(File.Exists);

    /// <summary>Runs <c>python3 SCRIPT ARGS</c> from <see cref="Scripts"/>; a reference prints its figures as one JSON line, its last.</summary>
    public static Task<ChildResult> RunAsync(string python, IReadOnlyList<string> scriptAndArgs, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(python);
        info.ArgumentList.Add(Path.Combine(Scripts, scriptAndArgs[0]));
        foreach (var arg in scriptAndArgs.Skip(1))
            info.ArgumentList.Add(arg);
        // Its children get Ctrl-C too and end; the tree is killed if they do not.
        return ChildProcess.RunAsync(info, timeout, TimeSpan.FromSeconds(5), cancellationToken);
    }
}
