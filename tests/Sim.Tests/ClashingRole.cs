using Sim.Core;
using Sim.Core.Roles;

namespace Sim.Tests;

/// <summary>
/// A role named like one of Sim's own, so that this test assembly, given as a user's role library, is refused
/// ("two roles named 'buyer'"). Never run.
/// </summary>
public sealed class ClashingBuyer : IRole
{
    public string Name => "buyer";

    public Task<int> RunAsync(Participant participant, CancellationToken cancellationToken) => Task.FromResult(0);
}
