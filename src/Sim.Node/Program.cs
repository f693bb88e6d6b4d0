using Akka.Actor;
using Sim.Core;
using Sim.Core.Roles;
using Sim.Node;

// One participant process: boot a remote-only node, reach the coordinator, run one role, exit with a code.
// The launcher is the only caller, so the arguments are parsed by a small table (NodeArguments) instead of
// System.CommandLine, whose start-up cost every one of 50 starting processes would pay.
StartupTrace.Mark("main");
ActorSystem? warmSystem = null;
if (args.Length > 0 && args[0] == WarmStart.Flag)
{
    // A pooled node: boot now, learn the role later (see WarmStart).
    Posix.BecomeProcessGroupLeader();
    try
    {
        var warmUp = args.Length > 2 && args[1] == "--warm-up" ? Address.Parse(args[2]) : null;
        if (WarmStart.Boot("127.0.0.1", warmUp) is not { } warm)
            return 0;
        (warmSystem, args) = warm;
        StartupTrace.Mark("assigned"); // a pooled node's phases after this one are its run's, not its boot's
    }
    catch (Exception e) when (e is FormatException or UriFormatException or SimConfigException)
    {
        Console.Error.WriteLine($"Sim.Node: {e.Message}");
        return ExitCodes.Usage;
    }
}

NodeArguments arguments;
try
{
    arguments = NodeArguments.Parse(args);
}
catch (FormatException e)
{
    Console.Error.WriteLine($"Sim.Node: {e.Message}");
    return ExitCodes.Usage;
}

// Sim's roles, plus the user's own when the scenario names their assembly.
IRole? role;
try
{
    var roles = RoleLibrary.Load(arguments.RolesAssembly);
    role = roles.Create(arguments.Role);
    if (role is null)
    {
        Console.Error.WriteLine($"Sim.Node: unknown role '{arguments.Role}' (known: {string.Join(", ", roles.Names.Order(StringComparer.Ordinal))})");
        return ExitCodes.Usage;
    }
}
catch (RoleLibraryException e)
{
    Console.Error.WriteLine($"Sim.Node: {e.Message}");
    return ExitCodes.Usage;
}

// Over TLS (a cluster run with --cert): the same certificate as the coordinator's, or no connection at all.
System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null;
try
{
    certificate = arguments.Certificate is null ? null : SimTls.Load(arguments.Certificate);
}
catch (CertificateException e)
{
    Console.Error.WriteLine($"Sim.Node: {e.Message}");
    return ExitCodes.Usage;
}

StartupTrace.Mark("roles");
Posix.BecomeProcessGroupLeader();
var lifecycle = new NodeLifecycle(arguments.Name, arguments.Daemon);
using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(
    System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        lifecycle.Terminate();
    });
if (arguments.WatchStdin)
    ParentWatch.OnStdinClosed(lifecycle.ParentGone);

ActorSystem system;
if (warmSystem is null)
{
    try
    {
        var config = SimConfig.Node(arguments.Host, arguments.Port);
        StartupTrace.Mark("config");
        system = SimTls.Create(SimConfig.SystemName, config, certificate);
    }
    catch (SimConfigException e)
    {
        Console.Error.WriteLine($"Sim.Node: {e.Message}");
        return ExitCodes.Usage;
    }
}
else
    system = warmSystem;
StartupTrace.Mark("system");
// Whether the actor system must shut down in order before the process exits (see the end).
var gracefulShutdown = true;
try
{
    var info = new ParticipantInfo(arguments.Name, role.Name, Environment.ProcessId, arguments.Parameters);
    Participant participant;
    try
    {
        participant = await Participant.ConnectAsync(system, arguments.Coordinator, info, arguments.ConnectTimeout, lifecycle.Stopping);
    }
    catch (OperationCanceledException) when (lifecycle.Terminating)
    {
        await Task.Delay(Timeout.Infinite); // ended by SIGTERM while connecting: the signal decides the exit
        return ExitCodes.RoleFailed;
    }
    catch (TimeoutException)
    {
        Console.Error.WriteLine(
            $"Sim.Node {arguments.Name}: coordinator {arguments.Coordinator} not reachable within {arguments.ConnectTimeout.TotalSeconds:0.#} s");
        return ExitCodes.CoordinatorUnreachable;
    }

    StartupTrace.Mark("connected");
    StartupTrace.Write(arguments.Name);
    await using (participant)
    {
        lifecycle.Connected(participant);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(lifecycle.Stopping, participant.CoordinatorLost);
        try
        {
            var exitCode = await role.RunAsync(participant, stop.Token);
            StartupTrace.Mark("done");
            StartupTrace.Write(arguments.Name);
            if (lifecycle.Terminating)
                await Task.Delay(Timeout.Infinite); // SIGTERM came meanwhile: the goodbye and the signal decide the end
            // Every message a role sends the coordinator is asked and answered before the role returns, and the
            // TCP stream to it keeps order: nothing of ours is left to flush there. Pipes send one-way to a
            // peer; only then is the orderly shutdown (100-300 ms of CPU per node, paid by 100 nodes at once
            // on 2 cores) worth its cost.
            gracefulShutdown = participant.SentOneWayToPeers;
            return exitCode;
        }
        catch (Exception) when (lifecycle.Terminating)
        {
            // Fenced and saying goodbye: the process ends by SIGTERM (-15) in a moment, not by what the role did.
            await Task.Delay(Timeout.Infinite);
            return ExitCodes.RoleFailed;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine($"Sim.Node {arguments.Name}: coordinator lost, {role.Name} abandoned its work");
            return ExitCodes.CoordinatorLost;
        }
        catch (Exception e) when (e is TimeoutException or AskTimeoutException or IOException or InvalidOperationException or FormatException)
        {
            if (stop.IsCancellationRequested)
            {
                Console.Error.WriteLine($"Sim.Node {arguments.Name}: coordinator lost, {role.Name} abandoned its work");
                return ExitCodes.CoordinatorLost;
            }
            Console.Error.WriteLine($"Sim.Node {arguments.Name}: {role.Name} failed: {e.Message}");
            return ExitCodes.RoleFailed;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A user's role may throw anything: one line and a failed exit, not a crash with a stack trace.
            Console.Error.WriteLine($"Sim.Node {arguments.Name}: {role.Name} failed: {e.GetType().Name}: {e.Message}");
            return ExitCodes.RoleFailed;
        }
    }
}
finally
{
    if (gracefulShutdown)
        await system.Terminate().WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(_ => { });
}
