using System.Globalization;

namespace Sim.Launcher;

/// <summary>
/// How long an idle thread-pool thread of the launcher spins for work before it sleeps, chosen per command before the
/// pool starts (it reads the setting once, at its first worker thread). A run that warms up (<c>--warmup</c>) keeps
/// .NET's 70, as its participants do (ScenarioRun.SteadyState): a busy coordinator answers sooner when it spins. Every
/// other command spins 20, as the participants do (src/Sim.Node/NodeRuntime.props): with dozens of participants on 2
/// cores the coordinator's spinning took their CPU (a third of its samples were in sched_yield during tickets-100's
/// work). Alternating rounds (README, Performance), 70 -> 20: tickets-100 cold 19.97 -> 17.45 s wall (4 of 4 pairs), on
/// the warm pool 4.09 -> 3.84 s (4 of 5), 4x250 locked increments 2.63 -> 2.47 s; warm, the same change cost the
/// uncontended acquire 161 -> 190 us and 4 lockers 3178 -> 2943 handoffs/s, hence 70 there. The raw Akka.NET baselines of
/// <c>sim bench</c> keep .NET's defaults; <c>DOTNET_ThreadPool_UnfairSemaphoreSpinLimit</c> (hex) wins over both.
/// </summary>
public static class ThreadPoolSpin
{
    public const string Setting = "System.Threading.ThreadPool.UnfairSemaphoreSpinLimit";
    public const int Crowded = 20;

    /// <summary>The same setting for a child process: from its environment it wins over its runtimeconfig.</summary>
    public const string EnvironmentVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    /// <summary>.NET's default spin limit, 70, as <see cref="EnvironmentVariable"/> takes it (hexadecimal).</summary>
    public const string DotnetDefault = "46";

    /// <summary>
    /// Sets the spin limit for the command in <paramref name="args"/>; call before anything uses the thread pool (building
    /// the command line already does), hence from the raw arguments: only <c>sim lock</c> and <c>sim pipe</c> have
    /// <c>--warmup</c>.
    /// </summary>
    public static void Choose(IReadOnlyList<string> args)
    {
        if (args.Count > 0 && args[0].StartsWith("_raw-akka", StringComparison.Ordinal) || WarmsUp(args))
            return;
        // A string: the runtime reads this setting as text or as the runtimeconfig's number, not as a boxed int.
        AppContext.SetData(Setting, Crowded.ToString(CultureInfo.InvariantCulture));
    }

    internal static bool WarmsUp(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var value = args[i] == "--warmup" && i + 1 < args.Count ? args[i + 1]
                : args[i].StartsWith("--warmup=", StringComparison.Ordinal) ? args[i]["--warmup=".Length..] : null;
            if (value is not null && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var warmup) && warmup > 0)
                return true;
        }
        return false;
    }
}
