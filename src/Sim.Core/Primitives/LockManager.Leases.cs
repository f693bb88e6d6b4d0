using System.Diagnostics;
using Akka.Actor;
using Akka.Event;

namespace Sim.Core;

// ---- Protocol -------------------------------------------------------------------------------

/// <summary>
/// Every grant of <paramref name="Lock"/> from now on carries a lease of <paramref name="Lease"/> (zero: none), unless its
/// request asks for one of its own. Answered with <see cref="LeaseSet"/>.
/// </summary>
public sealed record SetLease(string Lock, TimeSpan Lease) : ISimMessage;

public sealed record LeaseSet(string Lock, TimeSpan Lease) : ISimMessage;

/// <summary>
/// The holder of <paramref name="Token"/> is alive and still holds <paramref name="Lock"/>: its lease starts again.
/// Answered with <see cref="LeaseRenewed"/>, or <see cref="LeaseLost"/> when the holding already ended.
/// </summary>
public sealed record RenewLease(string Lock, long Token, string OwnerName) : IParticipantRequest
{
    string IParticipantRequest.Participant => OwnerName;
}

public sealed record LeaseRenewed(string Lock, long Token) : ISimMessage;

/// <summary>The holding of <paramref name="Token"/> has ended (its lease ran out, or it was released): it guards nothing now.</summary>
public sealed record LeaseLost(string Lock, long Token, string Reason) : ISimMessage;

/// <summary>One lease that ran out: its holder stopped renewing (paused, cut off) and the lock passed on.</summary>
public sealed record LeaseExpiry(string Lock, string OwnerName, long Token, long AtUnixMs) : ISimMessage;

public sealed record GetLeaseExpiries : ISimMessage
{
    public static readonly GetLeaseExpiries Instance = new();
}

public sealed record LeaseExpiries(IReadOnlyList<LeaseExpiry> All) : ISimMessage;

// ---- Actor ----------------------------------------------------------------------------------

/// <summary>
/// Leases: a holder that is alive but silent (a SIGSTOP, a long GC, a partition) is not seen by DeathWatch for many
/// seconds, and without a lease would keep everyone waiting. A leased grant must be renewed within its lease; one that
/// is not ends as a dead holder's does, and the next waiter gets a higher fencing token, so the stores refuse whatever
/// the old holder writes when it wakes.
/// </summary>
public sealed partial class LockManager
{
    // Local reminder to itself: look at the lease of this holding now.
    private sealed record LeaseDue(string Lock, long Token) : INoSerializationVerificationNeeded;

    /// <summary>Leases that ran out are kept, a bounded number, for the run's report and a late release's answer.</summary>
    private const int MaxExpiriesKept = 10_000;

    private readonly Dictionary<string, TimeSpan> _leases = new(StringComparer.Ordinal);
    private readonly List<LeaseExpiry> _expiries = new();

    private void ReceiveLeases()
    {
        Receive<SetLease>(m =>
        {
            var refusal = BadName(m.Lock) ?? BadLease(m.Lease);
            if (refusal is not null)
            {
                Sender.Tell(new AcquireRefused(m.Lock, 0, refusal));
                return;
            }
            if (m.Lease == TimeSpan.Zero)
                _leases.Remove(m.Lock);
            else
                _leases[m.Lock] = m.Lease;
            Sender.Tell(new LeaseSet(m.Lock, m.Lease));
        });
        Receive<RenewLease>(m =>
        {
            if (_locks.TryGetValue(m.Lock, out var named) && named.Holders.TryGetValue(m.Token, out var holder) && holder.OwnerName == m.OwnerName)
            {
                if (holder.Lease > TimeSpan.Zero)
                    holder.LeaseExpiresAt = Stopwatch.GetTimestamp() + ToTimestamp(holder.Lease);
                Sender.Tell(new LeaseRenewed(m.Lock, m.Token));
                return;
            }
            Sender.Tell(new LeaseLost(m.Lock, m.Token, WhyNotHeld(m.Lock, m.Token)));
        });
        Receive<LeaseDue>(m =>
        {
            if (!_locks.TryGetValue(m.Lock, out var named) || !named.Holders.TryGetValue(m.Token, out var holder))
                return; // released in time, or already passed on
            var left = holder.LeaseExpiresAt - Stopwatch.GetTimestamp();
            if (left > 0)
            {
                // Renewed since this reminder was set: one reminder per holding, moved along, not one per renewal.
                ScheduleLeaseCheck(m.Lock, holder, Stopwatch.GetElapsedTime(0, left));
                return;
            }
            _log.Warning("The lease of '{0}' token {1} held by {2} ran out ({3} ms without renewal): the lock passes on",
                m.Lock, holder.Token, holder.OwnerName, holder.Lease.TotalMilliseconds);
            if (_expiries.Count < MaxExpiriesKept)
                _expiries.Add(new LeaseExpiry(m.Lock, holder.OwnerName, holder.Token, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            RemoveHolder(m.Lock, named, holder);
            // A copy of the request still on its way (its grant was lost with the link) learns the grant is gone.
            var why = WhyNotHeld(m.Lock, holder.Token);
            Finished(holder.OwnerName, holder.RequestIds, id => new AcquireRefused(m.Lock, id, why));
        });
        Receive<GetLeaseExpiries>(_ => Sender.Tell(new LeaseExpiries(_expiries.ToList())));
    }

    private static string? BadLease(TimeSpan lease) =>
        lease < TimeSpan.Zero || lease > MaxTimeout ? $"a lease must be between 0 and {MaxTimeout}, got {lease}" : null;

    /// <summary>The lease a grant of <paramref name="request"/> carries: its own if it asks for one, else the lock's.</summary>
    private TimeSpan LeaseFor(Acquire request) =>
        request.Lease > TimeSpan.Zero ? request.Lease : _leases.GetValueOrDefault(request.Lock);

    /// <summary>Starts the lease of a new holding (if it has one).</summary>
    private void StartLease(string lockName, Holder holder)
    {
        if (holder.Lease <= TimeSpan.Zero)
            return;
        holder.LeaseExpiresAt = Stopwatch.GetTimestamp() + ToTimestamp(holder.Lease);
        ScheduleLeaseCheck(lockName, holder, holder.Lease);
    }

    private void ScheduleLeaseCheck(string lockName, Holder holder, TimeSpan after) =>
        holder.LeaseTimer = Context.System.Scheduler.ScheduleTellOnceCancelable(after, Self, new LeaseDue(lockName, holder.Token), Self);

    /// <summary>Why <paramref name="token"/> does not hold <paramref name="lockName"/>: a lease that ran out says so.</summary>
    private string WhyNotHeld(string lockName, long token) =>
        _expiries.LastOrDefault(e => e.Token == token && e.Lock == lockName) is { } expiry
            ? $"the lease of token {token} on '{lockName}' ran out at {DateTimeOffset.FromUnixTimeMilliseconds(expiry.AtUnixMs):HH:mm:ss.fff}: the lock passed on"
            : $"token {token} does not hold '{lockName}'";

    private static long ToTimestamp(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
