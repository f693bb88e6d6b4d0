using System.Text.Json;
using Xunit;

namespace Sim.Tests;

[Collection(ProcessTests.Name)]
public sealed class PipeScenarioTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-pipe-").FullName;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_message_arrives_in_order_and_the_survivor_sees_end_of_file(bool duplex)
    {
        var json = Path.Combine(_folder, "pipe.json");
        var args = new List<string> { "pipe", "--messages", "300", "--size", "200", "--json", json };
        if (duplex)
            args.Add("--duplex");
        var (run, root) = await SimCli.RunOkAsync(TimeSpan.FromMinutes(3), json, args.ToArray());
        Assert.True(root.GetProperty("ok").GetBoolean());
        Assert.Equal(300, root.GetProperty("received").GetInt64());
        Assert.Equal(0, root.GetProperty("out_of_order").GetInt64());
        Assert.True(root.GetProperty("eof").GetBoolean());
        Assert.True(root.GetProperty("rtt_median_us").GetInt64() > 0);
        var processes = root.GetProperty("processes").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(-9, processes["pipe-b"].GetProperty("exitcode").GetInt32());
        Assert.Equal(0, processes["pipe-a"].GetProperty("exitcode").GetInt32());
        Assert.Equal(0, root.GetProperty("zombies").GetInt32());
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
