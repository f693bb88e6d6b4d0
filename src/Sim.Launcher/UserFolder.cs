using System.Runtime.InteropServices;

namespace Sim.Launcher;

/// <summary>
/// The folder that is this user's alone for Sim's files (default ticket files): <c>$XDG_RUNTIME_DIR/sim</c> when the
/// session has one, else <c>/tmp/sim-UID</c>. It is created 0700; an existing one is used only if it is a real
/// folder (not a symbolic link), owned by this user, and closed to everyone else. Sim never chmods a folder it
/// did not create: a folder in a shared place that fails the check is an error, not something to repair.
/// </summary>
public static class UserFolder
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static string Root
    {
        get
        {
            if (OperatingSystem.IsWindows())
                return Path.Combine(Path.GetTempPath(), "sim");
            var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
            return !string.IsNullOrEmpty(runtime) && Path.IsPathRooted(runtime) && Directory.Exists(runtime)
                ? Path.Combine(runtime, "sim")
                : Path.Combine(Path.GetTempPath(), $"sim-{geteuid()}");
        }
    }

    /// <summary><see cref="Root"/>, created or checked (see the class); throws <see cref="UsageException"/> naming the folder if unsafe.</summary>
    public static string Ensure() => EnsurePrivate(Root);

    /// <summary>Creates <paramref name="folder"/> 0700, or checks that the existing one is ours and private.</summary>
    public static string EnsurePrivate(string folder)
    {
        if (OperatingSystem.IsWindows())
            return Directory.CreateDirectory(folder).FullName;
        if (!Directory.Exists(folder) && !File.Exists(folder))
        {
            try
            {
                Directory.CreateDirectory(folder, Private);
            }
            catch (IOException)
            {
                // Created meanwhile by someone else: checked below like any existing one.
            }
        }
        var info = new DirectoryInfo(folder);
        if (info.LinkTarget is not null || !info.Exists)
            throw new UsageException($"{folder} is not a plain folder (a symbolic link or a file): refusing to use it");
        if (OwnerOf(folder) is { } owner && owner != geteuid())
            throw new UsageException($"{folder} belongs to uid {owner}, not to you (uid {geteuid()}): refusing to use it");
        var mode = File.GetUnixFileMode(folder);
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                     UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
            throw new UsageException($"{folder} is open to other users (mode {Convert.ToString((int)mode, 8)}): refusing to use it");
        return info.FullName;
    }

    /// <summary>The owner's uid from lstat, where this build knows the layout of struct stat; else null.</summary>
    internal static uint? OwnerOf(string path)
    {
        if (!OperatingSystem.IsLinux())
            return null;
        // struct stat: st_uid at byte 28 on x86-64, at byte 24 on arm64 (the generic layout).
        var offset = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => 28,
            Architecture.Arm64 => 24,
            _ => -1,
        };
        if (offset < 0)
            return null;
        var buffer = new byte[256];
        if (lstat(path, buffer) != 0)
            throw new UsageException($"cannot inspect {path}: errno {Marshal.GetLastPInvokeError()}");
        return BitConverter.ToUInt32(buffer, offset);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern uint geteuid();

    [DllImport("libc", SetLastError = true)]
    private static extern int lstat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
}
