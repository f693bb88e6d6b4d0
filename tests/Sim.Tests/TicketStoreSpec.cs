using Akka.Actor;
using System.Text.Json;
using Sim.Core;
using Xunit;

namespace Sim.Tests;

public sealed class TicketStoreSpec : SimSpec, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("sim-tickets-").FullName;

    private string DbPath => Path.Combine(_folder, "db.json");

    [Fact]
    public void Write_replaces_the_file_atomically_and_leaves_no_temp_file()
    {
        var file = TicketFile.Create(DbPath, 5);
        file.Write(new TicketRecord(4, 2));
        Assert.Equal(new TicketRecord(4, 2), file.Read());
        Assert.Equal(["db.json"], Directory.GetFiles(_folder).Select(Path.GetFileName));
        using var doc = JsonDocument.Parse(File.ReadAllText(DbPath));
        Assert.Equal(4, doc.RootElement.GetProperty("count").GetInt32());
    }

    [Fact]
    public void Temp_files_of_writers_that_died_are_removed_and_those_of_live_ones_kept()
    {
        var file = TicketFile.Create(DbPath, 5);
        // A writer that died between writing its temp file and renaming it (pid 2^22 - 1 is above the default pid_max).
        var dead = Path.Combine(_folder, $".db.json.{4_194_303}.{Guid.NewGuid():N}.tmp");
        var live = Path.Combine(_folder, $".db.json.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var other = Path.Combine(_folder, ".other.json.1.x.tmp");
        foreach (var path in new[] { dead, live, other })
            File.WriteAllText(path, "{\"count\": 99");
        Assert.Equal(1, file.RemoveAbandonedTempFiles());
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public async Task Concurrent_searches_never_see_a_torn_file()
    {
        var file = TicketFile.Create(DbPath, 0);
        using var stop = new CancellationTokenSource();
        var torn = 0;
        var reads = 0;
        // Dedicated threads: on 2 busy cores pool threads might not run before the writer is done.
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Factory.StartNew(() =>
        {
            var reader = new TicketFile(DbPath);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var record = reader.Read();
                    // Writers only ever write these two records.
                    if (record is not ({ Count: 7, Token: 1 } or { Count: 123456789, Token: 987654321 } or { Count: 0, Token: 0 }))
                        Interlocked.Increment(ref torn);
                }
                catch (JsonException)
                {
                    Interlocked.Increment(ref torn);
                }
                Interlocked.Increment(ref reads);
            }
        }, TaskCreationOptions.LongRunning)).ToList();
        var writes = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        // Keep replacing until the readers have overlapped many writes (bounded in time, not asserted on).
        while ((writes < 400 || Volatile.Read(ref reads) < 1000) && DateTime.UtcNow < deadline)
            file.Write(writes++ % 2 == 0 ? new TicketRecord(7, 1) : new TicketRecord(123456789, 987654321));
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.True(reads > 0);
        Assert.Equal(0, torn);
    }

    [Fact]
    public void Store_searches_writes_and_rejects_a_stale_token()
    {
        TicketFile.Create(DbPath, 3);
        var store = Sys.ActorOf(TicketStore.Props(DbPath));

        store.Tell(new SearchTickets("tester"));
        Assert.Equal(new TicketSnapshot(3, 0), ExpectMsg<TicketSnapshot>());

        store.Tell(new WriteTickets(2, 5, "buyer-1"));
        ExpectMsg<TicketWriteAccepted>();
        store.Tell(new WriteTickets(1, 4, "buyer-2"));
        var rejected = ExpectMsg<TicketWriteRejected>();
        Assert.Equal(5, rejected.LastToken);
        Assert.Equal(new TicketRecord(2, 5), new TicketFile(DbPath).Read());

        store.Tell(new WriteTickets(1, 5, "buyer-1"));
        ExpectMsg<TicketWriteAccepted>();
        store.Tell(new WriteTickets(-1, 6, "buyer-3"));
        ExpectMsg<TicketWriteRejected>();
        Assert.Equal(new TicketRecord(1, 5), new TicketFile(DbPath).Read());
    }

    [Fact]
    public void A_write_below_a_token_already_read_with_is_refused()
    {
        TicketFile.Create(DbPath, 3);
        var store = Sys.ActorOf(TicketStore.Props(DbPath));
        // buyer-1 (token 1) read 3 and stalled; the lock passed on and buyer-2 (token 2) read 3 too.
        store.Tell(new SearchTickets("buyer-1", 1));
        ExpectMsg<TicketSnapshot>();
        store.Tell(new SearchTickets("buyer-2", 2));
        ExpectMsg<TicketSnapshot>();
        // buyer-1's late write would oversell: the store has seen token 2 on a read, so it is refused.
        store.Tell(new WriteTickets(2, 1, "buyer-1"));
        Assert.Contains("stale fencing token 1", ExpectMsg<TicketWriteRejected>().Reason);
        store.Tell(new WriteTickets(2, 2, "buyer-2"));
        ExpectMsg<TicketWriteAccepted>();
        // An unfenced write (no lock) is refused once the file is guarded by tokens.
        store.Tell(new WriteTickets(1, 0, "buyer-3"));
        Assert.Contains("unfenced write", ExpectMsg<TicketWriteRejected>().Reason);
        Assert.Equal(new TicketRecord(2, 2), new TicketFile(DbPath).Read());
        // And a buyer that has left the run is refused whatever its token.
        Sys.EventStream.Publish(new ParticipantExited("buyer-2", -15));
        store.Tell(new WriteTickets(1, 2, "buyer-2"));
        ExpectMsg<ParticipantFenced>();
    }

    [Fact]
    public void Store_reports_a_missing_file_instead_of_crashing()
    {
        var store = Sys.ActorOf(TicketStore.Props(Path.Combine(_folder, "absent.json")));
        store.Tell(new SearchTickets("tester"));
        ExpectMsg<TicketStoreFailed>();
        store.Tell(new SearchTickets("tester"));
        ExpectMsg<TicketStoreFailed>();
    }

    void IDisposable.Dispose()
    {
        Directory.Delete(_folder, recursive: true);
    }
}
