using System.Runtime.InteropServices;

namespace Sim.Launcher;

/// <summary>
/// Folders that are this user's alone: Sim's files (default ticket files: <c>$XDG_RUNTIME_DIR/sim</c> when the
/// session has one, else <c>/tmp/sim-UID</c>) and the warm pool's socket folder. A missing folder is created 0700; an
/// existing one is used only if lstat says it is a real folder (not a symbolic link), owned by this user, mode 0700.
/// Sim never chmods a folder it did not create: one in a shared place that fails the check is an error to report.
/// </summary>
public static class UserFolder
{
    private const uint OwnerOnly = 0b111_000_000;

    /// <summary>Where Sim's own files go by default.</summary>
    public static string Root =>
        OperatingSystem.IsWindows()
            ? Path.Combine(Path.GetTempPath(), "sim")
            : Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime && Path.IsPathRooted(runtime)
                ? Path.Combine(runtime, "sim")
                : Path.Combine(Path.GetTempPath(), $"sim-{Posix.getuid()}");

    /// <summary><see cref="Root"/>, created or checked; throws <see cref="UsageException"/> naming the folder if unsafe.</summary>
    public static string Ensure()
    {
        CheckPrivate(Root, create: true, "folder");
        return Root;
    }

    /// <summary>
    /// Checks that <paramref name="folder"/> is private to this user. With <paramref name="create"/>, a missing folder is
    /// made 0700 (its parent must exist). False when it is missing and not to be created; a folder that fails the check
    /// is a <see cref="UsageException"/> naming it as <paramref name="what"/>, followed by <paramref name="hint"/>.
    /// </summary>
    public static bool CheckPrivate(string folder, bool create, string what, string hint = "")
    {
        if (OperatingSystem.IsWindows())
        {
            if (create)
                Directory.CreateDirectory(folder);
            return Directory.Exists(folder);
        }
        var uid = Posix.getuid();
        var stat = Posix.Lstat(folder, out var errno);
        if (stat is null && errno == Posix.ENOENT)
        {
            if (!create)
                return false;
            if (Posix.mkdir(folder, OwnerOnly) != 0 && Marshal.GetLastPInvokeError() is var error && error != Posix.EEXIST)
                throw new UsageException(error == Posix.ENOENT
                    ? $"cannot create the {what} {folder}: its parent folder does not exist"
                    : $"cannot create the {what} {folder} (errno {error})");
            stat = Posix.Lstat(folder, out errno);
        }
        if (stat is not { } found)
            throw new UsageException($"cannot check the {what} {folder} (errno {errno})");
        var problem = (found.Mode & Posix.S_IFMT) switch
        {
            Posix.S_IFLNK => "is a symlink",
            Posix.S_IFDIR when found.Uid != uid => $"belongs to uid {found.Uid}",
            Posix.S_IFDIR when (found.Mode & 0xFFF) != OwnerOnly => $"has mode {Convert.ToString(found.Mode & 0xFFF, 8).PadLeft(4, '0')}",
            Posix.S_IFDIR => null,
            _ => "is not a folder",
        };
        if (problem is not null)
            throw new UsageException($"the {what} {folder} {problem}: it must be a folder of your own (uid {uid}) with mode 0700{hint}");
        return true;
    }
}
