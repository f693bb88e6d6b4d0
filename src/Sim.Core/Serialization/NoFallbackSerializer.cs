using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace Sim.Core.Serialization;

/// <summary>
/// Takes the place of Akka's catch-all JSON serializer (hocon: <c>serializers.json</c>): a message with no wire format
/// of its own is refused, naming its type, instead of travelling as Newtonsoft JSON. JSON was 4x slower here, reads type
/// names from the wire (a deserialization risk for a node that accepts connections), and Akka creates it in every actor
/// system at start even when nothing uses it: Newtonsoft.Json no longer loads into each participant.
/// </summary>
public sealed class NoFallbackSerializer(ExtendedActorSystem system) : Serializer(system)
{
    public const int Id = 4713;

    /// <summary>Akka passes the settings it keeps under <c>serialization-settings.json</c>; none apply.</summary>
    public NoFallbackSerializer(ExtendedActorSystem system, Config settings) : this(system)
    {
    }

    public override int Identifier => Id;

    public override bool IncludeManifest => false;

    public override byte[] ToBinary(object obj) =>
        throw new SerializationException(
            $"{obj.GetType().FullName} has no wire format: register a serializer for it (Sim's messages implement ISimMessage)");

    public override object FromBinary(byte[] bytes, Type type) =>
        throw new SerializationException($"a message of {bytes.Length} bytes arrived in no known wire format; it is refused");
}
