using System.Diagnostics;

namespace Sim.Launcher;

/// <summary>How to start this same launcher again, as <c>sim ARGS</c>.</summary>
public static class SelfProcess
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
            info.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        return info;
    }
}
