using Sim.Core;

namespace Sim.Node;

/// <summary>
/// How a participant process ends when told to or when left alone, as Python's Process does, but tidier:
/// <list type="bullet">
/// <item>SIGTERM (terminate): say goodbye to the coordinator, so locks and deliveries pass on now, then die
/// by the signal (exit code −15).</item>
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
    private volatile Participant? _participant;
    private int _ending;

    public CancellationToken Stopping => _stopping.Token;

    public void Connected(Participant participant) => _participant = participant;

    public void Terminate()
    {
        if (Interlocked.Exchange(ref _ending, 1) == 1)
            return;
        _ = Task.Run(async () =>
        {
            if (_participant is { } participant)
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
        // The role normally returns at once on cancellation; this is the bound if it does not.
        _ = Task.Delay(AbandonGrace).ContinueWith(_ => Environment.Exit(ExitCodes.CoordinatorLost));
    }
}
