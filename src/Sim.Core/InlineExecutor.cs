using Akka.Configuration;
using Akka.Dispatch;

namespace Sim.Core;

/// <summary>
/// An executor that runs an actor's mailbox on the thread-pool thread that scheduled it, for actors that never block
/// (Akka.Remote's own, hocon/akka.hocon). On the thread pool every hop of a remote send (endpoint manager, reliable
/// delivery, writer) is a work item of its own, and on a node whose threads are parked each can cost a thread wake-up;
/// inline, a send runs through to the socket's queue on the sender's thread.
/// <para>
/// Only thread-pool threads run mailboxes inline; any other thread (DotNetty's I/O threads above all) hands them to the
/// thread pool as Akka's default executor does. That is not only to keep the I/O threads reading: DotNetty writes at once
/// when called on its I/O thread but queues a write from any other thread, so a remote writer that ran on an I/O thread
/// could overtake the writes queued before it. With every mailbox inline, `sim lock --processes 4 --acquires 2000` failed
/// once in 18 runs: a locker's next acquire reached the lock manager before its own one-way release.
/// </para>
/// <para>
/// A mailbox that schedules itself again (more messages than its throughput) goes to the thread pool, and so does a
/// chain of mailboxes deeper than <see cref="MaxDepth"/>: no caller is held by a busy mailbox, no stack grows without bound.
/// </para>
/// </summary>
public sealed class InlineExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    public override ExecutorService Produce(string id) => new InlineExecutor(id);
}

public sealed class InlineExecutor(string id) : ExecutorService(id)
{
    /// <summary>How many mailboxes may run nested on one thread (a remote send is three: manager, delivery, writer).</summary>
    public const int MaxDepth = 6;

    [ThreadStatic] private static IRunnable?[]? _running;
    [ThreadStatic] private static int _depth;

    public override void Execute(IRunnable run)
    {
        var running = _running ??= new IRunnable?[MaxDepth];
        var depth = _depth;
        if (!Thread.CurrentThread.IsThreadPoolThread || depth >= MaxDepth || Array.IndexOf(running, run, 0, depth) >= 0)
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

    public override void Shutdown()
    {
    }
}
