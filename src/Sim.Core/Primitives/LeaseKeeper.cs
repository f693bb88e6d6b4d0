namespace Sim.Core;

/// <summary>What a <see cref="LeaseKeeper"/> keeps alive: a lock's holdings, or a joinable queue's deliveries.</summary>
internal interface ILeaseHolder
{
    /// <summary>True while anything is held whose lease must be renewed.</summary>
    bool HoldsAnything { get; }

    /// <summary>The participant's link to the coordinator: once it ends, there is nothing to renew.</summary>
    ClientLink Link { get; }

    /// <summary>Sends the renewals of everything held, each waiting at most <paramref name="lease"/> for its answer.</summary>
    void Renew(TimeSpan lease);
}

/// <summary>
/// The client's side of a lease: while its holder holds anything leased, renews it a few times per lease. A process that
/// is paused or cut off renews nothing, so its lease runs out and what it held passes on (a lock to the next waiter, a
/// queue's items back to the queue); when it runs again, the first renewal's answer tells it what it lost.
/// </summary>
internal sealed class LeaseKeeper : IDisposable
{
    /// <summary>Renewals per lease: two may be lost or late before the lease runs out.</summary>
    private const int RenewalsPerLease = 3;

    private static readonly TimeSpan ShortestPeriod = TimeSpan.FromMilliseconds(20);

    private readonly ILeaseHolder _holder;
    private readonly Timer _timer;
    private readonly object _gate = new();
    private TimeSpan _lease;
    private bool _running;

    public LeaseKeeper(ILeaseHolder holder)
    {
        _holder = holder;
        _timer = new Timer(_ => Renew(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Something with <paramref name="lease"/> is now held: renew until nothing is held any more.</summary>
    public void Track(TimeSpan lease)
    {
        lock (_gate)
        {
            if (_running && lease >= _lease)
                return;
            _lease = _running ? TimeSpan.FromTicks(Math.Min(lease.Ticks, _lease.Ticks)) : lease;
            var period = TimeSpan.FromTicks(Math.Max(ShortestPeriod.Ticks, _lease.Ticks / RenewalsPerLease));
            _timer.Change(period, period);
            _running = true;
        }
    }

    private void Renew()
    {
        if (!_holder.HoldsAnything || _holder.Link.Ended.IsCancellationRequested)
        {
            lock (_gate)
            {
                // Stop only if nothing was taken in between (a Track after this check restarts it).
                if (!_holder.HoldsAnything || _holder.Link.Ended.IsCancellationRequested)
                {
                    _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    _running = false;
                }
            }
            return;
        }
        TimeSpan lease;
        lock (_gate)
            lease = _lease;
        _holder.Renew(lease);
    }

    public void Dispose() => _timer.Dispose();
}
