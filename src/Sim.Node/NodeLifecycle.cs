using Sim.Core;

namespace Sim.Node;

/// <summary>
/// How a participant process ends when told to or when left alone, as Python's Process does, but tidier:
/// <list type="bullet">
/// <item>SIGTERM (terminate): stop the role and fence its client calls (nothing more is sent), then say goodbye
/// to the coordinator, so locks and deliveries pass on now (it refuses this participant from then on), then die by
/// the signal (exit code −15). In that order: a role still running after the goodbye could write under a lock that
/// has already passed to someone else.</item>
/// <item>Launcher gone, daemon: end at once (daemon children die with their parent).</item>
/// <item>Launcher gone, not a daemon: abandon the work and exit 5 within a bounded time; never run on as an orphan.</item>
/// </list>
/// </summary>
public sealed class NodeLifecycle(string name, bool daemon)
{
    /// <summary>Time a non-daemon gets to wind down after losing its launcher before it is ended anyway.</summary>
    public static readonly TimeSpan AbandonGrace = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan GoodbyeTimeout = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private Participant? _participant;
    private int _ending;
    private volatile bool _terminating;

    public CancellationToken Stopping => _stopping.Token;

    /// <summary>True once SIGTERM came: the process ends by the signal, whatever the role returns meanwhile.</summary>
    public bool Terminating => _terminating;

    public void Connected(Participant participant)
    {
        lock (_gate)
        {
            _participant = participant;
            // Terminated while connecting: fenced before the role could send anything.
            if (_terminating)
                participant.Fence();
            if (_stopping.IsCancellationRequested && !_terminating)
                participant.CoordinatorGone();
        }
    }

    public void Terminate()
    {
        if (Interlocked.Exchange(ref _ending, 1) == 1)
            return;
        Participant? participant;
        lock (_gate)
        {
            _terminating = true;
            participant = _participant;
            participant?.Fence();
        }
        _ = Task.Run(async () =>
        {
            // Off the signal thread: cancelling runs the role's continuations inline.
            _stopping.Cancel();
            if (participant is not null)
                await participant.LeaveAsync(-Posix.SIGTERM, GoodbyeTimeout).ConfigureAwait(false);
            Posix.DieBySignal(Posix.SIGTERM);
        });
    }

    public void ParentGone()
    {
        if (Interlocked.Exchange(ref _ending, 1) == 1)
            return;
        if (daemon)
        {
            Console.Error.WriteLine($"Sim.Node {name}: launcher gone, daemon ends with it");
            Environment.Exit(ExitCodes.ParentGone);
        }
        Console.Error.WriteLine($"Sim.Node {name}: launcher gone, abandoning the work");
        _stopping.Cancel();
        // The launcher hosts the coordinator: no call of the role can be answered now.
        lock (_gate)
            _participant?.CoordinatorGone();
        // The role normally returns at once on cancellation; this is the bound if it does not.
        _ = Task.Delay(AbandonGrace).ContinueWith(_ => Environment.Exit(ExitCodes.CoordinatorLost));
    }
}
