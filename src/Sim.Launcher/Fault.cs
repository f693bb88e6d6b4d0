using System.Globalization;

namespace Sim.Launcher;

/// <summary>
/// A fault to inject: <c>--terminate NAME@SECONDS</c> or <c>--kill NAME@SECONDS</c>, seconds after the work
/// phase starts. NAME is a participant (<c>buyer-3</c>) or <c>holder</c>: whoever holds the scenario's lock then.
/// </summary>
public sealed record Fault(FaultAction Action, string Target, double AtSeconds)
{
    public const string Holder = "holder";

    /// <summary>The lock whose holder a <c>holder</c> fault hits; null: the run's main lock.</summary>
    public string? Lock { get; init; }

    /// <summary>Due <see cref="AtSeconds"/> after the target reported its figures, rather than after the work starts.</summary>
    public bool AfterReport { get; init; }

    /// <summary>The same fault in the scenario model.</summary>
    public Sim.Core.Scenarios.ScenarioFault ToModel() => new(
        Action == FaultAction.Kill ? Sim.Core.Scenarios.ScenarioFaultAction.Kill : Sim.Core.Scenarios.ScenarioFaultAction.Terminate, Target, AtSeconds, Lock)
    {
        AfterReport = AfterReport,
    };

    public override string ToString() => $"{Action.ToString().ToLowerInvariant()} {Target}@{AtSeconds.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <c>NAME@SECONDS</c>; null with <paramref name="error"/> set when it is malformed.</summary>
    public static Fault? TryParse(FaultAction action, string text, out string? error)
    {
        error = null;
        var at = text.LastIndexOf('@');
        if (at <= 0 || at == text.Length - 1)
        {
            error = $"'{text}' is not NAME@SECONDS (e.g. buyer-3@1.5 or holder@0.5)";
            return null;
        }
        var seconds = text[(at + 1)..];
        if (!double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || value > 86_400)
        {
            error = $"'{text}': '{seconds}' is not a number of seconds between 0 and 86400";
            return null;
        }
        return new Fault(action, text[..at], value);
    }
}

public enum FaultAction
{
    Terminate,
    Kill,
}

/// <summary>What a fault did: whom it hit, when, and whether there was anyone to hit.</summary>
public sealed record FaultOutcome(Fault Fault, string? Name, int? Pid, double? AtSeconds, DateTimeOffset? SignalledAt, string? Note);
