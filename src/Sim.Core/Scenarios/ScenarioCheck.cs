namespace Sim.Core.Scenarios;

/// <summary>What one check decided about a run; a history checker adds the smallest piece of history that shows a failure.</summary>
public sealed record CheckVerdict(string Name, bool Passed, string Detail, IReadOnlyList<string>? Evidence = null);

/// <summary>An invariant that decides whether a run was correct.</summary>
public abstract record ScenarioCheck(string Name)
{
    public abstract CheckVerdict Evaluate(ScenarioValues values);

    /// <summary>Names of facts, figures or parameters this check needs (checked when the scenario is loaded).</summary>
    public virtual IEnumerable<string> Identifiers => [];
}

/// <summary>A comparison such as <c>sum(bought) &lt;= tickets.initial</c> (see <see cref="FigureExpression"/>).</summary>
public sealed record ExpressionCheck : ScenarioCheck
{
    private readonly FigureExpression _expression;

    public ExpressionCheck(string text) : base(text)
    {
        _expression = FigureExpression.Parse(text);
        if (!_expression.IsComparison)
            throw new ScenarioException($"check '{text}' compares nothing (write e.g. 'sum(bought) <= tickets')");
    }

    public override IEnumerable<string> Identifiers => _expression.Identifiers;

    public override CheckVerdict Evaluate(ScenarioValues values)
    {
        var (left, right, passed) = _expression.Compare(values);
        return new CheckVerdict(Name, passed, $"{Show(left)} {_expression.Operator} {Show(right)}");
    }

    private static string Show(long? value) => value?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "undefined";
}

/// <summary>
/// Every item put into the queue was consumed exactly once (the consumers record what they processed in the ledger):
/// none missing, none that no producer put. A duplicate is excused only as a joinable queue's redelivery: a consumer
/// that a fault ended recorded items it had not yet marked done, the queue gave them to another, so there are no more
/// duplicates than redelivered items and a faulted consumer is among their consumers (at-least-once for those, said
/// so). Any other duplicate, and any loss, fails the check.
/// </summary>
public sealed record ExactlyOnceCheck(string Queue) : ScenarioCheck($"every item of {Queue} consumed exactly once")
{
    /// <summary>The facts the run records for a scenario with this check.</summary>
    public static readonly IReadOnlyList<string> LedgerFacts =
        ["ledger.consumed", "ledger.distinct", "ledger.missing", "ledger.duplicates", "ledger.unexpected", "ledger.faulted_duplicate_consumers"];

    public override IEnumerable<string> Identifiers => ["ledger.missing", "ledger.duplicates", "ledger.unexpected", "ledger.faulted_duplicate_consumers"];

    public override CheckVerdict Evaluate(ScenarioValues values)
    {
        long Fact(string name) => values.Fact(name) ?? -1;
        var (missing, duplicates, unexpected, put) = (Fact("ledger.missing"), Fact("ledger.duplicates"), Fact("ledger.unexpected"), Fact($"{Queue}.put"));
        var redelivered = Fact($"{Queue}.redelivered");
        var redelivery = duplicates > 0 && duplicates <= redelivered && Fact("ledger.faulted_duplicate_consumers") > 0;
        var passed = missing == 0 && unexpected == 0 && (duplicates == 0 || redelivery);
        var why = duplicates <= 0 ? ""
            : redelivery ? " (redelivered after a faulted consumer died before marking them done)"
            : $" (not explained by redelivery: {redelivered} redelivered)";
        return new CheckVerdict(Name, passed, $"put {put}, missing {missing}, duplicates {duplicates}{why}, unexpected {unexpected}");
    }
}

/// <summary>A check written in code, for scenarios built in code.</summary>
public sealed record CodeCheck(string CheckName, Func<ScenarioValues, (bool Passed, string Detail)> Code) : ScenarioCheck(CheckName)
{
    public override CheckVerdict Evaluate(ScenarioValues values)
    {
        var (passed, detail) = Code(values);
        return new CheckVerdict(Name, passed, detail);
    }
}
