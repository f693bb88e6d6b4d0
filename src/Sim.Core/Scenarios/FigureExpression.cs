using System.Globalization;

namespace Sim.Core.Scenarios;

/// <summary>
/// The small language of figures and checks. A value is a whole number, a name (a figure computed before, a fact such
/// as <c>tickets.remaining</c>, or a scenario parameter), or an aggregate over what the participants reported:
/// <c>sum(f)</c>, <c>min(f)</c>, <c>max(f)</c>, <c>count(f)</c> (how many reported f other than 0), <c>reported(f)</c> (how many
/// reported f at all). Values combine with <c>+ - *</c> and parentheses; a check compares two of them with
/// <c>&lt;= &lt; == != &gt;= &gt;</c>. Anything undefined (an unknown value, min of nothing) makes a check fail.
/// </summary>
public sealed class FigureExpression
{
    private static readonly string[] Comparisons = ["<=", ">=", "==", "!=", "<", ">"];
    private static readonly string[] Aggregates = ["sum", "min", "max", "count", "reported"];

    private readonly Node _left;
    private readonly Node? _right;
    private readonly List<string> _identifiers = new();

    private FigureExpression(string text, Node left, string? op, Node? right)
    {
        Text = text;
        _left = left;
        Operator = op;
        _right = right;
        Collect(left);
        if (right is not null)
            Collect(right);
    }

    public string Text { get; }
    public string? Operator { get; }
    public bool IsComparison => Operator is not null;

    /// <summary>The names (not aggregated figures) this expression reads.</summary>
    public IReadOnlyList<string> Identifiers => _identifiers;

    public static FigureExpression Parse(string text)
    {
        var parser = new Parser(text);
        var left = parser.Sum();
        string? op = null;
        Node? right = null;
        if (parser.TryComparison(out var comparison))
        {
            op = comparison;
            right = parser.Sum();
        }
        parser.End();
        return new FigureExpression(text, left, op, right);
    }

    public long? Evaluate(ScenarioValues values) =>
        IsComparison ? throw new InvalidOperationException($"'{Text}' is a check, not a figure") : _left.Evaluate(values);

    public (long? Left, long? Right, bool Passed) Compare(ScenarioValues values)
    {
        var (left, right) = (_left.Evaluate(values), _right!.Evaluate(values));
        var passed = left is { } l && right is { } r && Operator switch
        {
            "<=" => l <= r,
            ">=" => l >= r,
            "==" => l == r,
            "!=" => l != r,
            "<" => l < r,
            _ => l > r,
        };
        return (left, right, passed);
    }

    public override string ToString() => Text;

    private void Collect(Node node)
    {
        switch (node)
        {
            case Name name:
                _identifiers.Add(name.Identifier);
                break;
            case Binary binary:
                Collect(binary.Left);
                Collect(binary.Right);
                break;
        }
    }

    private abstract record Node
    {
        public abstract long? Evaluate(ScenarioValues values);
    }

    private sealed record Number(long Value) : Node
    {
        public override long? Evaluate(ScenarioValues values) => Value;
    }

    private sealed record Name(string Identifier) : Node
    {
        public override long? Evaluate(ScenarioValues values) => values.Resolve(Identifier);
    }

    private sealed record Aggregate(string Function, string Figure) : Node
    {
        public override long? Evaluate(ScenarioValues values) => values.Aggregate(Function, Figure);
    }

    private sealed record Binary(char Op, Node Left, Node Right) : Node
    {
        public override long? Evaluate(ScenarioValues values) =>
            Left.Evaluate(values) is { } l && Right.Evaluate(values) is { } r
                ? Op switch { '+' => l + r, '-' => l - r, _ => l * r }
                : null;
    }

    /// <summary>Recursive descent over the text; every error names the expression and what was wrong.</summary>
    private sealed class Parser(string text)
    {
        private int _at;

        public Node Sum()
        {
            var node = Product();
            while (TryChar('+', '-') is { } op)
                node = new Binary(op, node, Product());
            return node;
        }

        public bool TryComparison(out string comparison)
        {
            SkipSpace();
            foreach (var candidate in Comparisons)
            {
                if (string.CompareOrdinal(text, _at, candidate, 0, candidate.Length) == 0)
                {
                    _at += candidate.Length;
                    comparison = candidate;
                    return true;
                }
            }
            comparison = "";
            return false;
        }

        public void End()
        {
            SkipSpace();
            if (_at < text.Length)
                throw Error($"unexpected '{text[_at..]}'");
        }

        private Node Product()
        {
            var node = Atom();
            while (TryChar('*') is { } op)
                node = new Binary(op, node, Atom());
            return node;
        }

        private Node Atom()
        {
            SkipSpace();
            if (_at >= text.Length)
                throw Error("a value is missing at the end");
            var c = text[_at];
            if (c == '(')
            {
                _at++;
                var inner = Sum();
                Expect(')');
                return inner;
            }
            if (char.IsAsciiDigit(c))
            {
                var start = _at;
                while (_at < text.Length && char.IsAsciiDigit(text[_at]))
                    _at++;
                return long.TryParse(text[start.._at], NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                    ? new Number(value)
                    : throw Error($"'{text[start.._at]}' is too large");
            }
            var word = Identifier();
            SkipSpace();
            if (_at < text.Length && text[_at] == '(')
            {
                if (!Aggregates.Contains(word))
                    throw Error($"unknown function '{word}' (known: {string.Join(", ", Aggregates)})");
                _at++;
                SkipSpace();
                var figure = Identifier();
                Expect(')');
                return new Aggregate(word, figure);
            }
            return new Name(word);
        }

        private string Identifier()
        {
            SkipSpace();
            var start = _at;
            while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] is '_' or '.'))
                _at++;
            if (_at == start || char.IsAsciiDigit(text[start]))
                throw Error(_at < text.Length ? $"unexpected '{text[_at..]}'" : "a name is missing at the end");
            return text[start.._at];
        }

        private char? TryChar(params char[] chars)
        {
            SkipSpace();
            if (_at < text.Length && chars.Contains(text[_at]))
                return text[_at++];
            return null;
        }

        private void Expect(char c)
        {
            if (TryChar(c) is null)
                throw Error($"'{c}' expected");
        }

        private void SkipSpace()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
                _at++;
        }

        private ScenarioException Error(string what) => new($"expression '{text}': {what}");
    }
}
