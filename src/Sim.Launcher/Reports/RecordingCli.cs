using System.CommandLine;

namespace Sim.Launcher.Reports;

/// <summary>The options every scenario command takes about its history and report: <c>--history FILE</c>, <c>--report DIR</c>, <c>--no-history</c>.</summary>
public static class RecordingCli
{
    private static readonly Option<string?> HistoryOption = new("--history")
    {
        Description = "Also write the run's history (every operation: invoke, then ok, fail or info; faults) as JSON Lines to this file",
        HelpName = "FILE",
    };

    private static readonly Option<string?> ReportOption = new("--report")
    {
        Description = "Write the run's report (timeline, message diagram, history, index.html) into this folder (default: a new folder under your own sim folder)",
        HelpName = "DIR",
    };

    private static readonly Option<bool> NoHistoryOption = new("--no-history")
    {
        Description = "Record no history (no checkers over it, no pictures): the baseline of what recording costs",
    };

    public static Command WithHistoryOptions(this Command command)
    {
        command.Options.Add(HistoryOption);
        command.Options.Add(ReportOption);
        command.Options.Add(NoHistoryOption);
        return command;
    }

    /// <summary>Reads the options (when the command has them) into <see cref="RunRecording"/> and <see cref="ScenarioRun.RecordHistory"/>.</summary>
    public static void Apply(ParseResult parsed)
    {
        if (!parsed.CommandResult.Command.Options.Contains(HistoryOption))
            return;
        var history = parsed.GetValue(HistoryOption);
        var report = parsed.GetValue(ReportOption);
        if (parsed.GetValue(NoHistoryOption))
        {
            if (history is not null || report is not null)
                throw new UsageException($"--no-history: a run that records nothing has no {(history is not null ? "--history" : "--report")}");
            ScenarioRun.RecordHistory = false;
            return;
        }
        RunRecording.HistoryPath = history is null ? null : Writable("--history", history);
        if (report is not null)
        {
            var full = Path.GetFullPath(report);
            if (File.Exists(full))
                throw new UsageException($"--report {report} is a file, not a folder");
            try
            {
                Directory.CreateDirectory(full);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--report {report}: cannot create the folder: {e.Message}");
            }
            RunRecording.ReportFolder = full;
        }
    }

    private static string Writable(string option, string path)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new UsageException($"{option} {path} is a folder, not a file");
        if (!Directory.Exists(Path.GetDirectoryName(full)))
            throw new UsageException($"{option} {path}: folder {Path.GetDirectoryName(full)} does not exist");
        return full;
    }
}
