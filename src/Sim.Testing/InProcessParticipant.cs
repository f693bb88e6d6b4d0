using Akka.Actor;
using Sim.Core;
using Sim.Core.Roles;
using Sim.Core.Scenarios;

namespace Sim.Testing;

/// <summary>
/// One participant of an in-process run: its own actor system on loopback (so every message to the coordinator is
/// serialized and sent over Akka.Remote), its role running on the thread pool, and the shell's two ways to end it:
/// kill (nothing more is sent, the system goes away, exit code −9) and terminate (fenced, says goodbye, exit code −15),
/// as Sim.Node does on SIGKILL and SIGTERM.
/// </summary>
internal sealed class InProcessParticipant
{
    private static readonly TimeSpan GoodbyeTimeout = TimeSpan.FromSeconds(1);

    private readonly TaskCompletionSource<int> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly Coordinator _coordinator;
    private ActorSystem? _system;
    private Participant? _participant;
    private int _ending;

    public InProcessParticipant(ParticipantSpec spec, IRole role, Coordinator coordinator)
    {
        Spec = spec;
        Role = role;
        _coordinator = coordinator;
    }

    public ParticipantSpec Spec { get; }
    public IRole Role { get; }
    public string Name => Spec.Name;

    /// <summary>Completes with the exit code when the participant has ended (as a process's exit).</summary>
    public Task<int> Ended => _ended.Task;

    public int? ExitCode => _ended.Task.IsCompletedSuccessfully ? _ended.Task.Result : null;

    /// <summary>Why the role failed, if it did (the line Sim.Node would write to stderr).</summary>
    public string? Error { get; private set; }

    /// <summary>Boots the actor system, connects and runs the role in the background.</summary>
    public void Start(TimeSpan connectTimeout) => _ = Task.Run(() => RunAsync(connectTimeout));

    private async Task RunAsync(TimeSpan connectTimeout)
    {
        try
        {
            // Creating a remoting actor system blocks its thread until the transport is bound. Ten of them at once on
            // pool threads starve the pool (it adds a thread about every half second): 7-8 s for 10 buyers, cold.
            _system = await Task.Factory.StartNew(() => ActorSystem.Create(SimConfig.SystemName, SimConfig.Node("127.0.0.1", 0)),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);
            var info = new ParticipantInfo(Name, Role.Name, Environment.ProcessId, Spec.Parameters);
            _participant = await Participant.ConnectAsync(_system, _coordinator.Address, info, connectTimeout, _stop.Token).ConfigureAwait(false);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, _participant.CoordinatorLost);
            var code = await Role.RunAsync(_participant, stop.Token).ConfigureAwait(false);
            End(code);
        }
        catch (Exception e)
        {
            // After a kill or terminate the fault decides the exit code; otherwise the role failed.
            Error = $"{Role.Name} failed: {e.GetType().Name}: {e.Message}";
            End(1);
        }
    }

    /// <summary>As SIGKILL: nothing more leaves this participant, its system goes away, the shell reports it gone at once.</summary>
    public void Kill()
    {
        if (!Claim())
            return;
        _participant?.Fence();
        _stop.Cancel();
        Finish(-9);
    }

    /// <summary>As SIGTERM to Sim.Node: fence, stop the role, say goodbye so its locks pass on now, then end.</summary>
    public void Terminate()
    {
        if (!Claim())
            return;
        _participant?.Fence();
        _stop.Cancel();
        var participant = _participant;
        _ = Task.Run(async () =>
        {
            if (participant is not null)
                await participant.LeaveAsync(-15, GoodbyeTimeout).ConfigureAwait(false);
            Finish(-15);
        });
    }

    public async Task ShutdownAsync()
    {
        Kill();
        if (_system is { } system)
            await system.Terminate().WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }).ConfigureAwait(false);
    }

    private void End(int code)
    {
        if (Claim())
            Finish(code);
    }

    private bool Claim() => Interlocked.Exchange(ref _ending, 1) == 0;

    private void Finish(int code)
    {
        // What the launcher does when it sees a process exit: every primitive learns at once.
        _coordinator.ReportExited(Name, code);
        _ended.TrySetResult(code);
        _ = _system?.Terminate();
    }
}
