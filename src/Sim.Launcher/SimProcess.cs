using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Sim.Launcher;

/// <summary>
/// One participant OS process, with the members of Python's <c>multiprocessing.Process</c>: name, pid,
/// daemon, start, join, is_alive, terminate, kill, exitcode (negative signal number when a signal ended it).
/// The launcher waits for (reaps) every SimProcess it starts, so none is left a zombie.
/// </summary>
public sealed class SimProcess : IDisposable
{
    private const int StderrLinesKept = 20;

    private readonly ProcessStartInfo _startInfo;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Queue<string> _stderrTail = new();
    private Process? _process;
    private bool _pooled;
    // For a pooled node: why it must not be signalled now (null: it may), asked right before every signal.
    private Func<SignalCheck?>? _pooledCheck;
    // For a node an agent of the cluster started: how a signal reaches it (through its agent, which is its parent).
    private Action<int, bool>? _remoteSignal;
    private bool _daemon;
    private bool _closed;
    private int? _exitCode;

    private readonly int _prefixCount;

    public SimProcess(string name, string role, string fileName, IEnumerable<string> arguments, int prefixCount = 0)
    {
        Name = name;
        Role = role;
        _prefixCount = prefixCount;
        _startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            // Our end of the child's stdin stays open for our whole life: its end-of-file tells the child we are gone.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
            _startInfo.ArgumentList.Add(argument);
    }

    /// <summary>Sets an environment variable of the process to start (before <see cref="Start"/>).</summary>
    public void SetEnvironment(string name, string value) => _startInfo.Environment[name] = value;

    public string Name { get; }
    public string Role { get; }
    public int? Pid { get; private set; }
    public DateTimeOffset? StartedAt { get; private set; }
    public DateTimeOffset? EndedAt { get; private set; }

    /// <summary>Set before <see cref="Start"/> only, as in Python.</summary>
    public bool Daemon
    {
        get => _daemon;
        set
        {
            if (_process is not null || _pooled)
                throw new InvalidOperationException($"{Name}: daemon can only be set before start");
            _daemon = value;
        }
    }

    public bool IsAlive => (_process is not null || _pooled) && !_exited.Task.IsCompleted;

    /// <summary>Whether a warm pool's node runs this participant (the pool server is its parent and reaps it).</summary>
    public bool Pooled => _pooled && _remoteSignal is null;

    /// <summary>Whether an agent of the cluster runs this participant, on its machine (it is the parent and reaps it).</summary>
    public bool Remote => _remoteSignal is not null;

    /// <summary>The address of the machine the process runs on, as its node binds it.</summary>
    public string Host { get; internal set; } = "127.0.0.1";

    /// <summary>The agent that started the process; null for a child of this launcher.</summary>
    public string? Agent { get; private set; }

    /// <summary>
    /// Why its end is unknown (its agent became unreachable or left without reporting it): the process is treated as
    /// gone, with no exit code. Null for every process whose end was seen.
    /// </summary>
    public string? LostReason { get; private set; }

    /// <summary>What the node is told to do: its arguments after the program (and <c>--daemon</c> for a daemon).</summary>
    public IReadOnlyList<string> NodeArguments =>
        [.. _startInfo.ArgumentList.Skip(_prefixCount), .. _daemon ? ["--daemon"] : Array.Empty<string>()];

    /// <summary>Null while running (or not started); the exit code; or −N when signal N ended the process.</summary>
    public int? ExitCode => _exitCode;

    /// <summary>Completes with the exit code when the process has ended and been reaped.</summary>
    public Task<int> Exited => _exited.Task;

    public event Action<SimProcess>? OnExit;

    /// <summary>Highest resident memory seen for the process (VmHWM in /proc), in KiB; null until sampled.</summary>
    public long? PeakRssKb { get; private set; }

    /// <summary>Reads the kernel's high-water mark of the process's memory; call while it runs.</summary>
    public void SamplePeakRss()
    {
        if (!IsAlive || Remote || Pid is not { } pid)
            return;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    continue;
                var kb = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim());
                PeakRssKb = Math.Max(PeakRssKb ?? 0, kb);
                return;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // Gone in between, or a zombie without memory figures.
        }
    }

    /// <summary>Proportional set size (shared pages divided among the processes sharing them), in kB, when sampled.</summary>
    public long? PssKb { get; private set; }

    /// <summary>Pages only this process maps (its heaps, stacks, JIT code), in kB, when sampled.</summary>
    public long? PrivateKb { get; private set; }

    /// <summary>
    /// Reads what the process's memory costs the machine (/proc/PID/smaps_rollup: PSS and private pages); RSS counts
    /// every shared page of the runtime in full in every process. The kernel walks the page tables for it: ~5 ms a
    /// process here, so it is read once (at ready) and only for a sample of the processes (ScenarioRun).
    /// </summary>
    public void SampleMemoryShares()
    {
        if (!IsAlive || Remote || Pid is not { } pid)
            return;
        try
        {
            long pss = 0, priv = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
            {
                if (line.StartsWith("Pss:", StringComparison.Ordinal))
                    pss = Kb(line);
                else if (line.StartsWith("Private_Clean:", StringComparison.Ordinal) || line.StartsWith("Private_Dirty:", StringComparison.Ordinal))
                    priv += Kb(line);
            }
            (PssKb, PrivateKb) = (pss, priv);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            // Gone in between.
        }

        static long Kb(string line) => long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim().TrimEnd("kB").Trim());
    }

    /// <summary>Reads the CPU time the process has used so far into <see cref="CpuSecondsAtReady"/> (a cheap read, at ready).</summary>
    public void SampleCpuAtReady()
    {
        if (IsAlive && !Remote && Pid is { } pid && ProcStat.Read(pid) is { } stat)
            CpuSecondsAtReady = stat.CpuTicks / 100.0;
    }

    /// <summary>CPU time (user + system) the process had used when everyone was ready, in seconds: what its start cost.</summary>
    public double? CpuSecondsAtReady { get; private set; }

    /// <summary>The last lines the process wrote to stderr, for the reason it failed.</summary>
    public IReadOnlyList<string> StderrTail
    {
        get
        {
            lock (_stderrTail)
                return _stderrTail.ToList();
        }
    }

    /// <summary>
    /// Marks the process started as the warm pool's node <paramref name="pid"/> (instead of <see cref="Start"/>).
    /// It is not our child: <paramref name="check"/> says, right before each signal, whether the pid is still the
    /// pool server's node (so no signal of ours reaches a process we do not own).
    /// </summary>
    internal void AttachPooled(int pid, Func<SignalCheck?> check)
    {
        if (_process is not null || _pooled)
            throw new InvalidOperationException($"{Name}: a process can only be started once");
        _pooled = true;
        _pooledCheck = check;
        StartedAt = DateTimeOffset.UtcNow;
        Pid = pid;
    }

    /// <summary>
    /// The pool server went away before reporting this node's end: nobody can reap it for us, so its end is
    /// recorded as the node's own rule gives it (<paramref name="exitCode"/>) with <paramref name="note"/> in its stderr.
    /// </summary>
    internal void LosePooled(int exitCode, string note)
    {
        AddStderr(note);
        EndPooled(exitCode);
    }

    /// <summary>
    /// Marks the process started as pid <paramref name="pid"/> on the machine of <paramref name="agent"/> (instead of
    /// <see cref="Start"/>); its signals travel through the agent (<paramref name="signal"/>: signal, whole group).
    /// </summary>
    internal void AttachRemote(int pid, string agent, string host, Action<int, bool> signal)
    {
        if (_process is not null || _pooled)
            throw new InvalidOperationException($"{Name}: a process can only be started once");
        _remoteSignal = signal;
        _pooled = true;
        Agent = agent;
        Host = host;
        StartedAt = DateTimeOffset.UtcNow;
        Pid = pid;
    }

    /// <summary>Its agent reaped it: the exit code (−N for signal N) and the last lines of its stderr.</summary>
    internal void EndRemote(int exitCode, IEnumerable<string> stderrTail)
    {
        foreach (var line in stderrTail)
            AddStderr(line);
        EndPooled(exitCode);
    }

    /// <summary>
    /// Its end will never be reported (its agent is unreachable or gone): treated as ended now, with no exit code, so
    /// whatever it held passes on. Also for a process whose start was asked and never confirmed.
    /// </summary>
    internal void Lose(string reason)
    {
        if (_exited.Task.IsCompleted)
            return;
        AddStderr($"sim: {reason}");
        LostReason = reason;
        if (!_pooled)
            _pooled = true; // never started: it ends as lost all the same
        EndedAt = DateTimeOffset.UtcNow;
        OnExit?.Invoke(this);
        _exited.TrySetResult(-1);
    }

    /// <summary>The warm pool reports the node ended (the server reaped it) with <paramref name="exitCode"/>.</summary>
    internal void EndPooled(int exitCode)
    {
        if (!_pooled || _exited.Task.IsCompleted)
            return;
        _exitCode = exitCode;
        EndedAt = DateTimeOffset.UtcNow;
        OnExit?.Invoke(this);
        _exited.TrySetResult(exitCode);
    }

    internal void AddStderr(string line)
    {
        lock (_stderrTail)
        {
            _stderrTail.Enqueue(line);
            while (_stderrTail.Count > StderrLinesKept)
                _stderrTail.Dequeue();
        }
    }

    public void Start()
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (_process is not null || _pooled)
            throw new InvalidOperationException($"{Name}: a process can only be started once");
        // The node learns it is a daemon from its arguments: it then ends as soon as its launcher is gone.
        if (_daemon)
            _startInfo.ArgumentList.Add("--daemon");
        var process = new Process { StartInfo = _startInfo, EnableRaisingEvents = true };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                AddStderr(e.Data);
        };
        process.OutputDataReceived += (_, _) => { };
        _process = process;
        StartedAt = DateTimeOffset.UtcNow;
        process.Start();
        Pid = process.Id;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _ = WatchAsync(process);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the end; returns either way (check <see cref="ExitCode"/>).</summary>
    public bool Join(TimeSpan timeout)
    {
        EnsureStarted();
        return _exited.Task.Wait(timeout);
    }

    public async Task<bool> JoinAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        EnsureStarted();
        try
        {
            await _exited.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// SIGTERM to the process alone, as Python's terminate(): a Sim node says goodbye to the coordinator and
    /// ends (exit code −15); anything it started is left alone. Like Python, IsAlive may still be true right after.
    /// A pooled node whose pid can no longer be verified as the pool server's node is not signalled: that throws.
    /// </summary>
    public void Terminate() => Signal(Posix.SIGTERM, group: false, refusalThrows: true);

    /// <summary>SIGKILL to the process alone: it ends at once, no clean-up (exit code −9). Refusal as for <see cref="Terminate"/>.</summary>
    public void Kill() => Signal(Posix.SIGKILL, group: false, refusalThrows: true);

    /// <summary>
    /// SIGSTOP to the process alone: it stands still, as in a long GC or a stalled VM, holding whatever it holds; nothing
    /// in it runs (not even its lease renewals) until <see cref="Resume"/>. Refusal as for <see cref="Terminate"/>.
    /// </summary>
    public void Pause() => Signal(Posix.SIGSTOP, group: false, refusalThrows: true);

    /// <summary>SIGCONT: a paused process runs on from where it stood (refusal as for <see cref="Terminate"/>).</summary>
    public void Resume() => Signal(Posix.SIGCONT, group: false, refusalThrows: true);

    /// <summary>
    /// SIGTERM to the participant's whole process group, so nothing it started is left orphaned. A clean-up call:
    /// a refused pooled node is reported in its stderr tail, not thrown.
    /// </summary>
    public void TerminateTree() => Signal(Posix.SIGTERM, group: true, refusalThrows: false);

    /// <summary>SIGKILL to the participant's whole process group (refusal as for <see cref="TerminateTree"/>).</summary>
    public void KillTree() => Signal(Posix.SIGKILL, group: true, refusalThrows: false);

    /// <summary>Releases the handle; refused while the process runs, and every later call fails, as in Python.</summary>
    public void Close()
    {
        if (IsAlive)
            throw new InvalidOperationException($"{Name}: cannot close a running process");
        _closed = true;
        _process?.Dispose();
    }

    public void Dispose()
    {
        if (_closed)
            return;
        if (IsAlive)
            KillTree();
        _process?.Dispose();
    }

    public override string ToString()
    {
        var state = _process is null && !_pooled ? "initial" : IsAlive ? "started" : LostReason is not null ? "lost" : $"stopped exitcode={ExitCode}";
        var where = Remote ? $", on {Agent} at {Host}" : Pooled ? ", pooled" : "";
        return $"SimProcess(name={Name}, role={Role}, pid={Pid?.ToString() ?? "none"}, {state}{(Daemon ? ", daemon" : "")}{where})";
    }

    private void Signal(int signal, bool group, bool refusalThrows)
    {
        EnsureStarted();
        // After its end was seen, the pid may be someone else's: never signal it again.
        if (!IsAlive)
            return;
        if (_remoteSignal is not null)
        {
            _remoteSignal(signal, group);
            return;
        }
        var pid = Pid!.Value;
        if (_pooledCheck?.Invoke() is { } check)
        {
            if (check.Ended)
                return; // it ended; the pool server reports how
            var refusal = $"{Name}: not signalling pid {pid}: {check.Reason}";
            AddStderr($"sim: {refusal}");
            if (refusalThrows)
                throw new InvalidOperationException(refusal);
            return;
        }
        // A node makes itself a process group leader early in its start; before that, only the pid exists.
        if (group && Posix.kill(-pid, signal) == 0)
            return;
        if (Posix.kill(pid, signal) != 0 && Marshal.GetLastPInvokeError() != Posix.ESRCH)
            throw new InvalidOperationException($"{Name}: kill({pid}, {signal}) failed with errno {Marshal.GetLastPInvokeError()}");
    }

    private void EnsureStarted()
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        if (_process is null && !_pooled)
            throw new InvalidOperationException($"{Name}: not started");
    }

    /// <summary>
    /// Python's exitcode from .NET's: .NET reports "ended by signal N" as 128 + N, Python as −N; Sim.Node never
    /// exits with such a code by itself.
    /// </summary>
    public static int PythonExitCode(int raw) => raw is > 128 and < 128 + 65 ? -(raw - 128) : raw;

    /// <summary>
    /// Records the end once the redirected streams are drained too, so the stderr tail is complete. Awaited, not
    /// waited for: 100 children ending together must not hold 100 pool threads, which the runtime adds one by one.
    /// </summary>
    private async Task WatchAsync(Process process)
    {
        await process.WaitForExitAsync().ConfigureAwait(false);
        var raw = process.ExitCode;
        _exitCode = PythonExitCode(raw);
        EndedAt = DateTimeOffset.UtcNow;
        try
        {
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child is gone, so is the pipe.
        }
        OnExit?.Invoke(this);
        _exited.TrySetResult(_exitCode.Value);
    }
}

/// <summary>Why a pooled node must not be signalled now: it has ended, or its pid cannot be verified as the pool's node.</summary>
internal sealed record SignalCheck(bool Ended, string Reason);

/// <summary>The POSIX calls the launcher needs that .NET does not offer.</summary>
internal static class Posix
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EEXIST = 17;
    private const int WNOHANG = 1;

    [DllImport("libc", SetLastError = true)]
    public static extern int kill(int pid, int sig);

    [DllImport("libc")]
    public static extern uint getuid();

    [DllImport("libc", SetLastError = true)]
    public static extern int mkdir(string path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, string path, int flags, uint mask, byte[] buffer);

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxTypeModeUid = 0x1 | 0x2 | 0x8;

    /// <summary>
    /// lstat's owner and mode of <paramref name="path"/> (a symlink is described, not followed), or the errno. statx,
    /// not lstat, because its struct is laid out the same on every architecture.
    /// </summary>
    public static (uint Uid, uint Mode)? Lstat(string path, out int errno)
    {
        var buffer = new byte[256];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxTypeModeUid, buffer) != 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }
        errno = 0;
        // struct statx: stx_uid at byte 20 (u32), stx_mode at byte 28 (u16).
        return (BitConverter.ToUInt32(buffer, 20), BitConverter.ToUInt16(buffer, 28));
    }

    public const uint S_IFMT = 0xF000;
    public const uint S_IFDIR = 0x4000;
    public const uint S_IFLNK = 0xA000;

    [DllImport("libc", SetLastError = true)]
    private static extern int setsid();

    [DllImport("libc", SetLastError = true)]
    private static extern int open(string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int dup2(int oldfd, int newfd);

    /// <summary>
    /// For a background server: a session of its own (no terminal's Ctrl-C reaches it) and stdin, stdout,
    /// stderr on /dev/null, so it holds no pipe of the command that started it.
    /// </summary>
    public static void Detach()
    {
        setsid();
        var devNull = open("/dev/null", 2 /* O_RDWR */);
        if (devNull < 0)
            return;
        for (var fd = 0; fd <= 2; fd++)
            dup2(devNull, fd);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int waitpid(int pid, out int status, int options);

    [DllImport("libc", SetLastError = true)]
    private static extern int posix_spawnp(out int pid, string file, IntPtr fileActions, IntPtr attributes, IntPtr[] argv, IntPtr[] envp);

    /// <summary>
    /// Starts a program behind .NET's back (not through System.Diagnostics.Process, which reaps its own
    /// children): when it ends, it stays a zombie until <see cref="Reap"/> waits for it.
    /// </summary>
    public static int SpawnUnreaped(string program)
    {
        var name = Marshal.StringToHGlobalAnsi(program);
        try
        {
            var error = posix_spawnp(out var pid, program, IntPtr.Zero, IntPtr.Zero, [name, IntPtr.Zero], [IntPtr.Zero]);
            if (error != 0)
                throw new InvalidOperationException($"posix_spawnp({program}) failed with error {error}");
            return pid;
        }
        finally
        {
            Marshal.FreeHGlobal(name);
        }
    }

    /// <summary>waitpid without blocking: true once the child's exit status was collected (it is reaped).</summary>
    public static bool Reap(int pid) => waitpid(pid, out _, WNOHANG) == pid;
}
