namespace Sim.Node;

/// <summary>How a participant process ended; the launcher shows these next to the process.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int RoleFailed = 1;
    public const int Usage = 2;
    public const int CoordinatorUnreachable = 3;

    /// <summary>A daemon whose launcher (parent) is gone: it ends at once, as Python's daemon children do.</summary>
    public const int ParentGone = 4;

    /// <summary>A non-daemon that lost its launcher or coordinator: it abandoned its work and ended (no orphan runs on).</summary>
    public const int CoordinatorLost = 5;
}
