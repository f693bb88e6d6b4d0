using System.Globalization;
using System.Text.RegularExpressions;

namespace Sim.Core.Scenarios;

/// <summary>
/// A scenario as data: participant groups, the primitives it declares, faults, the checks that decide whether a run
/// was correct, and the figures and table columns its report shows. Loaded from HOCON (<see cref="ScenarioLoader"/>)
/// or built in code; run as real processes by <c>sim run</c> or in-process by Sim.Testing, with the same report.
/// </summary>
public sealed partial record Scenario
{
    public required string Name { get; init; }
    public string? Description { get; init; }

    /// <summary>The user's role library (full path), or null for Sim's own roles only.</summary>
    public string? RolesAssembly { get; init; }

    /// <summary>How long each phase (start, work) may take before the run is ended.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>What a deadlock the lock manager finds does to the run: end it at once, failed (default), or only be reported.</summary>
    public DeadlockPolicy OnDeadlock { get; init; } = DeadlockPolicy.Fail;

    /// <summary>Named values the rest refers to (<c>{seats}</c> in parameters, <c>seats</c> in counts and checks); <c>--set</c> changes them.</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<ParticipantGroup> Participants { get; init; } = [];
    public IReadOnlyList<PrimitiveDeclaration> Primitives { get; init; } = [];
    public IReadOnlyList<ScenarioFault> Faults { get; init; } = [];
    public IReadOnlyList<ScenarioCheck> Checks { get; init; } = [];
    public IReadOnlyList<ScenarioFigure> Figures { get; init; } = [];

    /// <summary>None sentinels the run puts into queues once their producers have ended.</summary>
    public IReadOnlyList<ScenarioSentinel> Sentinels { get; init; } = [];

    /// <summary>
    /// The race is the lesson (tickets or a counter without the lock): the history's checkers report the race they find
    /// without failing the run. Otherwise a failed history check fails the run like any other check.
    /// </summary>
    public bool ExpectRace { get; init; }

    /// <summary>The reported figures shown per participant in the table.</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];

    /// <summary>Facts every run records, whatever it declares.</summary>
    public static readonly IReadOnlyList<string> RunFactNames = ["participants", "reported", "faulted", "unexpected_exits", "deadlocks"];

    /// <summary>A copy with parameters changed (<c>--set key=value</c>); a name the scenario does not have is an error.</summary>
    public Scenario WithParameters(IEnumerable<KeyValuePair<string, string>> overrides)
    {
        var parameters = new Dictionary<string, string>(Parameters, StringComparer.Ordinal);
        foreach (var (key, value) in overrides)
        {
            if (!parameters.ContainsKey(key))
                throw new ScenarioException(
                    $"--set {key}: scenario '{Name}' has no parameter '{key}' (parameters: {(parameters.Count == 0 ? "none" : string.Join(", ", parameters.Keys))})");
            parameters[key] = value;
        }
        return this with { Parameters = parameters };
    }

    /// <summary>A number written in the scenario: digits, or the name of a parameter that holds digits.</summary>
    public int ResolveInt(string text, string where)
    {
        var value = Parameters.TryGetValue(text, out var fromParameter) ? fromParameter : text;
        return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) && n >= 0
            ? n
            : throw new ScenarioException($"{where}: '{text}' is not a whole number (0 or more) nor a parameter holding one");
    }

    /// <summary>Every participant, in group order: names, roles and parameters resolved.</summary>
    public IReadOnlyList<ParticipantSpec> Expand()
    {
        var specs = new List<ParticipantSpec>();
        for (var g = 0; g < Participants.Count; g++)
        {
            var group = Participants[g];
            var count = ResolveInt(group.Count, $"participants[{g}].count");
            for (var i = 1; i <= count; i++)
            {
                var name = Substitute(group.NamePattern, i, count, $"participants[{g}].name");
                var parameters = group.Parameters.ToDictionary(kv => kv.Key,
                    kv => Substitute(kv.Value, i, count, $"participants[{g}].parameters.{kv.Key}"), StringComparer.Ordinal);
                specs.Add(new ParticipantSpec(name, group.Role, parameters, group.Daemon, i));
            }
        }
        var duplicate = specs.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ScenarioException($"two participants are named '{duplicate.Key}' (give each group its own name pattern, e.g. \"buyer-{{i}}\")");
        return specs;
    }

    /// <summary>The same scenario with a lease of <paramref name="leaseMs"/> on its lock or joinable queue <paramref name="name"/>.</summary>
    public Scenario WithLease(string name, int leaseMs) => this with
    {
        Primitives = Primitives.Select(p => p.Name == name && (p.SemKind is not null || p.Kind == PrimitiveKind.JoinableQueue)
            ? p with { LeaseMs = leaseMs.ToString(System.Globalization.CultureInfo.InvariantCulture) } : p).ToList(),
    };

    /// <summary>The lock a <c>holder</c> fault refers to: its own, or the only lock the scenario declares.</summary>
    public string? HolderLock(ScenarioFault fault) =>
        fault.Lock ?? (Primitives.Where(p => p.SemKind is not null).ToList() is [var only] ? only.Name : null);

    /// <summary>
    /// Checks what can be checked before anything starts: roles exist (<paramref name="roles"/>: the names known), names
    /// and counts resolve, fault targets exist, checks and figures read only names that will have values.
    /// </summary>
    public void Validate(IReadOnlyCollection<string> roles)
    {
        for (var g = 0; g < Participants.Count; g++)
        {
            if (!roles.Contains(Participants[g].Role))
                throw new ScenarioException($"participants[{g}].role: no role '{Participants[g].Role}' (known: {string.Join(", ", roles.Order(StringComparer.Ordinal))})");
        }
        var specs = Expand();
        if (specs.Count == 0)
            throw new ScenarioException($"scenario '{Name}' has no participants");
        foreach (var primitive in Primitives)
        {
            ResolveInt(primitive.Size, $"primitives.{primitive.Name}.size");
            if (ResolveInt(primitive.LeaseMs, $"primitives.{primitive.Name}.lease-ms") is < 0 or > 86_400_000)
                throw new ScenarioException($"primitives.{primitive.Name}.lease-ms: '{primitive.LeaseMs}' is not between 0 and 86400000 ms");
        }
        var duplicatePrimitive = Primitives.GroupBy(p => (p.Kind, p.Name)).FirstOrDefault(g => g.Count() > 1);
        if (duplicatePrimitive is not null)
            throw new ScenarioException($"two {PrimitiveDeclaration.KindName(duplicatePrimitive.Key.Kind)} primitives are named '{duplicatePrimitive.Key.Name}'");
        foreach (var sentinel in Sentinels)
        {
            if (!Primitives.Any(p => p.Name == sentinel.Queue && p.Kind is PrimitiveKind.Queue or PrimitiveKind.JoinableQueue))
                throw new ScenarioException($"sentinels: no queue '{sentinel.Queue}' among the primitives");
            foreach (var role in new[] { sentinel.AfterRole, sentinel.PerRole }.Where(r => specs.All(s => s.Role != r)))
                throw new ScenarioException($"sentinels: no participant has role '{role}'");
        }
        for (var f = 0; f < Faults.Count; f++)
        {
            var fault = Faults[f];
            if (fault.Target == ScenarioFault.Holder)
            {
                if (fault.AfterReport)
                    throw new ScenarioException($"faults[{f}]: after-report needs a participant as its target, not 'holder'");
                if (HolderLock(fault) is null)
                    throw new ScenarioException($"faults[{f}]: target 'holder' needs lock = NAME (the scenario declares no single lock)");
            }
            else if (specs.All(s => s.Name != fault.Target))
                throw new ScenarioException($"faults[{f}].target: no participant named '{fault.Target}'");
        }
        var known = new HashSet<string>(Parameters.Keys, StringComparer.Ordinal);
        known.UnionWith(RunFactNames);
        known.UnionWith(Primitives.SelectMany(p => p.FactNames));
        if (Checks.OfType<ExactlyOnceCheck>().Any())
            known.UnionWith(ExactlyOnceCheck.LedgerFacts);
        foreach (var check in Checks.OfType<ExactlyOnceCheck>())
        {
            if (!Primitives.Any(p => p.Name == check.Queue && p.Kind is PrimitiveKind.Queue or PrimitiveKind.JoinableQueue))
                throw new ScenarioException($"check '{check.Name}': no queue '{check.Queue}' among the primitives");
        }
        foreach (var figure in Figures)
        {
            if (figure.Expression is { } text)
                RequireKnown(FigureExpression.Parse(text).Identifiers, known, $"figure '{figure.Name}'");
            known.Add(figure.Name);
        }
        foreach (var check in Checks)
            RequireKnown(check.Identifiers, known, $"check '{check.Name}'");
    }

    private static void RequireKnown(IEnumerable<string> names, HashSet<string> known, string where)
    {
        foreach (var name in names)
        {
            if (!known.Contains(name))
                throw new ScenarioException($"{where}: unknown name '{name}' (a parameter, figure or fact: {string.Join(", ", known.Order(StringComparer.Ordinal))})");
        }
    }

    [GeneratedRegex(@"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")]
    private static partial Regex Placeholder();

    private string Substitute(string text, int index, int count, string where) =>
        Placeholder().Replace(text, match => match.Groups[1].Value switch
        {
            "i" => index.ToString(CultureInfo.InvariantCulture),
            "n" => count.ToString(CultureInfo.InvariantCulture),
            var name when Parameters.TryGetValue(name, out var value) => value,
            var name => throw new ScenarioException($"{where}: '{{{name}}}' is neither {{i}}, {{n}} nor a parameter"),
        });
}
