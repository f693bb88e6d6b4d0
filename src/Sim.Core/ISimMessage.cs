namespace Sim.Core;

/// <summary>
/// Marker of every message Sim sends between actors. The marker binds them all to
/// <see cref="Serialization.SimSerializer"/>, so nothing of Sim travels as Akka's default JSON.
/// </summary>
public interface ISimMessage;
