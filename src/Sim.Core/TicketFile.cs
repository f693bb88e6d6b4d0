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
/// flushed to disk, renamed over the old one, so a reader or a crash sees the old file or the new one,
/// never a torn one.
/// </summary>
public sealed class TicketFile(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    public TicketRecord Read()
    {
        var bytes = File.ReadAllBytes(Path);
        return JsonSerializer.Deserialize<TicketRecord>(bytes)
            ?? throw new InvalidDataException($"{Path} holds no ticket record");
    }

    public void Write(TicketRecord record)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        var temp = System.IO.Path.Combine(directory,
            $".{System.IO.Path.GetFileName(Path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
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
        file.Write(new TicketRecord(count, 0));
        return file;
    }

    /// <summary>Without an fsync of the folder, the rename itself may not survive a power cut.</summary>
    private static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
            return;
        var fd = open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
            return;
        fsync(fd);
        close(fd);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}
