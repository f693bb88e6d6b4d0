namespace Sim.Node;

/// <summary>How a participant process ended; the launcher shows these next to the process.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int RoleFailed = 1;
    public const int Usage = 2;
    public const int CoordinatorUnreachable = 3;
    /// <summary>The launcher (our parent) is gone: nothing is left to report to.</summary>
    public const int ParentGone = 4;
}
