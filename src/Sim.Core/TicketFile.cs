using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sim.Core;

/// <summary>What the ticket file holds: the lesson's <c>{"count": N}</c> plus the last accepted fencing token.</summary>
public sealed record TicketRecord(
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("token")] long Token);

/// <summary>
/// The lesson's JSON ticket file. Reads take no lock. Writes are atomic: a temp file in the same folder,
/// flushed to disk, renamed over the old one, and the folder flushed too, so a reader or a crash sees the old
/// file or the new one, never a torn one; a write whose flush fails is reported, never taken as done.
/// </summary>
public sealed class TicketFile(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    private string TempPrefix => $".{System.IO.Path.GetFileName(Path)}.";

    /// <summary>
    /// Deletes temp files that writers of this file left behind when their process died between writing and renaming
    /// (a live writer's are kept: the pid in the name says whose it is). Returns how many were removed.
    /// </summary>
    public int RemoveAbandonedTempFiles()
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        if (!Directory.Exists(directory))
            return 0;
        var removed = 0;
        foreach (var temp in Directory.EnumerateFiles(directory, TempPrefix + "*.tmp"))
        {
            // Named .{file}.{pid}.{guid}.tmp: kept while that process lives (it may be between write and rename).
            var parts = System.IO.Path.GetFileName(temp)[TempPrefix.Length..].Split('.');
            if (parts.Length == 3 && int.TryParse(parts[0], out var pid) && (pid == Environment.ProcessId || IsAlive(pid)))
                continue;
            try
            {
                File.Delete(temp);
                removed++;
            }
            catch (IOException)
            {
                // Someone else removed it first.
            }
        }
        return removed;
    }

    private static bool IsAlive(int pid) => !OperatingSystem.IsLinux() || Directory.Exists($"/proc/{pid}");

    public TicketRecord Read()
    {
        var bytes = File.ReadAllBytes(Path);
        return JsonSerializer.Deserialize<TicketRecord>(bytes)
            ?? throw new InvalidDataException($"{Path} holds no ticket record");
    }

    public void Write(TicketRecord record)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        var temp = System.IO.Path.Combine(directory, $"{TempPrefix}{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                JsonSerializer.Serialize(stream, record);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, Path, overwrite: true);
            SyncDirectory(directory);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Creates or resets the file with <paramref name="count"/> tickets and no token yet.</summary>
    public static TicketFile Create(string path, int count)
    {
        var file = new TicketFile(path);
        file.RemoveAbandonedTempFiles();
        file.Write(new TicketRecord(count, 0));
        return file;
    }

    /// <summary>Without an fsync of the folder, the rename itself may not survive a power cut: a failure is an error.</summary>
    private static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
            throw new IOException($"cannot open {directory} to flush it: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            if (fsync(fd) != 0)
                throw new IOException($"flushing {directory} to disk failed: errno {Marshal.GetLastPInvokeError()}; the write may not survive a crash");
        }
        finally
        {
            close(fd);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
