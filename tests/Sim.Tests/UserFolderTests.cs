using Sim.Launcher;
using Xunit;

namespace Sim.Tests;

/// <summary>Sim's per-user folder: created private, and an existing one used only if it is really this user's and closed.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UserFolderTests : IDisposable
{
    private readonly string _parent = Directory.CreateTempSubdirectory("sim-userfolder-").FullName;

    [Fact]
    public void A_new_folder_is_created_for_the_owner_alone()
    {
        var folder = Path.Combine(_parent, "mine");
        Assert.True(UserFolder.CheckPrivate(folder, create: true, "folder"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        // Asked again, the same folder is fine as it is; a missing one not to be created is simply absent.
        Assert.True(UserFolder.CheckPrivate(folder, create: false, "folder"));
        Assert.False(UserFolder.CheckPrivate(Path.Combine(_parent, "absent"), create: false, "folder"));
    }

    [Fact]
    public void A_symbolic_link_a_folder_open_to_others_or_someone_elses_folder_is_refused_and_left_alone()
    {
        var target = Directory.CreateDirectory(Path.Combine(_parent, "target")).FullName;
        var link = Path.Combine(_parent, "link");
        Directory.CreateSymbolicLink(link, target);
        Assert.Contains("is a symlink", Assert.Throws<UsageException>(() => UserFolder.CheckPrivate(link, true, "folder")).Message);

        var open = Directory.CreateDirectory(Path.Combine(_parent, "open")).FullName;
        File.SetUnixFileMode(open, (UnixFileMode)Convert.ToInt32("777", 8));
        Assert.Contains("has mode 0777", Assert.Throws<UsageException>(() => UserFolder.CheckPrivate(open, true, "folder")).Message);
        Assert.Equal((UnixFileMode)Convert.ToInt32("777", 8), File.GetUnixFileMode(open)); // not chmod-ed

        if (Environment.UserName == "root")
        {
            // Another user's private folder (uid 65534, nobody): root could write there, but must not trust it.
            var theirs = Directory.CreateDirectory(Path.Combine(_parent, "theirs")).FullName;
            File.SetUnixFileMode(theirs, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Assert.Equal(0, Chown(theirs, 65534, 65534));
            Assert.Contains("belongs to uid 65534", Assert.Throws<UsageException>(() => UserFolder.CheckPrivate(theirs, true, "folder")).Message);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "chown")]
    private static extern int Chown(string path, int owner, int group);

    public void Dispose() => Directory.Delete(_parent, recursive: true);
}
