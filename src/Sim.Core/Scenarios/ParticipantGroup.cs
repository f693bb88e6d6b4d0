namespace Sim.Core.Scenarios;

/// <summary>
/// Participants that run one role: <see cref="Count"/> of them (a number or a scenario parameter's name), named by
/// <see cref="NamePattern"/> (<c>{i}</c> is the 1-based index), with parameters in which <c>{i}</c>, <c>{n}</c> (the
/// count) and <c>{PARAM}</c> (a scenario parameter) are replaced.
/// </summary>
public sealed record ParticipantGroup(string Role, string Count, string NamePattern, IReadOnlyDictionary<string, string> Parameters, bool Daemon = false)
{
    public ParticipantGroup(string role, int count, string? namePattern = null, IReadOnlyDictionary<string, string>? parameters = null, bool daemon = false)
        : this(role, count.ToString(System.Globalization.CultureInfo.InvariantCulture), namePattern ?? role + "-{i}",
            parameters ?? new Dictionary<string, string>(), daemon)
    {
    }
}

/// <summary>One participant of a run, as its shell starts it: name, role, its parameters resolved, daemon or not.</summary>
public sealed record ParticipantSpec(string Name, string Role, IReadOnlyDictionary<string, string> Parameters, bool Daemon, int Index);
