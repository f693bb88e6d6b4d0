using Sim.Core;
using Sim.Core.Roles;
using Sim.Core.Scenarios;
using Xunit;

namespace Sim.Tests;

/// <summary>The scenario model as data: loading HOCON, refusing bad files in one line, figures and checks over an outcome.</summary>
public sealed class ScenarioModelTests
{
    private const string Good = """
        name = grab
        parameters { buyers = 4, tickets = 2 }
        participants = [ { role = buyer, count = buyers, name = "b-{i}", parameters { delay-ms = "5", seat = "{i}/{n}/{tickets}" } } ]
        primitives = [ { kind = tickets, name = tickets, size = tickets }, { kind = lock, name = "fork-{i}", count = 3 } ]
        faults = [ { action = kill, target = holder, lock = fork-2, at-s = 0.5 } ]
        figures { sold = "count(bought)", left = "tickets.initial - sold" }
        checks = [ "sold <= tickets", { kind = expression, expression = "left >= 0" } ]
        table = [ bought ]
        """;

    [Fact]
    public void A_file_loads_into_the_model_and_expands_its_participants()
    {
        var scenario = ScenarioLoader.Load(Good, "x", "/tmp", [KeyValuePair.Create("buyers", "3")]);
        scenario.Validate(RoleCatalog.Names);
        Assert.Equal("grab", scenario.Name);
        var specs = scenario.Expand();
        Assert.Equal(["b-1", "b-2", "b-3"], specs.Select(s => s.Name));
        Assert.Equal("2/3/2", specs[1].Parameters["seat"]);
        Assert.Equal(["tickets", "fork-1", "fork-2", "fork-3"], scenario.Primitives.Select(p => p.Name));
        Assert.Equal(new ScenarioFault(ScenarioFaultAction.Kill, "holder", 0.5, "fork-2"), Assert.Single(scenario.Faults));
        Assert.Equal(["sold <= tickets", "left >= 0"], scenario.Checks.Select(c => c.Name));
        Assert.Equal(["bought"], scenario.Columns);
    }

    [Theory]
    [InlineData("participants = [ { rol = buyer } ]", "unknown key 'participants[0].rol'")]
    [InlineData("participants = [ { role = buyer } ]\nfrobnicate = 1", "unknown key 'frobnicate'")]
    [InlineData("participants = [ { role = nobody } ]", "no role 'nobody'")]
    [InlineData("participants = [ { role = buyer, count = many } ]", "'many' is not a whole number")]
    [InlineData("participants = [ { role = buyer, daemon = perhaps } ]", "'perhaps' is not true or false")]
    [InlineData("participants = [ { role = buyer } ]\ntimeout-s = soon", "timeout-s: 'soon' is not a number")]
    [InlineData("participants = [ { role = buyer } ]\nprimitives = [ { kind = barrel, name = b } ]", "'barrel' is not a primitive")]
    [InlineData("participants = [ { role = buyer } ]\nfaults = [ { action = kill, target = buyer-9 } ]", "no participant named 'buyer-9'")]
    [InlineData("participants = [ { role = buyer } ]\nfaults = [ { action = kill, target = holder } ]", "needs lock = NAME")]
    [InlineData("participants = [ { role = buyer } ]\nfaults = [ { action = kill, target = holder, lock = l, after-report = true } ]", "after-report needs a participant")]
    [InlineData("participants = [ { role = buyer } ]\nfaults = [ { action = kill, target = buyer-1, after-report = maybe } ]", "'maybe' is not true or false")]
    [InlineData("participants = [ { role = buyer } ]\nchecks = [ \"sum(bought) <= nope\" ]", "unknown name 'nope'")]
    [InlineData("participants = [ { role = buyer } ]\nchecks = [ \"sum(bought)\" ]", "compares nothing")]
    [InlineData("participants = [ { role = buyer } ]\nchecks = [ \"avg(bought) > 1\" ]", "unknown function 'avg'")]
    [InlineData("participants = [ { role = buyer, parameters { x = \"{y}\" } } ]", "'{y}' is neither")]
    [InlineData("participants = [ { role = buyer, count = 2, name = same } ]", "two participants are named 'same'")]
    [InlineData("participants = { role = buyer }", "participants: expected [ ... ]")]
    [InlineData("name = x", "no participants")]
    [InlineData("participants = [ { role = buyer } ]\nprimitives = [ { kind = condition, name = c } ]", "a condition needs lock = ...")]
    [InlineData("participants = [ { role = buyer } ]\nprimitives = [ { kind = event, name = e, lock = l } ]", "only a condition has a lock")]
    [InlineData("participants = [ { role = buyer } ]\non-deadlock = sometimes", "on-deadlock: 'sometimes' is not fail or continue")]
    [InlineData("participants = [ { role = buyer } ]\nprimitives = [ { kind = queue, name = q, lease-ms = 500 } ]", "only a lock, rlock, semaphore, bounded-semaphore or joinable-queue has a lease")]
    public void A_bad_file_is_refused_in_one_line_naming_what_is_wrong(string text, string named)
    {
        var e = Assert.Throws<ScenarioException>(() =>
        {
            var scenario = ScenarioLoader.Load(text, "bad", "/tmp");
            scenario.Validate(RoleCatalog.Names);
        });
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Every_primitive_of_python_can_be_declared_with_its_facts()
    {
        var scenario = ScenarioLoader.Load("""
            participants = [ { role = buyer } ]
            on-deadlock = continue
            primitives = [
              { kind = rlock, name = r }, { kind = bounded-semaphore, name = pool, size = 2 }, { kind = semaphore, name = signal }
              { kind = condition, name = ready, lock = r }, { kind = event, name = go }, { kind = barrier, name = meet, size = 3 }
            ]
            checks = [ "pool.value == 2", "go.is_set == 0", "meet.broken == 0", "r.grants >= 0", "deadlocks == 0" ]
            """, "all", "/tmp");
        scenario.Validate(RoleCatalog.Names);
        Assert.Equal(DeadlockPolicy.Continue, scenario.OnDeadlock);
        Assert.Equal("r", scenario.Primitives.Single(p => p.Kind == PrimitiveKind.Condition).Lock);
        Assert.Equal([Sim.Core.SemKind.RLock, Sim.Core.SemKind.BoundedSemaphore, Sim.Core.SemKind.Semaphore],
            scenario.Primitives.Where(p => p.SemKind is not null).Select(p => p.SemKind!.Value));
    }

    [Fact]
    public void A_joinable_queue_takes_a_lease_with_its_fact()
    {
        var scenario = ScenarioLoader.Load("""
            participants = [ { role = buyer } ]
            parameters { lease = 750 }
            primitives = [ { kind = joinable-queue, name = jobs, lease-ms = lease } ]
            checks = [ "jobs.lease_expiries == 0" ]
            """, "leased", "/tmp");
        scenario.Validate(RoleCatalog.Names);
        var jobs = scenario.Primitives.Single();
        Assert.Equal(750, scenario.ResolveInt(jobs.LeaseMs, "jobs.lease-ms"));
        Assert.Contains("jobs.lease_expiries", jobs.FactNames);
        Assert.Equal("300", scenario.WithLease("jobs", 300).Primitives.Single().LeaseMs);
    }

    [Fact]
    public void Set_of_an_unknown_parameter_is_refused()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.Load(Good, "x", "/tmp", [KeyValuePair.Create("buyer", "3")]));
        Assert.Contains("no parameter 'buyer'", e.Message);
    }

    [Fact]
    public void Figures_and_checks_are_computed_from_reports_facts_and_parameters()
    {
        var scenario = ScenarioLoader.Load(Good, "x", "/tmp");
        var specs = scenario.Expand();
        ParticipantOutcome Outcome(int i, long bought, int? exit = 0) => new(specs[i], exit, false, false,
            new ParticipantResult(specs[i].Name, "buyer", 1, new Dictionary<string, long> { ["bought"] = bought }));
        var outcome = new ScenarioOutcome(scenario, [Outcome(0, 1), Outcome(1, 1), Outcome(2, 1), Outcome(3, 0, 1)],
            new Dictionary<string, long> { ["tickets.initial"] = 2 }, [], null, default, default, default);
        var report = ScenarioReport.Evaluate(outcome);
        Assert.Equal(3, report.Figure("sold"));
        Assert.Equal(-1, report.Figure("left"));
        Assert.False(report.Check("sold <= tickets").Passed);
        Assert.Equal("3 <= 2", report.Check("sold <= tickets").Detail);
        Assert.False(report.Check("left >= 0").Passed);
        Assert.Equal("b-4", Assert.Single(report.UnexpectedExits).Spec.Name);
        Assert.False(report.Ok);
    }

    [Theory]
    [InlineData(0, 0, 0, 0, true)]    // exactly once
    [InlineData(2, 3, 1, 0, true)]    // duplicates from a faulted consumer's redelivered items: excused
    [InlineData(2, 3, 0, 0, false)]   // duplicates, but no consumer of them was faulted
    [InlineData(4, 3, 1, 0, false)]   // more duplicates than items redelivered
    [InlineData(2, 0, 1, 0, false)]   // nothing was redelivered
    [InlineData(0, 3, 1, 1, false)]   // an item lost
    public void Exactly_once_excuses_only_duplicates_a_faulted_consumers_redelivery_explains(
        long duplicates, long redelivered, long faultedConsumers, long missing, bool passed)
    {
        var scenario = BuiltInScenarios.Prodcons(1, 2, 10, joinable: true);
        var facts = new Dictionary<string, long>
        {
            ["q.put"] = 10, ["q.redelivered"] = redelivered, ["ledger.missing"] = missing, ["ledger.duplicates"] = duplicates,
            ["ledger.unexpected"] = 0, ["ledger.faulted_duplicate_consumers"] = faultedConsumers,
        };
        var outcome = new ScenarioOutcome(scenario, [], facts, [], null, default, default, default);
        var verdict = new ExactlyOnceCheck("q").Evaluate(new ScenarioValues(outcome));
        Assert.True(verdict.Passed == passed, verdict.Detail);
    }

    [Fact]
    public void The_built_in_scenarios_are_valid_instances_of_the_model()
    {
        BuiltInScenarios.Counter(4, 25).Validate(RoleCatalog.Names);
        BuiltInScenarios.Counter(4, 25, "nolock", faults: [new ScenarioFault(ScenarioFaultAction.Terminate, ScenarioFault.Holder, 0.4)]).Validate(RoleCatalog.Names);
        BuiltInScenarios.Lock(3, 40, faults: [new ScenarioFault(ScenarioFaultAction.Kill, ScenarioFault.Holder, 1)]).Validate(RoleCatalog.Names);
        BuiltInScenarios.Pipe(300, 200, duplex: true).Validate(RoleCatalog.Names);
        BuiltInScenarios.Tickets(10, 3).Validate(RoleCatalog.Names);
        BuiltInScenarios.Prodcons(3, 2, 100).Validate(RoleCatalog.Names);
        BuiltInScenarios.Prodcons(1, 1, 10, joinable: true).Validate(RoleCatalog.Names);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "scenarios"), "*.hocon"))
        {
            if (ScenarioLoader.IsModel(File.ReadAllText(file)))
                ScenarioLoader.LoadFile(file).Validate(RoleCatalog.Names);
        }
    }
}
