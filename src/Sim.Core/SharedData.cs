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
// Every operation names its participant (refused once it has left) and carries a fencing token: the token of the
// lock the caller holds around a read-then-write, or 0 when it holds none. An object refuses a write whose token is
// lower than the highest token it has seen on any operation, so a holder that lost its lock (terminated, paused)
// cannot write over what the next holder read. Unfenced writes (0) are refused once an object has seen a token.

/// <summary>Create the named object if it does not exist (answered with <see cref="SharedDone"/>).</summary>
public sealed record DeclareShared(string Object, SharedKind Kind, SharedScalar Initial, int Length, string Participant) : IParticipantRequest;

/// <summary>Read one value: the object's (Value) or the item at <paramref name="Key"/>.</summary>
public sealed record SharedGet(string Object, string Key, string Participant, long Token) : IParticipantRequest;

/// <summary>Write one value. Nothing links a get to a later set: read-modify-write is not atomic, as in the lesson.</summary>
public sealed record SharedSet(string Object, string Key, SharedScalar Value, string Participant, long Token) : IParticipantRequest;

/// <summary>Atomic increment: adds <paramref name="Delta"/> and answers the new value.</summary>
public sealed record SharedAdd(string Object, string Key, SharedScalar Delta, string Participant, long Token) : IParticipantRequest;

/// <summary>Atomic compare-and-set: writes <paramref name="New"/> only if the value is still <paramref name="Expected"/>.</summary>
public sealed record SharedCompareAndSet(string Object, string Key, SharedScalar Expected, SharedScalar New, string Participant, long Token)
    : IParticipantRequest;

public sealed record SharedAppend(string Object, SharedScalar Value, string Participant, long Token) : IParticipantRequest;

/// <summary>Every key and value of the object, in order (answered with <see cref="SharedItems"/>).</summary>
public sealed record SharedSnapshot(string Object, string Participant) : IParticipantRequest;

/// <summary>The value after the operation (for a compare-and-set: whether it swapped, and the value now).</summary>
public sealed record SharedDone(SharedScalar Value, bool Swapped) : ISimMessage;

public sealed record SharedItems(SharedKind Kind, IReadOnlyList<KeyValuePair<string, SharedScalar>> Items) : ISimMessage;

public sealed record SharedError(string Reason) : ISimMessage;

/// <summary>A write refused because its fencing token is lower than one the object has already seen.</summary>
public sealed record SharedStale(string Object, long Token, long Highest) : ISimMessage;

/// <summary>What the object has accepted (answered with <see cref="SharedStats"/>): the launcher's proof of lost updates.</summary>
public sealed record GetSharedStats(string Object) : ISimMessage;

/// <summary>
/// Writes the object accepted (<paramref name="WritesBy"/> per participant), stale writes it refused, and the highest
/// fencing token seen. With the lock, a counter's final value is its initial value plus the writes accepted.
/// </summary>
public sealed record SharedStats(string Object, long Writes, long StaleRefused, long HighestToken, IReadOnlyDictionary<string, long> WritesBy)
    : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

/// <summary>
/// The lesson's Manager: named Value, Array, List, Dict and Namespace objects on the coordinator, read and
/// written from any participant. Each single operation is atomic; a sequence of them is not, so a
/// read-then-write from many processes loses updates unless the lock is held (the lesson's warning).
/// <see cref="SharedAdd"/> and <see cref="SharedCompareAndSet"/> are the atomic operations to prefer.
/// Sizes are bounded (<see cref="MaxItems"/>, <see cref="MaxTextBytes"/>, <see cref="MaxObjects"/>): one participant
/// must not be able to exhaust the coordinator's memory.
/// </summary>
public sealed class SharedData : FencingActor
{
    public const string Name = "shared-data";
    public const int MaxItems = 1_000_000;
    public const int MaxTextBytes = 64 * 1024;
    public const int MaxObjects = 10_000;
    public const int MaxNameLength = 256;

    private sealed class SharedObject(SharedKind kind)
    {
        public SharedKind Kind { get; } = kind;
        public List<SharedScalar> Items { get; } = new();
        public Dictionary<string, SharedScalar> Keyed { get; } = new(StringComparer.Ordinal);
        public long HighestToken { get; set; }
        public long Writes { get; set; }
        public long StaleRefused { get; set; }
        public Dictionary<string, long> WritesBy { get; } = new(StringComparer.Ordinal);
    }

    // Thrown inside an operation to answer SharedStale instead of SharedError.
    private sealed class StaleWrite(SharedStale reply) : Exception
    {
        public SharedStale Reply { get; } = reply;
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
            if (string.IsNullOrEmpty(m.Object) || m.Object.Length > MaxNameLength)
                throw new InvalidOperationException($"a shared object's name must have 1 to {MaxNameLength} characters");
            if (!Enum.IsDefined(m.Kind))
                throw new InvalidOperationException($"unknown shared object kind {(int)m.Kind}");
            if (_objects.Count >= MaxObjects)
                throw new InvalidOperationException($"no more than {MaxObjects} shared objects");
            if (m.Length < 0 || m.Length > MaxItems)
                throw new InvalidOperationException($"length {m.Length} is out of range (0 to {MaxItems})");
            CheckScalar(m.Initial);
            var created = new SharedObject(m.Kind);
            if (m.Kind == SharedKind.Value)
                created.Items.Add(m.Initial);
            else if (m.Kind is SharedKind.Array or SharedKind.List)
                created.Items.AddRange(Enumerable.Repeat(m.Initial, m.Length));
            _objects[m.Object] = created;
            return new SharedDone(SharedScalar.None, false);
        }));
        Receive<SharedGet>(m => Reply(() =>
        {
            var target = Find(m.Object);
            SeeToken(target, m.Token);
            var value = Read(target, m.Key);
            Recorded(m.Participant, History.HistoryOps.SharedKey(m.Object, m.Key), "read", value, m.Token);
            return new SharedDone(value, false);
        }));
        Receive<SharedSet>(m => Reply(() =>
        {
            var target = Writable(m.Object, m.Token);
            CheckScalar(m.Value);
            Write(target, m.Key, m.Value);
            Count(target, m.Participant);
            Recorded(m.Participant, History.HistoryOps.SharedKey(m.Object, m.Key), "write", m.Value, m.Token);
            return new SharedDone(m.Value, false);
        }));
        Receive<SharedAdd>(m => Reply(() =>
        {
            var target = Writable(m.Object, m.Token);
            var current = Read(target, m.Key, missingIsNone: true);
            var sum = (current.Kind, m.Delta.Kind) switch
            {
                (SharedScalarKind.Int or SharedScalarKind.None, SharedScalarKind.Int) => SharedScalar.Of(current.Int + m.Delta.Int),
                (SharedScalarKind.Int or SharedScalarKind.Real or SharedScalarKind.None, SharedScalarKind.Real or SharedScalarKind.Int) =>
                    SharedScalar.Of((current.Kind == SharedScalarKind.None ? 0 : current.AsReal()) + m.Delta.AsReal()),
                _ => throw new InvalidOperationException($"cannot add {m.Delta} to {current}"),
            };
            Write(target, m.Key, sum);
            Count(target, m.Participant);
            Recorded(m.Participant, History.HistoryOps.SharedKey(m.Object, m.Key), "add", sum, m.Token);
            return new SharedDone(sum, false);
        }));
        Receive<SharedCompareAndSet>(m => Reply(() =>
        {
            var target = Writable(m.Object, m.Token);
            CheckScalar(m.New);
            var current = Read(target, m.Key, missingIsNone: true);
            if (current != m.Expected)
                return new SharedDone(current, false);
            Write(target, m.Key, m.New);
            Count(target, m.Participant);
            return new SharedDone(m.New, true);
        }));
        Receive<SharedAppend>(m => Reply(() =>
        {
            var target = Writable(m.Object, m.Token);
            if (target.Kind != SharedKind.List)
                throw new InvalidOperationException($"'{m.Object}' is a {target.Kind}: only a List can grow");
            if (target.Items.Count >= MaxItems)
                throw new InvalidOperationException($"'{m.Object}' already holds {MaxItems} items, the most a shared object may");
            CheckScalar(m.Value);
            target.Items.Add(m.Value);
            Count(target, m.Participant);
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
        Receive<GetSharedStats>(m => Reply(() =>
        {
            var target = Find(m.Object);
            return new SharedStats(m.Object, target.Writes, target.StaleRefused, target.HighestToken, target.WritesBy.ToDictionary(StringComparer.Ordinal));
        }));
    }

    private readonly History.HistoryLog _history = History.HistoryLog.Of(Context.System);

    /// <summary>Writes an operation this object carried out into the run's history, in its processing order.</summary>
    private void Recorded(string participant, string key, string f, SharedScalar value, long token) =>
        _history.Coordinator(participant, History.HistoryOps.Value, key, f, History.HistoryType.Ok,
            value.Kind == SharedScalarKind.Int ? [value.Int] : [], token);

    private void Reply(Func<ISimMessage> operation)
    {
        ISimMessage reply;
        try
        {
            reply = operation();
        }
        catch (StaleWrite stale)
        {
            reply = stale.Reply;
        }
        catch (InvalidOperationException e)
        {
            reply = new SharedError(e.Message);
        }
        Sender.Tell(reply);
    }

    private SharedObject Find(string name) =>
        _objects.TryGetValue(name, out var found) ? found : throw new InvalidOperationException($"no shared object named '{name}'");

    private static void SeeToken(SharedObject target, long token)
    {
        if (token > target.HighestToken)
            target.HighestToken = token;
    }

    /// <summary>The object, if a write with <paramref name="token"/> may change it now (see the protocol's fencing rule).</summary>
    private SharedObject Writable(string name, long token)
    {
        var target = Find(name);
        if (token < target.HighestToken)
        {
            target.StaleRefused++;
            throw new StaleWrite(new SharedStale(name, token, target.HighestToken));
        }
        SeeToken(target, token);
        return target;
    }

    private static void Count(SharedObject target, string participant)
    {
        target.Writes++;
        target.WritesBy[participant] = target.WritesBy.GetValueOrDefault(participant) + 1;
    }

    private static void CheckScalar(SharedScalar value)
    {
        if (!Enum.IsDefined(value.Kind))
            throw new InvalidOperationException($"unknown scalar kind {(int)value.Kind}");
        if (value.Text.Length > MaxTextBytes)
            throw new InvalidOperationException($"text of {value.Text.Length} characters is longer than the {MaxTextBytes} allowed");
    }

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
                if (!target.Keyed.ContainsKey(key))
                {
                    if (target.Keyed.Count >= MaxItems)
                        throw new InvalidOperationException($"no more than {MaxItems} keys in one shared object");
                    if (key.Length > MaxNameLength)
                        throw new InvalidOperationException($"a key must have at most {MaxNameLength} characters");
                }
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

/// <summary>A write refused because another participant has since taken the lock (a higher fencing token).</summary>
public sealed class StaleTokenException(string message) : InvalidOperationException(message);

/// <summary>
/// Role-side handle of one shared object. <see cref="GetAsync"/> and <see cref="SetAsync"/> are separate
/// messages: between them another process may write (the race the lesson warns of). Under a lock, pass its
/// <see cref="LockHandle"/> as <c>fence</c> to every call: the object then refuses a write from a holder that has
/// lost the lock since (<see cref="StaleTokenException"/>).
/// </summary>
public sealed class SharedObjectClient
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    private readonly IActorRef _data;
    private readonly ClientLink _link;

    private SharedObjectClient(IActorRef data, string name, SharedKind kind, ClientLink link)
    {
        _data = data;
        _link = link;
        Name = name;
        Kind = kind;
    }

    public string Name { get; }
    public SharedKind Kind { get; }

    public static async Task<SharedObjectClient> DeclareAsync(IActorRef data, ClientLink link, string name, SharedKind kind,
        SharedScalar? initial = null, int length = 0, CancellationToken cancellationToken = default)
    {
        await Ask(data, link, new DeclareShared(name, kind, initial ?? SharedScalar.Of(0), length, link.Participant), cancellationToken)
            .ConfigureAwait(false);
        return new SharedObjectClient(data, name, kind, link);
    }

    public async Task<SharedScalar> GetAsync(string key = "", LockHandle? fence = null, CancellationToken cancellationToken = default) =>
        (await Ask(_data, _link, new SharedGet(Name, key, _link.Participant, TokenOf(fence)), cancellationToken).ConfigureAwait(false)).Value;

    public async Task SetAsync(SharedScalar value, string key = "", LockHandle? fence = null, CancellationToken cancellationToken = default) =>
        await Ask(_data, _link, new SharedSet(Name, key, value, _link.Participant, TokenOf(fence)), cancellationToken).ConfigureAwait(false);

    /// <summary>Atomic: adds <paramref name="delta"/> on the coordinator and returns the new value.</summary>
    public async Task<SharedScalar> AddAsync(long delta, string key = "", LockHandle? fence = null, CancellationToken cancellationToken = default) =>
        (await Ask(_data, _link, new SharedAdd(Name, key, SharedScalar.Of(delta), _link.Participant, TokenOf(fence)), cancellationToken)
            .ConfigureAwait(false)).Value;

    /// <summary>Atomic: sets <paramref name="value"/> only if the current value is <paramref name="expected"/>; returns whether it did.</summary>
    public async Task<bool> CompareAndSetAsync(SharedScalar expected, SharedScalar value, string key = "", LockHandle? fence = null,
        CancellationToken cancellationToken = default) =>
        (await Ask(_data, _link, new SharedCompareAndSet(Name, key, expected, value, _link.Participant, TokenOf(fence)), cancellationToken)
            .ConfigureAwait(false)).Swapped;

    public async Task<int> AppendAsync(SharedScalar value, LockHandle? fence = null, CancellationToken cancellationToken = default) =>
        (int)(await Ask(_data, _link, new SharedAppend(Name, value, _link.Participant, TokenOf(fence)), cancellationToken).ConfigureAwait(false))
            .Value.Int;

    public async Task<IReadOnlyList<KeyValuePair<string, SharedScalar>>> ItemsAsync(CancellationToken cancellationToken = default) =>
        await _link.AskAsync(_data, new SharedSnapshot(Name, _link.Participant), DefaultTimeout, cancellationToken).ConfigureAwait(false) switch
        {
            SharedItems items => items.Items,
            SharedError error => throw new InvalidOperationException(error.Reason),
            var other => throw new InvalidOperationException($"unexpected reply: {other}"),
        };

    /// <summary>Writes accepted (per participant), stale writes refused, highest token seen.</summary>
    public async Task<SharedStats> StatsAsync(CancellationToken cancellationToken = default) =>
        await _link.AskAsync(_data, new GetSharedStats(Name), DefaultTimeout, cancellationToken).ConfigureAwait(false) switch
        {
            SharedStats stats => stats,
            SharedError error => throw new InvalidOperationException(error.Reason),
            var other => throw new InvalidOperationException($"unexpected reply: {other}"),
        };

    public override string ToString() => $"Shared{Kind}(name={Name}, participant={_link.Participant})";

    private static long TokenOf(LockHandle? fence) => fence?.Token ?? 0;

    private static async Task<SharedDone> Ask(IActorRef data, ClientLink link, ISimMessage message, CancellationToken cancellationToken) =>
        await link.AskAsync(data, message, DefaultTimeout, cancellationToken).ConfigureAwait(false) switch
        {
            SharedDone done => done,
            SharedStale stale => throw new StaleTokenException(
                $"write to '{stale.Object}' with fencing token {stale.Token} refused: token {stale.Highest} has been seen since"),
            SharedError error => throw new InvalidOperationException(error.Reason),
            var other => throw new InvalidOperationException($"unexpected reply: {other}"),
        };
}
