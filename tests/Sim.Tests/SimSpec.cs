using Akka.Configuration;
using Sim.Core;

namespace Sim.Tests;

/// <summary>
/// Base of the actor specs: Sim's real configuration and serializer, with every message serialized even
/// between local actors, so a message without a wire format fails the test that sends it.
/// </summary>
public abstract class SimSpec(string? extra = null) : Akka.TestKit.Xunit2.TestKit(SpecConfig(extra))
{
    public static Config SpecConfig(string? extra = null) =>
        ConfigurationFactory.ParseString((extra ?? "") + """

            akka.actor.provider = local
            akka.actor.serialize-messages = on
            akka.actor.serialize-creators = off
            akka.loglevel = WARNING
            """).WithFallback(SimConfig.Node());
}
