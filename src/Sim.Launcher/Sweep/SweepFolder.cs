namespace Sim.Launcher.Sweep;

/// <summary>
/// The folder of a sweep (--out DIR): created if missing, written to at once to check it can be, and locked while the sweep
/// runs, so that a second sweep into it is refused rather than mixing its rows in. A folder that holds other files and no
/// sweep is refused too. Its runs folder holds each run's JSON and output.
/// </summary>
public sealed class SweepFolder : IDisposable
{
    private const string LockName = ".sweep.lock";
    private readonly FileStream _lock;
    private readonly bool _created;

    private SweepFolder(string path, FileStream lockFile, bool created)
    {
        Path = path;
        _lock = lockFile;
        _created = created;
    }

    public string Path { get; }

    public string Runs => System.IO.Path.Combine(Path, "runs");

    public static SweepFolder Open(string folder)
    {
        var full = System.IO.Path.GetFullPath(folder);
        if (File.Exists(full))
            throw new UsageException($"--out {folder} is a file, not a folder");
        var created = !Directory.Exists(full);
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--out {folder}: cannot create the folder: {e.Message}");
        }
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(System.IO.Path.Combine(full, LockName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new UsageException($"--out {folder} is not writable: {e.Message}");
        }
        catch (IOException e)
        {
            throw new UsageException($"--out {folder}: another sweep is running into this folder ({e.Message})");
        }
        var sweep = new SweepFolder(full, lockFile, created);
        var others = Directory.EnumerateFileSystemEntries(full).Select(System.IO.Path.GetFileName).Where(n => n != LockName).ToList();
        if (others.Count > 0 && !others.Contains(SweepManifest.FileName))
        {
            sweep.Dispose();
            throw new UsageException($"--out {folder} holds other files ({string.Join(", ", others.Take(3))}{(others.Count > 3 ? ", ..." : "")}) and no sweep: give a new or empty folder");
        }
        return sweep;
    }

    /// <summary>When the sweep did not start after all: the folder goes again if this sweep made it and left nothing in it.</summary>
    public void Abandon()
    {
        Dispose();
        if (!_created)
            return;
        try
        {
            File.Delete(System.IO.Path.Combine(Path, LockName));
            if (!Directory.EnumerateFileSystemEntries(Path).Any())
                Directory.Delete(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left as it is: an empty folder does no harm.
        }
    }

    public void Dispose() => _lock.Dispose();
}
