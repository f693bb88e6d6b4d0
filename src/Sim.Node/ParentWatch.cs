namespace Sim.Node;

/// <summary>
/// The launcher keeps a pipe to our stdin open for as long as it lives; the kernel closes it however the
/// launcher dies (even SIGKILL). End-of-file therefore means the parent is gone.
/// </summary>
public static class ParentWatch
{
    public static void OnStdinClosed(Action parentGone)
    {
        var thread = new Thread(() =>
        {
            using var stdin = Console.OpenStandardInput();
            var buffer = new byte[256];
            try
            {
                while (stdin.Read(buffer, 0, buffer.Length) > 0)
                {
                    // The launcher sends nothing; whatever comes is ignored.
                }
            }
            catch (IOException)
            {
                // A broken pipe is the same news as end-of-file.
            }
            parentGone();
        })
        {
            IsBackground = true,
            Name = "parent-watch",
        };
        thread.Start();
    }
}
