using Akka.Actor;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>Read the ticket file (no lock: the lesson's search).</summary>
public sealed record SearchTickets : ISimMessage
{
    public static readonly SearchTickets Instance = new();
}

public sealed record TicketSnapshot(int Count, long Token) : ISimMessage;

/// <summary>
/// Replace the count. <paramref name="Token"/> is the writer's fencing token; 0 means an unfenced write
/// (the no-lock run of the lesson). A token lower than the last accepted one is rejected.
/// </summary>
public sealed record WriteTickets(int Count, long Token, string Writer) : ISimMessage;

public sealed record TicketWriteAccepted(int Count, long Token) : ISimMessage;

public sealed record TicketWriteRejected(string Reason, long LastToken) : ISimMessage;

public sealed record TicketStoreFailed(string Reason) : ISimMessage;

/// <summary>Every write the store accepted, in order: tells whether a buyer killed mid-purchase had its write land.</summary>
public sealed record GetTicketWrites : ISimMessage
{
    public static readonly GetTicketWrites Instance = new();
}

/// <summary>One accepted write; part of <see cref="TicketWrites"/>.</summary>
public sealed record TicketWrite(string Writer, int Count, long Token);

public sealed record TicketWrites(IReadOnlyList<TicketWrite> All) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

/// <summary>
/// Owns the ticket file on the coordinator's machine. Each message reads or writes the real file, so the
/// store serialises single reads and writes, but not a buyer's read-then-write: that needs the lock.
/// </summary>
public sealed class TicketStore : ReceiveActor
{
    public const string Name = "ticket-store";

    public static Props Props(string path) =>
        Akka.Actor.Props.Create(() => new TicketStore(path)).WithDispatcher("akka.actor.sim-io-dispatcher");

    public TicketStore(string path)
    {
        var file = new TicketFile(path);
        var accepted = new List<TicketWrite>();
        Receive<GetTicketWrites>(_ => Sender.Tell(new TicketWrites(accepted.ToList())));
        Receive<SearchTickets>(_ => Reply(() =>
        {
            var record = file.Read();
            return new TicketSnapshot(record.Count, record.Token);
        }));
        Receive<WriteTickets>(m => Reply(() =>
        {
            if (m.Count < 0)
                return new TicketWriteRejected($"count must not be negative, got {m.Count}", file.Read().Token);
            var current = file.Read();
            if (m.Token != 0 && m.Token < current.Token)
                return new TicketWriteRejected(
                    $"stale fencing token {m.Token} from {m.Writer}: the file already accepted token {current.Token}", current.Token);
            var token = Math.Max(m.Token, current.Token);
            file.Write(new TicketRecord(m.Count, token));
            accepted.Add(new TicketWrite(m.Writer, m.Count, token));
            return new TicketWriteAccepted(m.Count, token);
        }));
    }

    private void Reply(Func<ISimMessage> work)
    {
        ISimMessage reply;
        try
        {
            reply = work();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or InvalidDataException)
        {
            reply = new TicketStoreFailed(e.Message);
        }
        Sender.Tell(reply);
    }
}

// ---- Client ---------------------------------------------------------------------------------

/// <summary>Role-side client of the <see cref="TicketStore"/>.</summary>
public sealed class TicketStoreClient(IActorRef store, string writer)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public async Task<TicketSnapshot> SearchAsync(TimeSpan? timeout = null) =>
        await store.Ask<object>(SearchTickets.Instance, timeout ?? DefaultTimeout).ConfigureAwait(false) switch
        {
            TicketSnapshot s => s,
            TicketStoreFailed f => throw new IOException($"ticket store: {f.Reason}"),
            var other => throw new InvalidOperationException($"unexpected reply to search: {other}"),
        };

    /// <summary>Writes the new count; false when the store rejected a stale token.</summary>
    public async Task<bool> WriteAsync(int count, long token, TimeSpan? timeout = null) =>
        await store.Ask<object>(new WriteTickets(count, token, writer), timeout ?? DefaultTimeout).ConfigureAwait(false) switch
        {
            TicketWriteAccepted => true,
            TicketWriteRejected => false,
            TicketStoreFailed f => throw new IOException($"ticket store: {f.Reason}"),
            var other => throw new InvalidOperationException($"unexpected reply to write: {other}"),
        };

    public override string ToString() => $"TicketStore(path={store.Path}, writer={writer})";
}
