using ScottPlot;

namespace Sim.Report.Pictures;

/// <summary>The colours of the pictures, one per kind of interval or message, the same in the timeline and the message diagram.</summary>
public static class Palette
{
    public static readonly Color Waiting = Color.FromHex("#F5A623");
    public static readonly Color Holding = Color.FromHex("#2E9E44");
    public static readonly Color Read = Color.FromHex("#1F6FD1");
    public static readonly Color Write = Color.FromHex("#7B3FB5");
    public static readonly Color Window = Color.FromHex("#B69AD9");
    public static readonly Color Lost = Color.FromHex("#E0282E");
    public static readonly Color Search = Color.FromHex("#9AA3AD");
    public static readonly Color Put = Color.FromHex("#159C9C");
    public static readonly Color Get = Color.FromHex("#A0622D");
    public static readonly Color Other = Color.FromHex("#555555");
    public static readonly Color Fault = Color.FromHex("#D0021B");
    public static readonly Color Lane = Color.FromHex("#E8EBEF");

    /// <summary>The colour of an operation in the message diagram.</summary>
    public static Color Of(string f) => f switch
    {
        "acquire" => Holding,
        "release" => Waiting,
        "read" => Read,
        "write" or "add" or "cas" => Write,
        "put" => Put,
        "get" or "task_done" => Get,
        _ => Other,
    };
}
