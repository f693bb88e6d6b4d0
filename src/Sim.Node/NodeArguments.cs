using Akka.Actor;

namespace Sim.Node;

/// <summary>
/// The node's arguments, as the launcher writes them:
/// <c>--role buyer --name buyer-3 --coordinator akka.tcp://sim@127.0.0.1:4053 [--param key=value]... [--host H] [--port P]
/// [--connect-timeout-ms MS] [--watch-stdin] [--daemon] [--roles-assembly DLL] [--cert PFX]</c>.
/// </summary>
public sealed record NodeArguments(
    string Role, string Name, Address Coordinator, IReadOnlyDictionary<string, string> Parameters,
    string Host, int Port, TimeSpan ConnectTimeout, bool WatchStdin, bool Daemon, string? RolesAssembly = null, string? Certificate = null)
{
    public static NodeArguments Parse(string[] args)
    {
        string? role = null, name = null, coordinator = null, host = "127.0.0.1", rolesAssembly = null, certificate = null;
        int port = 0, connectTimeoutMs = 15_000;
        var watchStdin = false;
        var daemon = false;
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--role": role = Value(); break;
                case "--name": name = Value(); break;
                case "--coordinator": coordinator = Value(); break;
                case "--host": host = Value(); break;
                case "--port": port = Number(args[i], Value()); break;
                case "--connect-timeout-ms": connectTimeoutMs = Number(args[i], Value()); break;
                case "--watch-stdin": watchStdin = true; break;
                case "--daemon": daemon = true; break;
                case "--roles-assembly": rolesAssembly = Value(); break;
                case "--cert": certificate = Value(); break;
                case "--param":
                    var pair = Value();
                    var eq = pair.IndexOf('=');
                    if (eq <= 0)
                        throw new FormatException($"--param '{pair}' is not key=value");
                    parameters[pair[..eq]] = pair[(eq + 1)..];
                    break;
                default: throw new FormatException($"unknown argument '{args[i]}'");
            }
        }
        if (role is null || name is null || coordinator is null)
            throw new FormatException("--role, --name and --coordinator are required");
        Address address;
        try
        {
            address = Address.Parse(coordinator);
        }
        catch (Exception e) when (e is UriFormatException or ArgumentException)
        {
            throw new FormatException($"--coordinator '{coordinator}' is not an actor system address (akka.tcp://sim@host:port)");
        }
        return new NodeArguments(role, name, address, parameters, host!, port, TimeSpan.FromMilliseconds(connectTimeoutMs), watchStdin, daemon, rolesAssembly, certificate);
    }

    private static int Number(string option, string value) =>
        int.TryParse(value, out var n) && n >= 0 ? n : throw new FormatException($"{option} '{value}' is not a non-negative integer");
}
