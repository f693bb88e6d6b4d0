using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Sim.Testing;

/// <summary>What the launcher did: its exit code, output, and the run's summary (null if it wrote no JSON, e.g. a usage error).</summary>
public sealed record ProcessRunResult(int ExitCode, string Stdout, string Stderr, ScenarioRunSummary? Summary);

/// <summary>
/// Runs a scenario file as real processes from a test: <c>sim run FILE --json ...</c> through the launcher binary
/// (<c>SIM_LAUNCHER</c>, else <c>sim.dll</c> next to the test, which a project reference to Sim.Launcher puts there). A hard
/// timeout kills the launcher's whole process tree; every participant is the launcher's child and dies with it.
/// </summary>
public static class ProcessScenarioRunner
{
    public static async Task<ProcessRunResult> RunAsync(string scenarioFile, TimeSpan hardTimeout, string? roles = null,
        IReadOnlyDictionary<string, string>? set = null)
    {
        var folder = Directory.CreateTempSubdirectory("sim-process-run-").FullName;
        var json = Path.Combine(folder, "run.json");
        try
        {
            var info = new ProcessStartInfo(DotnetHost())
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                // Our end stays open while the launcher runs; it is closed when we go, which the launcher notices.
                RedirectStandardInput = true,
            };
            info.ArgumentList.Add(LauncherDll());
            foreach (var arg in new[] { "run", scenarioFile, "--json", json })
                info.ArgumentList.Add(arg);
            if (roles is not null)
            {
                info.ArgumentList.Add("--roles");
                info.ArgumentList.Add(roles);
            }
            foreach (var (key, value) in set ?? new Dictionary<string, string>())
            {
                info.ArgumentList.Add("--set");
                info.ArgumentList.Add($"{key}={value}");
            }
            using var process = new Process { StartInfo = info };
            var (stdout, stderr) = (new StringBuilder(), new StringBuilder());
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await process.WaitForExitAsync().WaitAsync(hardTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().ConfigureAwait(false);
                throw new TimeoutException($"sim run {scenarioFile} did not end within {hardTimeout}; its process tree was killed.\n{stdout}\n{stderr}");
            }
            process.WaitForExit();
            ScenarioRunSummary? summary = null;
            if (File.Exists(json))
            {
                using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(json).ConfigureAwait(false));
                summary = ScenarioRunSummary.FromJson(doc.RootElement);
            }
            lock (stdout)
                lock (stderr)
                    return new ProcessRunResult(process.ExitCode, stdout.ToString(), stderr.ToString(), summary);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string LauncherDll()
    {
        var path = Environment.GetEnvironmentVariable("SIM_LAUNCHER") is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(AppContext.BaseDirectory, "sim.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"the sim launcher is not at {path}: reference src/Sim.Launcher from the test project (with <BundleSimNode>true</BundleSimNode>) or set SIM_LAUNCHER");
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
}
