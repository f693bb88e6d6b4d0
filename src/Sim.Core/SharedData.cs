using System.Globalization;
using Akka.Actor;

namespace Sim.Core;

// ---- Values ---------------------------------------------------------------------------------

public enum SharedScalarKind : byte
{
    None = 0,
    Int = 1,
    Real = 2,
    Text = 3,
}

/// <summary>One value held in shared data: an integer, a real number, text, or None. Part of shared-data messages.</summary>
public sealed record SharedScalar(SharedScalarKind Kind, long Int, double Real, string Text)
{
    public static readonly SharedScalar None = new(SharedScalarKind.None, 0, 0, "");

    public static SharedScalar Of(long value) => new(SharedScalarKind.Int, value, 0, "");
    public static SharedScalar Of(double value) => new(SharedScalarKind.Real, 0, value, "");
    public static SharedScalar Of(string value) => new(SharedScalarKind.Text, 0, 0, value);

    public long AsInt() => Kind == SharedScalarKind.Int ? Int : throw new InvalidOperationException($"{this} is not an integer");

    public double AsReal() => Kind switch
    {
        SharedScalarKind.Real => Real,
        SharedScalarKind.Int => Int,
        _ => throw new InvalidOperationException($"{this} is not a number"),
    };

    public override string ToString() => Kind switch
    {
        SharedScalarKind.Int => Int.ToString(CultureInfo.InvariantCulture),
        SharedScalarKind.Real => Real.ToString("R", CultureInfo.InvariantCulture),
        SharedScalarKind.Text => $"'{Text}'",
        _ => "None",
    };
}

/// <summary>The Manager's shared object types of the lesson.</summary>
public enum SharedKind : byte
{
    /// <summary><c>manager.Value</c>: one scalar (key ignored).</summary>
    Value = 0,
    /// <summary><c>manager.Array</c>: fixed length, indexed by "0", "1", ...</summary>
    Array = 1,
    /// <summary><c>manager.list()</c>: grows with append, indexed by "0", "1", ...</summary>
    List = 2,
    /// <summary><c>manager.dict()</c>: keys to scalars.</summary>
    Dict = 3,
    /// <summary><c>manager.Namespace()</c>: attributes to scalars.</summary>
    Namespace = 4,
}

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>Create the named object if it does not exist (answered with <see cref="SharedDone"/>).</summary>
public sealed record DeclareShared(string Object, SharedKind Kind, SharedScalar Initial, int Length) : ISimMessage;

/// <summary>Read one value: the object's (Value) or the item at <paramref name="Key"/>.</summary>
public sealed record SharedGet(string Object, string Key) : ISimMessage;

/// <summary>Write one value. Nothing links a get to a later set: read-modify-write is not atomic, as in the lesson.</summary>
public sealed record SharedSet(string Object, string Key, SharedScalar Value) : ISimMessage;

/// <summary>Atomic increment: adds <paramref name="Delta"/> and answers the new value.</summary>
public sealed record SharedAdd(string Object, string Key, SharedScalar Delta) : ISimMessage;

/// <summary>Atomic compare-and-set: writes <paramref name="New"/> only if the value is still <paramref name="Expected"/>.</summary>
public sealed record SharedCompareAndSet(string Object, string Key, SharedScalar Expected, SharedScalar New) : ISimMessage;

public sealed record SharedAppend(string Object, SharedScalar Value) : ISimMessage;

/// <summary>Every key and value of the object, in order (answered with <see cref="SharedItems"/>).</summary>
public sealed record SharedSnapshot(string Object) : ISimMessage;

/// <summary>The value after the operation (for a compare-and-set: whether it swapped, and the value now).</summary>
public sealed record SharedDone(SharedScalar Value, bool Swapped) : ISimMessage;

public sealed record SharedItems(SharedKind Kind, IReadOnlyList<KeyValuePair<string, SharedScalar>> Items) : ISimMessage;

public sealed record SharedError(string Reason) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

/// <summary>
/// The lesson's Manager: named Value, Array, List, Dict and Namespace objects on the coordinator, read and
/// written from any participant. Each single operation is atomic; a sequence of them is not, so a
/// read-then-write from many processes loses updates unless the lock is held (the lesson's warning).
/// <see cref="SharedAdd"/> and <see cref="SharedCompareAndSet"/> are the atomic operations to prefer.
/// </summary>
public sealed class SharedData : ReceiveActor
{
    public const string Name = "shared-data";

    private sealed class SharedObject(SharedKind kind)
    {
        public SharedKind Kind { get; } = kind;
        public List<SharedScalar> Items { get; } = new();
        public Dictionary<string, SharedScalar> Keyed { get; } = new(StringComparer.Ordinal);
    }

    private readonly Dictionary<string, SharedObject> _objects = new(StringComparer.Ordinal);

    public static Props Props() => Akka.Actor.Props.Create(() => new SharedData());

    public SharedData()
    {
        Receive<DeclareShared>(m => Reply(() =>
        {
            if (_objects.TryGetValue(m.Object, out var existing))
                return existing.Kind == m.Kind
                    ? new SharedDone(SharedScalar.None, false)
                    : throw new InvalidOperationException($"'{m.Object}' exists as a {existing.Kind}, not a {m.Kind}");
            if (m.Length < 0 || m.Length > 10_000_000)
                throw new InvalidOperationException($"length {m.Length} is out of range");
            var created = new SharedObject(m.Kind);
            if (m.Kind == SharedKind.Value)
                created.Items.Add(m.Initial);
            else if (m.Kind is SharedKind.Array or SharedKind.List)
                created.Items.AddRange(Enumerable.Repeat(m.Initial, m.Length));
            _objects[m.Object] = created;
            return new SharedDone(SharedScalar.None, false);
        }));
        Receive<SharedGet>(m => Reply(() => new SharedDone(Read(Find(m.Object), m.Key), false)));
        Receive<SharedSet>(m => Reply(() =>
        {
            Write(Find(m.Object), m.Key, m.Value);
            return new SharedDone(m.Value, false);
        }));
        Receive<SharedAdd>(m => Reply(() =>
        {
            var target = Find(m.Object);
            var current = Read(target, m.Key, missingIsNone: true);
            var sum = (current.Kind, m.Delta.Kind) switch
            {
                (SharedScalarKind.Int or SharedScalarKind.None, SharedScalarKind.Int) => SharedScalar.Of(current.Int + m.Delta.Int),
                (SharedScalarKind.Int or SharedScalarKind.Real or SharedScalarKind.None, SharedScalarKind.Real or SharedScalarKind.Int) =>
                    SharedScalar.Of((current.Kind == SharedScalarKind.None ? 0 : current.AsReal()) + m.Delta.AsReal()),
                _ => throw new InvalidOperationException($"cannot add {m.Delta} to {current}"),
            };
            Write(target, m.Key, sum);
            return new SharedDone(sum, false);
        }));
        Receive<SharedCompareAndSet>(m => Reply(() =>
        {
            var target = Find(m.Object);
            var current = Read(target, m.Key, missingIsNone: true);
            if (current != m.Expected)
                return new SharedDone(current, false);
            Write(target, m.Key, m.New);
            return new SharedDone(m.New, true);
        }));
        Receive<SharedAppend>(m => Reply(() =>
        {
            var target = Find(m.Object);
            if (target.Kind != SharedKind.List)
                throw new InvalidOperationException($"'{m.Object}' is a {target.Kind}: only a List can grow");
            target.Items.Add(m.Value);
            return new SharedDone(SharedScalar.Of(target.Items.Count), false);
        }));
        Receive<SharedSnapshot>(m => Reply(() =>
        {
            var target = Find(m.Object);
            IReadOnlyList<KeyValuePair<string, SharedScalar>> items = target.Kind is SharedKind.Dict or SharedKind.Namespace
                ? target.Keyed.Select(kv => kv).ToList()
                : target.Items.Select((v, i) => KeyValuePair.Create(i.ToString(CultureInfo.InvariantCulture), v)).ToList();
            return new SharedItems(target.Kind, items);
        }));
    }

    private void Reply(Func<ISimMessage> operation)
    {
        ISimMessage reply;
        try
        {
            reply = operation();
        }
        catch (InvalidOperationException e)
        {
            reply = new SharedError(e.Message);
        }
        Sender.Tell(reply);
    }

    private SharedObject Find(string name) =>
        _objects.TryGetValue(name, out var found) ? found : throw new InvalidOperationException($"no shared object named '{name}'");

    private static SharedScalar Read(SharedObject target, string key, bool missingIsNone = false)
    {
        switch (target.Kind)
        {
            case SharedKind.Value:
                return target.Items[0];
            case SharedKind.Array or SharedKind.List:
                return target.Items[Index(target, key)];
            default:
                return target.Keyed.TryGetValue(key, out var value) ? value
                    : missingIsNone ? SharedScalar.None
                    : throw new InvalidOperationException($"no key '{key}'");
        }
    }

    private static void Write(SharedObject target, string key, SharedScalar value)
    {
        switch (target.Kind)
        {
            case SharedKind.Value:
                target.Items[0] = value;
                break;
            case SharedKind.Array or SharedKind.List:
                target.Items[Index(target, key)] = value;
                break;
            default:
                target.Keyed[key] = value;
                break;
        }
    }

    private static int Index(SharedObject target, string key) =>
        int.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < target.Items.Count
            ? i
            : throw new InvalidOperationException($"index '{key}' is out of range (length {target.Items.Count})");
}

// ---- Client ---------------------------------------------------------------------------------

/// <summary>
/// Role-side handle of one shared object. <see cref="GetAsync"/> and <see cref="SetAsync"/> are separate
/// messages: between them another process may write (the race the lesson warns of).
/// </summary>
public sealed class SharedObjectClient(IActorRef data, string name, SharedKind kind)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public string Name { get; } = name;
    public SharedKind Kind { get; } = kind;

    public static async Task<SharedObjectClient> DeclareAsync(IActorRef data, string name, SharedKind kind, SharedScalar? initial = null, int length = 0)
    {
        await Ask(data, new DeclareShared(name, kind, initial ?? SharedScalar.Of(0), length)).ConfigureAwait(false);
        return new SharedObjectClient(data, name, kind);
    }

    public async Task<SharedScalar> GetAsync(string key = "") => (await Ask(data, new SharedGet(Name, key)).ConfigureAwait(false)).Value;

    public async Task SetAsync(SharedScalar value, string key = "") => await Ask(data, new SharedSet(Name, key, value)).ConfigureAwait(false);

    /// <summary>Atomic: adds <paramref name="delta"/> on the coordinator and returns the new value.</summary>
    public async Task<SharedScalar> AddAsync(long delta, string key = "") =>
        (await Ask(data, new SharedAdd(Name, key, SharedScalar.Of(delta))).ConfigureAwait(false)).Value;

    /// <summary>Atomic: sets <paramref name="value"/> only if the current value is <paramref name="expected"/>; returns whether it did.</summary>
    public async Task<bool> CompareAndSetAsync(SharedScalar expected, SharedScalar value, string key = "") =>
        (await Ask(data, new SharedCompareAndSet(Name, key, expected, value)).ConfigureAwait(false)).Swapped;

    public async Task<int> AppendAsync(SharedScalar value) =>
        (int)(await Ask(data, new SharedAppend(Name, value)).ConfigureAwait(false)).Value.Int;

    public async Task<IReadOnlyList<KeyValuePair<string, SharedScalar>>> ItemsAsync() =>
        await data.Ask<object>(new SharedSnapshot(Name), Timeout).ConfigureAwait(false) switch
        {
            SharedItems items => items.Items,
            SharedError error => throw new InvalidOperationException(error.Reason),
            var other => throw new InvalidOperationException($"unexpected reply: {other}"),
        };

    public override string ToString() => $"Shared{Kind}(name={Name})";

    private static async Task<SharedDone> Ask(IActorRef data, ISimMessage message) =>
        await data.Ask<object>(message, Timeout).ConfigureAwait(false) switch
        {
            SharedDone done => done,
            SharedError error => throw new InvalidOperationException(error.Reason),
            var other => throw new InvalidOperationException($"unexpected reply: {other}"),
        };
}
