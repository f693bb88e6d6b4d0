using System.Text.Json.Nodes;

namespace Sim.Launcher;

/// <summary>The machine a measurement was made on, as the bench and the sweep report it.</summary>
public static class MachineInfo
{
    public static JsonObject Describe(string? python) => new()
    {
        ["cores"] = Environment.ProcessorCount,
        ["cpu"] = CpuModel(),
        ["memory_gb"] = Math.Round(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1e9, 1),
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["dotnet"] = Environment.Version.ToString(),
        ["python"] = python,
#if DEBUG
        ["build"] = "Debug",
#else
        ["build"] = "Release",
#endif
    };

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
                   ?? "unknown cpu";
        }
        catch (IOException)
        {
            return "unknown cpu";
        }
    }
}
