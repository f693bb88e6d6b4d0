using Akka.Configuration;
using Sim.Core;

namespace Sim.Tests;

/// <summary>
/// Base of the actor specs: Sim's real configuration and serializer, with every message serialized even
/// between local actors, so a Sim message without a wire format fails the test that sends it.
/// </summary>
public abstract class SimSpec(string? extra = null) : Akka.TestKit.Xunit2.TestKit(SpecConfig(extra))
{
    public static Config SpecConfig(string? extra = null) =>
        ConfigurationFactory.ParseString((extra ?? "") + """

            akka.actor.provider = local
            akka.actor.serialize-messages = on
            akka.actor.serialize-creators = off
            # Local provider: Akka's own local messages (StopChild) and the specs' plain values go through
            # serialize-messages too; they use Akka's JSON here, which Sim's nodes refuse over the wire.
            akka.actor.serializers.json = "Akka.Serialization.NewtonSoftJsonSerializer, Akka"
            akka.loglevel = WARNING
            """).WithFallback(SimConfig.Node());
}
