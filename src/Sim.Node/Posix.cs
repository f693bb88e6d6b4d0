using System.Runtime.InteropServices;

namespace Sim.Node;

/// <summary>The few POSIX calls a participant needs that .NET does not offer.</summary>
internal static class Posix
{
    public const int SIGTERM = 15;

    /// <summary>
    /// Makes this process the leader of a new process group, so the launcher can end it together with
    /// anything it started (kill(-pgid)), and a terminal's Ctrl-C reaches the launcher only.
    /// </summary>
    public static void BecomeProcessGroupLeader()
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            setpgid(0, 0);
    }

    /// <summary>
    /// Ends the process by <paramref name="signal"/> with its default action, so the parent sees "killed by
    /// signal N" (Python's exitcode −N), not an ordinary exit.
    /// </summary>
    public static void DieBySignal(int signal)
    {
        signal_(signal, IntPtr.Zero /* SIG_DFL */);
        kill(getpid(), signal);
        // Should the signal be blocked, exit as the shell would report it.
        Environment.Exit(128 + signal);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int setpgid(int pid, int pgid);

    [DllImport("libc", EntryPoint = "signal")]
    private static extern IntPtr signal_(int signum, IntPtr handler);

    [DllImport("libc")]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    private static extern int getpid();
}
