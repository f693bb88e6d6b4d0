using System.Globalization;
using Sim.Core.Scenarios;

namespace Sim.Launcher;

/// <summary>
/// A fault to inject: <c>--terminate NAME@SECONDS</c>, <c>--kill NAME@SECONDS</c> or <c>--pause NAME@SECONDS[:DURATION]</c>,
/// seconds after the work phase starts. NAME is a participant (<c>buyer-3</c>) or <c>holder</c>: whoever holds the
/// scenario's lock then.
/// </summary>
public sealed record Fault(FaultAction Action, string Target, double AtSeconds)
{
    public const string Holder = "holder";

    /// <summary>The lock whose holder a <c>holder</c> fault hits; null: the run's main lock.</summary>
    public string? Lock { get; init; }

    /// <summary>Due <see cref="AtSeconds"/> after the target reported its figures, rather than after the work starts.</summary>
    public bool AfterReport { get; init; }

    /// <summary>How long a pause or a partition lasts (null for the other faults).</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>The same fault in the scenario model.</summary>
    public ScenarioFault ToModel() => new(ModelAction(Action), Target, AtSeconds, Lock)
    {
        AfterReport = AfterReport,
        Duration = Duration,
    };

    /// <summary>A fault of the scenario model as the launcher injects it.</summary>
    public static Fault FromModel(ScenarioFault fault, string? holderLock) => new(fault.Action switch
    {
        ScenarioFaultAction.Kill => FaultAction.Kill,
        ScenarioFaultAction.Pause => FaultAction.Pause,
        ScenarioFaultAction.Partition => FaultAction.Partition,
        _ => FaultAction.Terminate,
    }, fault.Target, fault.AtSeconds)
    {
        Lock = fault.Target == Holder ? holderLock : null,
        AfterReport = fault.AfterReport,
        Duration = fault.Duration,
    };

    private static ScenarioFaultAction ModelAction(FaultAction action) => action switch
    {
        FaultAction.Kill => ScenarioFaultAction.Kill,
        FaultAction.Pause => ScenarioFaultAction.Pause,
        FaultAction.Partition => ScenarioFaultAction.Partition,
        _ => ScenarioFaultAction.Terminate,
    };

    public override string ToString() =>
        $"{Action.ToString().ToLowerInvariant()} {Target}@{AtSeconds.ToString(CultureInfo.InvariantCulture)}" +
        (Duration is { } d ? ":" + d.TotalSeconds.ToString(CultureInfo.InvariantCulture) : "");

    /// <summary>
    /// Parses <c>NAME@SECONDS</c> (a pause: <c>NAME@SECONDS[:DURATION]</c>); null with <paramref name="error"/> set when
    /// it is malformed.
    /// </summary>
    public static Fault? TryParse(FaultAction action, string text, out string? error)
    {
        error = null;
        var at = text.LastIndexOf('@');
        var lasts = action is FaultAction.Pause or FaultAction.Partition;
        var form = lasts ? "NAME@SECONDS[:DURATION] (e.g. holder@0.5:3)" : "NAME@SECONDS (e.g. buyer-3@1.5 or holder@0.5)";
        if (at <= 0 || at == text.Length - 1)
        {
            error = $"'{text}' is not {form}";
            return null;
        }
        var when = text[(at + 1)..];
        string? lasting = null;
        if (lasts && when.IndexOf(':') is var colon and >= 0)
            (when, lasting) = (when[..colon], when[(colon + 1)..]);
        if (!TrySeconds(when, out var value))
        {
            error = $"'{text}': '{when}' is not a number of seconds between 0 and 86400";
            return null;
        }
        TimeSpan? duration = null;
        if (lasts)
        {
            duration = ScenarioFault.DefaultPause;
            if (lasting is not null)
            {
                if (!TrySeconds(lasting, out var pause) || pause == 0)
                {
                    error = $"'{text}': '{lasting}' is not a duration of more than 0 and up to 86400 seconds";
                    return null;
                }
                duration = TimeSpan.FromSeconds(pause);
            }
        }
        return new Fault(action, text[..at], value) { Duration = duration };
    }

    private static bool TrySeconds(string text, out double seconds) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) && seconds is >= 0 and <= 86_400;
}

public enum FaultAction
{
    Terminate,
    Kill,
    Pause,
    Partition,
}

/// <summary>What a fault did: whom it hit, when, and whether there was anyone to hit.</summary>
public sealed record FaultOutcome(Fault Fault, string? Name, int? Pid, double? AtSeconds, DateTimeOffset? SignalledAt, string? Note);
