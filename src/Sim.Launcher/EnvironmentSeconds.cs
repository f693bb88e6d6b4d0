using System.Globalization;

namespace Sim.Launcher;

/// <summary>
/// A duration set in seconds through an environment variable (<c>SIM_POOL_IDLE_TIMEOUT</c>, <c>SIM_POOL_ANSWER_TIMEOUT</c>):
/// unset or empty is the default; anything else must be a number of seconds in range, or it is a usage error naming the
/// variable and its value.
/// </summary>
public static class EnvironmentSeconds
{
    public static TimeSpan Read(string variable, TimeSpan fallback, double min, double max)
    {
        if (Environment.GetEnvironmentVariable(variable) is not { Length: > 0 } text)
            return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || !(seconds >= min && seconds <= max))
            throw new UsageException($"{variable} '{text}' is not a number of seconds ({min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)})");
        return TimeSpan.FromSeconds(seconds);
    }
}
