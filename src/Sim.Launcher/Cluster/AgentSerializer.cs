using System.Text;
using Akka.Actor;
using Akka.Serialization;

namespace Sim.Launcher.Cluster;

/// <summary>
/// The binary format of <see cref="IAgentMessage"/>s between launchers and agents: a short manifest per type and the
/// fields in order (BinaryWriter: length-prefixed UTF-8 strings, little-endian numbers). Nothing is resolved from a type
/// name on the wire: an unknown manifest is refused.
/// </summary>
public sealed class AgentSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Apart from Akka's own (below 100) and Sim.Core's.</summary>
    public override int Identifier => 4712;

    public override string Manifest(object o) => o switch
    {
        AgentQuery => "Q",
        AgentStatus => "S",
        StartParticipants => "P",
        StartRefused => "R",
        ParticipantStarted => "B",
        ParticipantEnded => "E",
        SignalParticipant => "K",
        EndRun => "X",
        ClusterQuery => "C",
        ClusterView => "V",
        _ => throw new ArgumentException($"not an agent message: {o.GetType()}"),
    };

    public override byte[] ToBinary(object obj)
    {
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            switch (obj)
            {
                case AgentQuery or ClusterQuery:
                    break;
                case AgentStatus s:
                    WriteStatus(w, s);
                    break;
                case StartParticipants p:
                    w.Write(p.Run);
                    w.Write(p.Coordinator);
                    w.Write(p.ConnectTimeoutMs);
                    w.Write(p.Participants.Count);
                    foreach (var order in p.Participants)
                    {
                        w.Write(order.Name);
                        w.Write(order.Role);
                        w.Write(order.Daemon);
                        w.Write(order.Parameters.Count);
                        foreach (var (key, value) in order.Parameters)
                        {
                            w.Write(key);
                            w.Write(value);
                        }
                    }
                    break;
                case StartRefused r:
                    w.Write(r.Run);
                    w.Write(r.Agent);
                    w.Write(r.Reason);
                    break;
                case ParticipantStarted b:
                    w.Write(b.Run);
                    w.Write(b.Name);
                    w.Write(b.Agent);
                    w.Write(b.Pid);
                    break;
                case ParticipantEnded e:
                    w.Write(e.Run);
                    w.Write(e.Name);
                    w.Write(e.Agent);
                    w.Write(e.ExitCode);
                    WriteStrings(w, e.StderrTail);
                    break;
                case SignalParticipant k:
                    w.Write(k.Run);
                    w.Write(k.Name);
                    w.Write(k.Signal);
                    w.Write(k.Group);
                    break;
                case EndRun x:
                    w.Write(x.Run);
                    break;
                case ClusterView v:
                    w.Write(v.Members.Count);
                    foreach (var m in v.Members)
                    {
                        w.Write(m.Address);
                        WriteStrings(w, m.Roles);
                        w.Write(m.Status);
                        w.Write(m.Reachable);
                    }
                    w.Write(v.Agents.Count);
                    foreach (var s in v.Agents)
                        WriteStatus(w, s);
                    break;
                default:
                    throw new ArgumentException($"not an agent message: {obj.GetType()}");
            }
        }
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
        return manifest switch
        {
            "Q" => AgentQuery.Instance,
            "C" => ClusterQuery.Instance,
            "S" => ReadStatus(r),
            "P" => new StartParticipants(r.ReadString(), r.ReadString(), r.ReadInt64(), ReadList(r, () =>
                new ParticipantOrder(r.ReadString(), r.ReadString(), r.ReadBoolean(),
                    ReadList(r, () => KeyValuePair.Create(r.ReadString(), r.ReadString()))))),
            "R" => new StartRefused(r.ReadString(), r.ReadString(), r.ReadString()),
            "B" => new ParticipantStarted(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadInt32()),
            "E" => new ParticipantEnded(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadInt32(), ReadList(r, r.ReadString)),
            "K" => new SignalParticipant(r.ReadString(), r.ReadString(), r.ReadInt32(), r.ReadBoolean()),
            "X" => new EndRun(r.ReadString()),
            "V" => new ClusterView(
                ReadList(r, () => new MemberView(r.ReadString(), ReadList(r, r.ReadString), r.ReadString(), r.ReadBoolean())),
                ReadList(r, () => ReadStatus(r))),
            _ => throw new System.Runtime.Serialization.SerializationException($"unknown agent message manifest '{manifest}'"),
        };
    }

    private static void WriteStatus(BinaryWriter w, AgentStatus s)
    {
        w.Write(s.Name);
        w.Write(s.Host);
        w.Write(s.Address);
        w.Write(s.Slots);
        w.Write(s.Running.Count);
        foreach (var p in s.Running)
        {
            w.Write(p.Run);
            w.Write(p.Name);
            w.Write(p.Role);
            w.Write(p.Pid);
            w.Write(p.Coordinator);
        }
    }

    private static AgentStatus ReadStatus(BinaryReader r) =>
        new(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadInt32(),
            ReadList(r, () => new AgentParticipant(r.ReadString(), r.ReadString(), r.ReadString(), r.ReadInt32(), r.ReadString())));

    private static void WriteStrings(BinaryWriter w, IReadOnlyList<string> strings)
    {
        w.Write(strings.Count);
        foreach (var s in strings)
            w.Write(s);
    }

    /// <summary>A count, then that many items; a count that cannot fit in the bytes left is refused, not allocated.</summary>
    private static List<T> ReadList<T>(BinaryReader r, Func<T> read)
    {
        var count = r.ReadInt32();
        if (count < 0 || count > r.BaseStream.Length - r.BaseStream.Position)
            throw new System.Runtime.Serialization.SerializationException($"bad count {count} in an agent message");
        var list = new List<T>(count);
        for (var i = 0; i < count; i++)
            list.Add(read());
        return list;
    }
}
