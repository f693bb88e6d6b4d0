namespace Sim.Core.Scenarios;

/// <summary>A scenario that cannot run as written (unknown key, bad value, unknown role): one line naming it.</summary>
public sealed class ScenarioException(string message) : Exception(message);
