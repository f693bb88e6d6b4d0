using System.Runtime.CompilerServices;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;

namespace Sim.Core;

/// <summary>
/// An executor that runs an actor's mailbox on the thread that scheduled it, for actors that never block (Akka.Remote's
/// own, hocon/akka.hocon). On the thread pool every hop of a remote message is a work item of its own (on sending: the
/// endpoint manager, reliable delivery, the writer; on arrival: the protocol state actor, the reader), and on a node
/// whose threads are parked each can cost a thread wake-up. Inline, a send runs through to the socket's write queue on
/// the sender's thread, and an arrival runs on DotNetty's I/O thread up to the target's mailbox.
/// <para>
/// On a thread outside the thread pool (DotNetty's I/O threads above all) only the arrival's two actors run inline,
/// the protocol state actor and the reader, which write nothing while the writer may have writes queued; everything
/// else goes to the thread pool as with Akka's default executor. DotNetty writes at once when called on its I/O thread
/// but queues a write from any other thread, so a remote writer that ran on an I/O thread could overtake the writes
/// queued before it: with every mailbox inline, `sim lock --processes 4 --acquires 2000` failed once in 18 runs, a
/// locker's next acquire reaching the lock manager before its own one-way release.
/// </para>
/// <para>
/// A mailbox that schedules itself again (more messages than its throughput) goes to the thread pool, and so does a
/// chain of mailboxes deeper than <see cref="MaxDepth"/>: no caller is held by a busy mailbox, no stack grows without bound.
/// </para>
/// </summary>
public sealed class InlineExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    /// <summary><c>inline-arrivals = off</c> in the dispatcher's section keeps arrivals off the I/O threads (to measure the difference).</summary>
    public override ExecutorService Produce(string id) => new InlineExecutor(id, Config.GetBoolean("inline-arrivals", true));
}

public sealed class InlineExecutor(string id, bool inlineArrivals = true) : ExecutorService(id)
{
    /// <summary>How many mailboxes may run nested on one thread (a remote send is three: manager, delivery, writer).</summary>
    public const int MaxDepth = 6;

    /// <summary>
    /// The actors of an arrival, which may run on an I/O thread: Akka.Remote's internal types, resolved by name once (null
    /// if a version renames one: its arrivals then go to the pool), so that telling them apart is a reference compare.
    /// </summary>
    private static readonly Type? ProtocolStateActor = Type.GetType("Akka.Remote.Transport.ProtocolStateActor, Akka.Remote");
    private static readonly Type? EndpointReader = Type.GetType("Akka.Remote.EndpointReader, Akka.Remote");

    /// <summary>Whether a mailbox's actor can be seen (an internal of Akka's; if a version renames it, arrivals go to the pool).</summary>
    internal static readonly bool MailboxActorVisible = ProbeMailboxActor();

    [ThreadStatic] private static IRunnable?[]? _running;
    [ThreadStatic] private static int _depth;

    public override void Execute(IRunnable run)
    {
        var running = _running ??= new IRunnable?[MaxDepth];
        var depth = _depth;
        if (depth >= MaxDepth || Array.IndexOf(running, run, 0, depth) >= 0 || !Thread.CurrentThread.IsThreadPoolThread && !(inlineArrivals && IsArrival(run)))
        {
            ThreadPool.UnsafeQueueUserWorkItem(static r => r.Run(), run, preferLocal: false);
            return;
        }
        running[depth] = run;
        _depth = depth + 1;
        try
        {
            run.Run();
        }
        finally
        {
            _depth = depth;
            running[depth] = null;
        }
    }

    /// <summary>Whether <paramref name="run"/> is the mailbox of an arrival's actor (see the class summary).</summary>
    internal static bool IsArrival(IRunnable run) =>
        MailboxActorVisible && run is Mailbox mailbox && MailboxActor(mailbox) is { Props.Type: var type } && type is not null
        && (type == ProtocolStateActor || type == EndpointReader);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Actor")]
    private static extern ActorCell? MailboxActor(Mailbox mailbox);

    private static bool ProbeMailboxActor()
    {
        try
        {
            MailboxActor(null!);
            return true;
        }
        catch (NullReferenceException)
        {
            return true; // found, and called on null
        }
        catch (MissingMemberException)
        {
            return false;
        }
    }

    public override void Shutdown()
    {
    }
}
