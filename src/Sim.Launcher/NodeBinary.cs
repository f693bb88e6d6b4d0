namespace Sim.Launcher;

/// <summary>
/// Where the Sim.Node program is: <c>SIM_NODE</c> if set, else the <c>node/</c> folder the build puts next to
/// the launcher. The launcher starts it as a program and shares no code with it beyond Sim.Core.
/// </summary>
public sealed record NodeBinary(string FileName, IReadOnlyList<string> PrefixArguments)
{
    public static NodeBinary Locate()
    {
        var configured = Environment.GetEnvironmentVariable("SIM_NODE");
        var dll = !string.IsNullOrEmpty(configured)
            ? Path.GetFullPath(configured)
            : Path.Combine(AppContext.BaseDirectory, "node", "Sim.Node.dll");
        if (dll.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(dll))
                throw new FileNotFoundException($"Sim.Node not found at {dll} (build the solution, or set SIM_NODE)");
            // The native app host starts a little faster than `dotnet x.dll`.
            var host = Path.ChangeExtension(dll, null);
            return File.Exists(host) && !OperatingSystem.IsWindows()
                ? new NodeBinary(host, [])
                : new NodeBinary(DotnetHost(), [dll]);
        }
        if (!File.Exists(dll))
            throw new FileNotFoundException($"Sim.Node not found at {dll} (SIM_NODE)");
        return new NodeBinary(dll, []);
    }

    public SimProcess Create(string name, string role, IEnumerable<string> arguments) =>
        new(name, role, FileName, PrefixArguments.Concat(arguments), PrefixArguments.Count);

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
}
