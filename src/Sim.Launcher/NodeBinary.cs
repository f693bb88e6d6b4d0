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

    public SimProcess Create(string name, string role, IEnumerable<string> arguments)
    {
        var process = new SimProcess(name, role, FileName, PrefixArguments.Concat(arguments), PrefixArguments.Count);
        foreach (var (variable, value) in RuntimeEnvironment)
            process.SetEnvironment(variable, value);
        return process;
    }

    /// <summary>
    /// .NET settings every node started here gets on top of its runtimeconfig (src/Sim.Node/NodeRuntime.props, tiered
    /// compilation off): tiered compilation on without call counting. The precompiled code runs as with it off; a method
    /// without precompiled code gets the quick JIT's code instead of a fully optimised compile, and nothing is ever
    /// compiled again, so an idle node does not promote what its timers call. These settings have no runtimeconfig name.
    /// Measured against tiered compilation off, alternating rounds (README, Performance): tickets-100 cold 18.5 -> 16.9 s,
    /// 4x250 locked increments 2.03 -> 1.89 s, private memory 20.9 -> 19.3 MB per node, idle 0.3% either way, 4 cold
    /// lockers better in one sitting and within the noise in another. A run that warms up turns call counting back on
    /// (ScenarioRun.SteadyState).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> RuntimeEnvironment = new Dictionary<string, string>
    {
        ["DOTNET_TieredCompilation"] = "1",
        ["DOTNET_TC_CallCounting"] = "0",
    };

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
}
