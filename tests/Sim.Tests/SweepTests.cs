using System.Globalization;
using Sim.Launcher.Sweep;
using Sim.Report.Sweep;
using SkiaSharp;
using Xunit;

namespace Sim.Tests;

/// <summary><c>sim sweep</c> at a tiny size: its files, its resume after an interruption, a failed run, and bad input.</summary>
[Collection(ProcessTests.Name)]
public sealed class SweepTests : IDisposable
{
    private static readonly TimeSpan HardTimeout = TimeSpan.FromMinutes(3);
    private static readonly string[] FixedColumns = ["processes", "series", "run", "ok", "exit_code", "run_s", "error"];
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-sweep-test-").FullName;

    /// <summary>2 points x 2 runs of a small scenario.</summary>
    private static string[] Counter(string dir, params string[] more) =>
        ["sweep", "counter", "--vary", "processes=1,2", "--set", "increments=3", "--runs", "2", "--out", dir, .. more];

    private static List<List<string>> Read(string csv) => File.ReadAllLines(csv).Select(Csv.Parse).ToList();

    [Fact]
    public async Task A_sweep_of_two_points_by_two_runs_next_to_Python_writes_every_file()
    {
        var dir = Path.Combine(_folder, "sweep");
        var run = await SimCli.RunAsync(HardTimeout, Counter(dir, "--compare", "python"));
        Assert.True(run.ExitCode == 0, run.Stdout + run.Stderr);

        // runs.csv: one row per run, Sim's and Python's, interleaved: run 1 of every point before any run 2.
        var runs = Read(Path.Combine(dir, "runs.csv"));
        var header = runs[0];
        Assert.Equal(FixedColumns, header.Take(FixedColumns.Length));
        Assert.Contains("timing.wall_s", header);
        Assert.Contains("increments_per_s", header);
        Assert.Contains("processes.median.peak_rss_mb", header);
        Assert.DoesNotContain(header, h => h.StartsWith("writes_by", StringComparison.Ordinal));
        var rows = runs.Skip(1).ToList();
        Assert.All(rows, r => Assert.Equal(header.Count, r.Count));
        Assert.Equal(["1 sim 1", "1 python 1", "2 sim 1", "2 python 1", "1 sim 2", "1 python 2", "2 sim 2", "2 python 2"],
            rows.Select(r => $"{r[0]} {r[1]} {r[2]}"));
        Assert.All(rows, r => Assert.Equal(("true", ""), (r[3], r[6])));
        // Every figure of the run's JSON: each counter process did its 3 increments.
        var final = header.IndexOf("final");
        Assert.Equal(["3", "6", "3", "6"], rows.Where(r => r[1] == "sim").Select(r => r[final]));

        // summary.csv: per point and figure, Sim's runs and Python's.
        var summary = Read(Path.Combine(dir, "summary.csv"));
        Assert.Equal(["processes", "figure", "median", "min", "max", "count", "failed", "python_median", "python_min", "python_max", "python_count"], summary[0]);
        var increments = summary.Where(r => r[1] == "increments_per_s").ToList();
        Assert.Equal(["1", "2"], increments.Select(r => r[0]));
        foreach (var row in increments)
        {
            var (median, min, max) = (double.Parse(row[2], CultureInfo.InvariantCulture), double.Parse(row[3], CultureInfo.InvariantCulture),
                double.Parse(row[4], CultureInfo.InvariantCulture));
            Assert.True(min > 0 && min <= median && median <= max, string.Join(",", row));
            Assert.Equal(("2", "0", "2"), (row[5], row[6], row[10]));
            Assert.True(double.Parse(row[7], CultureInfo.InvariantCulture) > 0);
        }
        Assert.Equal(2, summary.Count(r => r[1] == "timing.wall_s"));

        // A chart per headline figure, PNG and SVG.
        foreach (var figure in new[] { "increments_per_s", "timing.ready_s" })
        {
            using var bitmap = SKBitmap.Decode(Path.Combine(dir, $"{figure}.png"));
            Assert.NotNull(bitmap);
            Assert.Equal((SweepChart.Width, SweepChart.Height), (bitmap.Width, bitmap.Height));
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(dir, $"{figure}.svg")), StringComparison.Ordinal);
        }
        var report = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.Contains("sim sweep counter --vary processes=1,2", report);
        Assert.Contains("![increments_per_s", report);
        Assert.Contains("| processes | sim median |", report);
        Assert.Contains("Machine:", report);
        Assert.Contains("<img src=\"increments_per_s.png\"", File.ReadAllText(Path.Combine(dir, "index.html")));
        Assert.Equal(8, Directory.GetFiles(Path.Combine(dir, "runs"), "*.json").Length);

        // The same command again: everything is recorded, nothing runs, nothing is added.
        var again = await SimCli.RunAsync(HardTimeout, Counter(dir, "--compare", "python"));
        Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
        Assert.Contains("0 of 8 run(s) to do", again.Stdout);
        Assert.Equal(runs, Read(Path.Combine(dir, "runs.csv")));
    }

    [Fact]
    public async Task An_interrupted_sweep_keeps_its_finished_runs_and_runs_only_the_missing_ones_again()
    {
        var dir = Path.Combine(_folder, "sweep");
        var csv = Path.Combine(dir, "runs.csv");
        using (var sweep = SimCli.Start(Counter(dir)))
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (!File.Exists(csv) || File.ReadAllLines(csv).Length < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no run in runs.csv within 90 s:\n{sweep.Stdout}");
                await Task.Delay(50);
            }
            // Ctrl-C to the sweep alone (not its group): it ends the run under way itself.
            Signals.Send(sweep.Pid, Signals.SIGINT);
            var interrupted = await sweep.WaitAsync(HardTimeout);
            Assert.True(interrupted.ExitCode == 130, interrupted.Stdout + interrupted.Stderr);
            Assert.Contains("interrupted", interrupted.Stderr);
        }
        var before = File.ReadAllLines(csv);
        var done = before.Length - 1;
        Assert.InRange(done, 1, 3);
        // What is done is summed up already; the run that was ended left no JSON.
        Assert.Contains("Not done yet", File.ReadAllText(Path.Combine(dir, "report.md")));
        Assert.True(File.Exists(Path.Combine(dir, "summary.csv")));
        Assert.Equal(done, Directory.GetFiles(Path.Combine(dir, "runs"), "*.json").Length);

        var resumed = await SimCli.RunAsync(HardTimeout, Counter(dir));
        Assert.True(resumed.ExitCode == 0, resumed.Stdout + resumed.Stderr);
        Assert.Contains($"{4 - done} of 4 run(s) to do", resumed.Stdout);
        var after = File.ReadAllLines(csv);
        Assert.Equal(before, after.Take(before.Length));
        var runs = after.Skip(1).Select(Csv.Parse).Select(r => $"{r[0]} {r[1]} {r[2]}").ToList();
        Assert.Equal(["1 sim 1", "1 sim 2", "2 sim 1", "2 sim 2"], runs.Order());
        // The run that was ended is not among them as a failure: it ran again.
        Assert.All(after.Skip(1), line => Assert.Equal("true", Csv.Parse(line)[3]));
    }

    [Fact]
    public async Task A_failed_run_is_recorded_as_such_and_the_sweep_goes_on()
    {
        var dir = Path.Combine(_folder, "sweep");
        // 5 s between reading and writing, 3 s for the work: the first point's run ends as failed.
        var run = await SimCli.RunAsync(HardTimeout, "sweep", "counter", "--vary", "delay-ms=5000,0", "--set", "increments=2", "--set", "processes=1",
            "--set", "timeout=3", "--runs", "1", "--out", dir);
        Assert.True(run.ExitCode == 1, run.Stdout + run.Stderr);
        var rows = Read(Path.Combine(dir, "runs.csv"));
        Assert.Equal(["delay-ms", "series", "run", "ok", "exit_code"], rows[0].Take(5));
        Assert.Equal(["5000", "0"], rows.Skip(1).Select(r => r[0]));
        Assert.Equal(("false", "1"), (rows[1][3], rows[1][4]));
        Assert.NotEqual("", rows[1][6]);
        Assert.Contains("failed", run.Stdout);
    }

    public static TheoryData<string[], string> BadInput => new()
    {
        { ["--vary", "warp=1,2"], "warp" },
        { ["--vary", "processes=0,2"], "processes=0" },
        { ["--vary", "processes="], "no values" },
        { ["--vary", "processes=1,2", "--vary", "processes=3"], "varied twice" },
        { ["--vary", "processes=1", "--compare", "python", "--set", "atomic=true"], "--atomic" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task Bad_input_is_one_line_and_exit_code_2_before_anything_runs(string[] args, string named)
    {
        var dir = Path.Combine(_folder, "never");
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), ["sweep", "counter", "--out", dir, .. args]);
        AssertUsageError(run, named);
        Assert.False(Directory.Exists(dir), "the sweep's folder was left behind");
    }

    [Fact]
    public async Task An_unwritable_folder_is_one_line_and_exit_code_2()
    {
        var file = Path.Combine(_folder, "a-file");
        File.WriteAllText(file, "");
        var run = await SimCli.RunAsync(TimeSpan.FromMinutes(1), "sweep", "counter", "--vary", "processes=1", "--out", Path.Combine(file, "sweep"));
        AssertUsageError(run, "--out");
    }

    private static void AssertUsageError(CliResult run, string named)
    {
        Assert.True(run.ExitCode == 2, run.Stdout + run.Stderr);
        var line = Assert.Single(run.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("sim: ", line, StringComparison.Ordinal);
        Assert.Contains(named, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr); // no stack trace
        Assert.DoesNotContain("to do", run.Stdout); // no run started
    }

    /// <summary>A sweep that died while writing runs.csv left a line cut short: it is dropped, and the file stays whole.</summary>
    [Fact]
    public void A_line_cut_short_by_a_crash_is_dropped_when_the_sweep_resumes()
    {
        var csv = Path.Combine(_folder, SweepRuns.FileName);
        File.WriteAllText(csv, "processes,series,run,ok,exit_code,run_s,error,timing.wall_s\n1,sim,1,true,0,2.5,,1.25\n2,sim,1,tr");
        var runs = SweepRuns.Open(_folder, ["processes"]);
        var one = new SweepPoint(["processes"], ["1"]);
        var two = new SweepPoint(["processes"], ["2"]);
        Assert.True(runs.Has(new SweepRun(SweepPlan.Sim, one, 1, one)));
        Assert.False(runs.Has(new SweepRun(SweepPlan.Sim, two, 1, two)));
        runs.Append(new SweepRow(SweepPlan.Sim, two, 1, false, 1, 3, "exit 1: a reason, with a comma", new Dictionary<string, double> { ["timing.ready_s"] = 0.5 }));
        Assert.Equal(
            ["processes,series,run,ok,exit_code,run_s,error,timing.wall_s,timing.ready_s", "1,sim,1,true,0,2.5,,1.25,", "2,sim,1,false,1,3,\"exit 1: a reason, with a comma\",,0.5"],
            File.ReadAllLines(csv));
        Assert.Equal(2, SweepRuns.Open(_folder, ["processes"]).Rows.Count);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
