using Akka.Actor;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>
/// Read the ticket file (the lesson's search needs no lock). A buyer reading under the lock passes its fencing
/// <paramref name="Token"/> (0 without one): from then on the store refuses writes with a lower token.
/// </summary>
public sealed record SearchTickets(string Reader, long Token = 0) : IParticipantRequest
{
    string IParticipantRequest.Participant => Reader;
}

public sealed record TicketSnapshot(int Count, long Token) : ISimMessage;

/// <summary>
/// Replace the count. <paramref name="Token"/> is the writer's fencing token; 0 means an unfenced write
/// (the no-lock run of the lesson). A token lower than the highest the store has seen, on a read or a write, is
/// rejected: a holder that lost its lock cannot write over what the next holder read.
/// </summary>
public sealed record WriteTickets(int Count, long Token, string Writer) : IParticipantRequest
{
    string IParticipantRequest.Participant => Writer;
}

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
/// store serialises single reads and writes, but not a buyer's read-then-write: that needs the lock, and the
/// fencing tokens it hands out make the store refuse the write of a holder that has lost it.
/// </summary>
public sealed class TicketStore : FencingActor
{
    public const string Name = "ticket-store";

    public static Props Props(string path) =>
        Akka.Actor.Props.Create(() => new TicketStore(path)).WithDispatcher("akka.actor.sim-io-dispatcher");

    public TicketStore(string path)
    {
        var file = new TicketFile(path);
        var history = History.HistoryLog.Of(Context.System);
        var accepted = new List<TicketWrite>();
        // The highest fencing token seen on any operation; the file's own last token is the floor.
        long highest = 0;
        long Highest(TicketRecord current) => highest = Math.Max(highest, current.Token);
        Receive<GetTicketWrites>(_ => Sender.Tell(new TicketWrites(accepted.ToList())));
        Receive<SearchTickets>(m => Reply(() =>
        {
            var record = file.Read();
            if (m.Token > Highest(record))
                highest = m.Token;
            history.Coordinator(m.Reader, History.HistoryOps.Tickets, History.HistoryOps.Tickets, "read", History.HistoryType.Ok, [record.Count], m.Token);
            return new TicketSnapshot(record.Count, record.Token);
        }));
        Receive<WriteTickets>(m => Reply(() =>
        {
            var current = file.Read();
            var floor = Highest(current);
            if (m.Count < 0)
                return new TicketWriteRejected($"count must not be negative, got {m.Count}", floor);
            if (m.Token < floor)
            {
                history.Coordinator(m.Writer, History.HistoryOps.Tickets, History.HistoryOps.Tickets, "write", History.HistoryType.Fail, [m.Count], m.Token,
                    $"stale token: the store has seen {floor}");
                return new TicketWriteRejected(m.Token == 0
                        ? $"unfenced write from {m.Writer}: the store has seen fencing token {floor}, so writes need the lock"
                        : $"stale fencing token {m.Token} from {m.Writer}: the store has seen token {floor}", floor);
            }
            highest = m.Token;
            var token = Math.Max(m.Token, current.Token);
            file.Write(new TicketRecord(m.Count, token));
            accepted.Add(new TicketWrite(m.Writer, m.Count, token));
            history.Coordinator(m.Writer, History.HistoryOps.Tickets, History.HistoryOps.Tickets, "write", History.HistoryType.Ok, [m.Count], m.Token);
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
public sealed class TicketStoreClient(IActorRef store, ClientLink link)
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Reads the file; under the lock, pass its handle as <paramref name="fence"/>.</summary>
    public async Task<TicketSnapshot> SearchAsync(LockHandle? fence = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await link.AskAsync(store, new SearchTickets(link.Participant, fence?.Token ?? 0), timeout ?? DefaultTimeout, cancellationToken)
                .ConfigureAwait(false) switch
        {
            TicketSnapshot s => s,
            TicketStoreFailed f => throw new IOException($"ticket store: {f.Reason}"),
            var other => throw new InvalidOperationException($"unexpected reply to search: {other}"),
        };

    /// <summary>Writes the new count; false when the store rejected a stale token.</summary>
    public async Task<bool> WriteAsync(int count, long token, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await link.AskAsync(store, new WriteTickets(count, token, link.Participant), timeout ?? DefaultTimeout, cancellationToken)
                .ConfigureAwait(false) switch
        {
            TicketWriteAccepted => true,
            TicketWriteRejected => false,
            TicketStoreFailed f => throw new IOException($"ticket store: {f.Reason}"),
            var other => throw new InvalidOperationException($"unexpected reply to write: {other}"),
        };

    public override string ToString() => $"TicketStore(path={store.Path}, writer={link.Participant})";
}
