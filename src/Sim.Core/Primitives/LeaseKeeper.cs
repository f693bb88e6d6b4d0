using Akka.Actor;

namespace Sim.Core;

/// <summary>
/// The client's side of a leased lock: while this participant holds permits of the lock, renews each holding a few
/// times per lease. A process that is paused or cut off renews nothing, so its lease runs out and the lock passes on;
/// when it runs again, the first renewal tells it the holding is gone (<see cref="LockHandle.IsLost"/>).
/// </summary>
internal sealed class LeaseKeeper : IDisposable
{
    /// <summary>Renewals per lease: two may be lost or late before the lease runs out.</summary>
    private const int RenewalsPerLease = 3;

    private static readonly TimeSpan ShortestPeriod = TimeSpan.FromMilliseconds(20);

    private readonly SemLock _lock;
    private readonly Timer _timer;
    private readonly object _gate = new();
    private TimeSpan _lease;
    private bool _running;

    public LeaseKeeper(SemLock semLock)
    {
        _lock = semLock;
        _timer = new Timer(_ => Renew(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>A grant with <paramref name="lease"/> arrived: renew until nothing is held any more.</summary>
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
        var tokens = _lock.HeldTokens;
        if (tokens.Count == 0 || _lock.Link.Ended.IsCancellationRequested)
        {
            lock (_gate)
            {
                // Stop only if nothing was granted in between (a Track after this check restarts it).
                if (_lock.HeldTokens.Count == 0 || _lock.Link.Ended.IsCancellationRequested)
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
        foreach (var token in tokens)
            _ = RenewAsync(token, lease);
    }

    private async Task RenewAsync(long token, TimeSpan lease)
    {
        try
        {
            var reply = await _lock.Link.AskAsync(_lock.Manager, new RenewLease(_lock.Name, token, _lock.OwnerName), lease).ConfigureAwait(false);
            if (reply is LeaseLost lost)
                _lock.MarkLost(token, lost.Reason);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or ParticipantFencedException)
        {
            // A late or lost renewal: the next one may still be in time; if none is, the manager ends the holding.
        }
    }

    public void Dispose() => _timer.Dispose();
}
