using Akka.Configuration;

namespace Sim.Launcher;

/// <summary>
/// A scenario as data: a HOCON file with <c>scenario = NAME</c> and that scenario's options as keys
/// (<c>producers = 3</c>, <c>no-lock = true</c>). It becomes the command line of the scenario.
/// </summary>
public static class ScenarioFile
{
    public static List<string> ToArguments(string fileOrName, IReadOnlyList<string> overrides)
    {
        var path = Resolve(fileOrName);
        Config config;
        try
        {
            config = ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception e) when (e is not UsageException)
        {
            throw new UsageException($"{fileOrName}: not valid HOCON: {e.Message.Split('\n')[0]}");
        }
        var settings = config.AsEnumerable().ToDictionary(kv => kv.Key, kv => kv.Value.GetString(), StringComparer.Ordinal);
        foreach (var pair in overrides)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0)
                throw new UsageException($"--set '{pair}' is not key=value");
            settings[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }
        if (!settings.Remove("scenario", out var scenario) || string.IsNullOrWhiteSpace(scenario))
            throw new UsageException($"{fileOrName}: no 'scenario = ...' line");
        var args = new List<string> { scenario };
        foreach (var (key, value) in settings.Where(kv => kv.Key != "description"))
        {
            if (value is "true" or "on" or "yes")
                args.Add($"--{key}");
            else if (value is not ("false" or "off" or "no"))
                args.AddRange([$"--{key}", value]);
        }
        return args;
    }

    /// <summary>True if the file is a scenario model (participants, primitives, checks) rather than a command's options.</summary>
    public static bool IsModel(string path)
    {
        try
        {
            return Sim.Core.Scenarios.ScenarioLoader.IsModel(File.ReadAllText(path));
        }
        catch (Sim.Core.Scenarios.ScenarioException)
        {
            return false; // not valid HOCON: the command-options path says so
        }
    }

    /// <summary>The file itself, or the scenario of that name next to the launcher or in hocon/scenarios.</summary>
    public static string Resolve(string fileOrName)
    {
        if (File.Exists(fileOrName))
            return fileOrName;
        foreach (var folder in new[] { Path.Combine(AppContext.BaseDirectory, "scenarios"), Path.Combine("hocon", "scenarios") })
        {
            var candidate = Path.Combine(folder, fileOrName.EndsWith(".hocon", StringComparison.Ordinal) ? fileOrName : fileOrName + ".hocon");
            if (File.Exists(candidate))
                return candidate;
        }
        throw new UsageException($"scenario file '{fileOrName}' not found");
    }
}
