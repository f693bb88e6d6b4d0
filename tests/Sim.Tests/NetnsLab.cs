using System.Diagnostics;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// Two network namespaces (each a machine of its own: own stack, own addresses) joined by a bridge in this namespace:
/// bridge 10.211.N.1, namespace a 10.211.N.2, namespace b 10.211.N.3, each behind a veth pair. <see cref="Cut"/> sets
/// a namespace's link down (a partition). Disposing removes the bridge and both namespaces (their veths go with them).
/// Needs root and a kernel that allows namespaces; <see cref="Unusable"/> says why not.
/// </summary>
public sealed class NetnsLab : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);
    private readonly string _suffix;
    private readonly List<Action> _undo = new();

    public NetnsLab()
    {
        _suffix = $"{Environment.ProcessId % 100000}";
        Subnet = $"10.211.{20 + Environment.ProcessId % 200}";
        try
        {
            Ip($"link add {Bridge} type bridge");
            _undo.Add(() => Ip($"link del {Bridge}", check: false));
            Ip($"addr add {Subnet}.1/24 dev {Bridge}");
            Ip($"link set {Bridge} up");
            foreach (var (ns, address) in new[] { (A, $"{Subnet}.2"), (B, $"{Subnet}.3") })
            {
                Ip($"netns add {ns}");
                _undo.Add(() => Ip($"netns del {ns}", check: false));
                Ip($"link add {Veth(ns)} type veth peer name eth0 netns {ns}");
                Ip($"link set {Veth(ns)} master {Bridge}");
                Ip($"link set {Veth(ns)} up");
                Ip($"-n {ns} addr add {address}/24 dev eth0");
                Ip($"-n {ns} link set eth0 up");
                Ip($"-n {ns} link set lo up");
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Subnet { get; }
    public string Bridge => $"simbr{_suffix}";
    public string A => $"sima{_suffix}";
    public string B => $"simb{_suffix}";
    public string Launcher => $"{Subnet}.1";
    public string HostA => $"{Subnet}.2";
    public string HostB => $"{Subnet}.3";

    private static string Veth(string ns) => $"v{ns}";

    /// <summary>The program and arguments that run a command inside namespace <paramref name="ns"/>.</summary>
    public static IReadOnlyList<string> Exec(string ns) => ["ip", "netns", "exec", ns];

    /// <summary>Cuts namespace <paramref name="ns"/> off (its link to the bridge goes down).</summary>
    public void Cut(string ns) => Ip($"link set {Veth(ns)} down");

    /// <summary>Null when network namespaces can be made here; else why not (the test is skipped with it).</summary>
    public static string? Unusable()
    {
        if (!OperatingSystem.IsLinux())
            return "network namespaces need Linux";
        if (Environment.UserName != "root")
            return "ip netns needs root";
        var probe = $"simprobe{Environment.ProcessId}";
        try
        {
            Ip($"netns add {probe}");
            Ip($"netns del {probe}");
            return null;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"ip netns is not usable here: {e.Message}";
        }
    }

    private static void Ip(string arguments, bool check = true)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments.Split(' '))
            info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill();
            throw new InvalidOperationException($"ip {arguments} took more than {CommandTimeout.TotalSeconds} s");
        }
        if (check && process.ExitCode != 0)
            throw new InvalidOperationException($"ip {arguments}: {stderr.Result.Trim()}");
    }

    public void Dispose()
    {
        for (var i = _undo.Count - 1; i >= 0; i--)
            _undo[i]();
        _undo.Clear();
    }
}

/// <summary>A fact that needs network namespaces: skipped, with the reason, where they cannot be made.</summary>
public sealed class NetnsFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Reason = new(NetnsLab.Unusable);

    public NetnsFactAttribute()
    {
        if (Reason.Value is { } why)
            Skip = why;
    }
}
