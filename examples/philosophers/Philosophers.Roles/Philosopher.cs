using System.Diagnostics;
using Sim.Core;
using Sim.Core.Roles;

namespace Philosophers.Roles;

/// <summary>
/// A dining philosopher: <c>meals</c> times, take two forks (locks <c>fork-SEAT</c> and <c>fork-SEAT+1</c>, around the
/// table), eat, put them down. <c>order = naive</c> takes the left fork first: when all five hold their left fork,
/// nobody gets a right one, and the run deadlocks. Here a fork not had within <c>fork-timeout-ms</c> is the sign: the
/// philosopher puts down what it holds, counts a timeout and leaves the table. <c>order = hierarchy</c> takes the
/// lower-numbered fork first, which breaks the cycle: it never deadlocks.
/// </summary>
public sealed class Philosopher : IRole
{
    public string Name => "philosopher";

    public async Task<int> RunAsync(Participant participant, CancellationToken cancellationToken)
    {
        var info = participant.Info;
        var seat = info.Int("seat", 1);
        var seats = info.Int("seats", 5);
        var hierarchy = info.Text("order", "hierarchy") switch
        {
            "hierarchy" => true,
            "naive" => false,
            var other => throw new FormatException($"order '{other}' is not naive or hierarchy"),
        };
        var meals = info.Int("meals", 3);
        var eat = TimeSpan.FromMilliseconds(info.Int("eat-ms", 20));
        // Between the first fork and the second: where the naive order's deadlock happens.
        var gap = TimeSpan.FromMilliseconds(info.Int("gap-ms", 100));
        var forkTimeout = TimeSpan.FromMilliseconds(info.Int("fork-timeout-ms", 3000));

        var (left, right) = (seat, seat % seats + 1);
        var (first, second) = hierarchy ? (Math.Min(left, right), Math.Max(left, right)) : (left, right);

        await participant.ReadyAsync(TimeSpan.FromSeconds(60), cancellationToken);
        long eaten = 0, timeouts = 0;
        var waited = new Stopwatch();
        for (var meal = 0; meal < meals && timeouts == 0; meal++)
        {
            waited.Start();
            var one = await participant.Lock($"fork-{first}").TryAcquireAsync(forkTimeout, cancellationToken);
            if (one is null)
            {
                timeouts++;
                break;
            }
            await using (one)
            {
                await Sleep.ForAsync(gap, cancellationToken);
                var two = await participant.Lock($"fork-{second}").TryAcquireAsync(forkTimeout, cancellationToken);
                waited.Stop();
                if (two is null)
                {
                    timeouts++;
                    break;
                }
                await using (two)
                {
                    await Sleep.ForAsync(eat, cancellationToken);
                    eaten++;
                }
            }
        }
        await participant.ReportAsync(new Dictionary<string, long>
        {
            ["meals"] = eaten,
            ["timeouts"] = timeouts,
            ["waited_ms"] = waited.ElapsedMilliseconds,
        });
        return 0;
    }
}
