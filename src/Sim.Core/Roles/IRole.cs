namespace Sim.Core.Roles;

/// <summary>
/// What one participant does, written once against <see cref="Participant"/>'s client API. Returns the
/// process exit code (0 for success).
/// </summary>
public interface IRole
{
    string Name { get; }
    Task<int> RunAsync(Participant participant, CancellationToken cancellationToken);
}

/// <summary>The roles Sim ships, by name.</summary>
public static class RoleCatalog
{
    private static readonly IReadOnlyDictionary<string, IRole> All =
        new IRole[] { new Buyer(), new Worker(), new Producer(), new Consumer(), new Counter(), new Locker(), new PipeSender(), new PipeReceiver(),
            new EventWaiter(), new EventSetter(), new BarrierParty(), new TwoLocks() }.ToDictionary(r => r.Name, StringComparer.Ordinal);

    public static IReadOnlyCollection<string> Names => All.Keys.ToList();

    public static IRole? Find(string name) => All.GetValueOrDefault(name);
}
