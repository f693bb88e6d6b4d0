using System.Globalization;
using Akka.Configuration;
using Akka.Configuration.Hocon;

namespace Sim.Core.Scenarios;

/// <summary>
/// Reads a scenario from HOCON. Every key is known or the file is refused: one line naming the key, the bad value or
/// the missing piece (<see cref="ScenarioException"/>). The shape:
/// <code>
/// name = philosophers
/// roles-assembly = "bin/Philosophers.Roles.dll"     # relative to the file
/// timeout-s = 60
/// parameters { seats = 5, order = hierarchy }        # --set seats=3 changes one
/// participants = [ { role = philosopher, count = seats, name = "philosopher-{i}", daemon = false,
///                    parameters { seat = "{i}", order = "{order}" } } ]
/// primitives = [ { kind = lock, name = "fork-{i}", count = seats } ]   # queue, joinable-queue (size = maxsize), value, tickets (size = initial), pipe,
///                                                                      # rlock, semaphore, bounded-semaphore (size = value), event, barrier (size = parties),
///                                                                      # condition (lock = its lock or rlock)
/// faults = [ { action = kill, target = holder, lock = fork-1, at-s = 0.5 } ]   # after-report = true: at-s counts from the target's report
/// checks = [ "sum(timeouts) == 0", { kind = exactly-once, queue = q } ]
/// figures { meals = "sum(meals)" }
/// table = [ meals, timeouts ]
/// sentinels = [ { queue = q, after = producer, per = consumer } ]   # one None per consumer once the producers have ended
/// </code>
/// </summary>
public static class ScenarioLoader
{
    private static readonly string[] TopKeys =
        ["name", "description", "roles-assembly", "timeout-s", "on-deadlock", "expect-race", "parameters", "participants", "primitives", "faults", "checks", "figures", "table", "sentinels"];
    private static readonly string[] GroupKeys = ["role", "count", "name", "parameters", "daemon"];
    private static readonly string[] PrimitiveKeys = ["kind", "name", "size", "count", "lock", "lease-ms"];
    private static readonly string[] FaultKeys = ["action", "target", "lock", "at-s", "after-report", "duration-s"];
    private static readonly string[] SentinelKeys = ["queue", "after", "per"];
    private static readonly string[] CheckKeys = ["kind", "queue", "expression"];

    /// <summary>True if the HOCON text is a scenario model (it has participants) rather than a command's options.</summary>
    public static bool IsModel(string hoconText) => Parse(hoconText, "scenario").HasPath("participants");

    /// <summary>Loads the file; <paramref name="overrides"/> (from <c>--set</c>) change its parameters before anything reads them.</summary>
    public static Scenario LoadFile(string path, IEnumerable<KeyValuePair<string, string>>? overrides = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException($"{path}: {e.Message}");
        }
        try
        {
            return Load(text, Path.GetFileNameWithoutExtension(path), Path.GetDirectoryName(Path.GetFullPath(path))!, overrides);
        }
        catch (ScenarioException e)
        {
            throw new ScenarioException($"{path}: {e.Message}");
        }
    }

    /// <summary>Loads from text; relative paths are taken from <paramref name="folder"/>.</summary>
    public static Scenario Load(string hoconText, string defaultName, string folder, IEnumerable<KeyValuePair<string, string>>? overrides = null)
    {
        var root = Parse(hoconText, defaultName).Root;
        var top = Object(root, "");
        Known(top, TopKeys, "");
        var parameters = top.TryGetValue("parameters", out var p)
            ? Object(p, "parameters").ToDictionary(kv => kv.Key, kv => Scalar(kv.Value, $"parameters.{kv.Key}"), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        var scenario = new Scenario
        {
            Name = top.TryGetValue("name", out var n) ? Scalar(n, "name") : defaultName,
            Parameters = parameters,
        }.WithParameters(overrides ?? []);

        if (!top.TryGetValue("participants", out var participants))
            throw new ScenarioException("no participants = [ ... ]");
        var groups = Array(participants, "participants").Select((g, i) => Group(g, $"participants[{i}]")).ToList();
        var primitives = top.TryGetValue("primitives", out var prims)
            ? Array(prims, "primitives").SelectMany((v, i) => Primitives(scenario, v, $"primitives[{i}]")).ToList()
            : [];
        var faults = top.TryGetValue("faults", out var f) ? Array(f, "faults").Select((v, i) => Fault(v, $"faults[{i}]")).ToList() : [];
        var checks = top.TryGetValue("checks", out var c) ? Array(c, "checks").Select((v, i) => Check(v, $"checks[{i}]")).ToList() : [];
        var figures = top.TryGetValue("figures", out var fig)
            ? Object(fig, "figures").Select(kv => Figure(kv.Key, Scalar(kv.Value, $"figures.{kv.Key}"))).ToList()
            : [];
        var table = top.TryGetValue("table", out var t) ? Array(t, "table").Select((v, i) => Scalar(v, $"table[{i}]")).ToList() : [];
        var sentinels = top.TryGetValue("sentinels", out var sv)
            ? Array(sv, "sentinels").Select((v, i) => Sentinel(v, $"sentinels[{i}]")).ToList()
            : [];
        var timeout = top.TryGetValue("timeout-s", out var ts) ? Number(ts, "timeout-s", 1, 3600) : 120;
        return scenario with
        {
            Description = top.TryGetValue("description", out var d) ? Scalar(d, "description") : null,
            RolesAssembly = top.TryGetValue("roles-assembly", out var r) ? Path.GetFullPath(Path.Combine(folder, Scalar(r, "roles-assembly"))) : null,
            OnDeadlock = top.TryGetValue("on-deadlock", out var od) ? ParseDeadlockPolicy(Scalar(od, "on-deadlock"), "on-deadlock") : DeadlockPolicy.Fail,
            Timeout = TimeSpan.FromSeconds(timeout),
            ExpectRace = top.TryGetValue("expect-race", out var er) && ParseBool(Scalar(er, "expect-race"), "expect-race"),
            Participants = groups,
            Primitives = primitives,
            Faults = faults,
            Checks = checks,
            Figures = figures,
            Columns = table,
            Sentinels = sentinels,
        };
    }

    private static bool ParseBool(string text, string where) => text switch
    {
        "true" or "on" or "yes" => true,
        "false" or "off" or "no" => false,
        _ => throw new ScenarioException($"{where}: '{text}' is not true or false"),
    };

    private static Config Parse(string text, string name)
    {
        try
        {
            return ConfigurationFactory.ParseString(text);
        }
        catch (Exception e)
        {
            throw new ScenarioException($"not valid HOCON: {e.Message.Split('\n')[0]}");
        }
    }

    private static ParticipantGroup Group(HoconValue value, string where)
    {
        var items = Object(value, where);
        Known(items, GroupKeys, where);
        var role = items.TryGetValue("role", out var r) ? Scalar(r, $"{where}.role") : throw new ScenarioException($"{where}: no role = ...");
        var parameters = items.TryGetValue("parameters", out var p)
            ? Object(p, $"{where}.parameters").ToDictionary(kv => kv.Key, kv => Scalar(kv.Value, $"{where}.parameters.{kv.Key}"), StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);
        return new ParticipantGroup(role,
            items.TryGetValue("count", out var c) ? Scalar(c, $"{where}.count") : "1",
            items.TryGetValue("name", out var n) ? Scalar(n, $"{where}.name") : role + "-{i}",
            parameters,
            items.TryGetValue("daemon", out var d) && Bool(d, $"{where}.daemon"));
    }

    private static IEnumerable<PrimitiveDeclaration> Primitives(Scenario scenario, HoconValue value, string where)
    {
        var items = Object(value, where);
        Known(items, PrimitiveKeys, where);
        var kindText = items.TryGetValue("kind", out var k) ? Scalar(k, $"{where}.kind") : throw new ScenarioException($"{where}: no kind = ...");
        var kind = Enum.GetValues<PrimitiveKind>().FirstOrDefault(x => PrimitiveDeclaration.KindName(x) == kindText, (PrimitiveKind)(-1));
        if (kind == (PrimitiveKind)(-1))
            throw new ScenarioException(
                $"{where}.kind: '{kindText}' is not a primitive (known: {string.Join(", ", Enum.GetValues<PrimitiveKind>().Select(PrimitiveDeclaration.KindName))})");
        var name = items.TryGetValue("name", out var n) ? Scalar(n, $"{where}.name") : throw new ScenarioException($"{where}: no name = ...");
        var size = items.TryGetValue("size", out var s) ? Scalar(s, $"{where}.size") : "0";
        var count = items.TryGetValue("count", out var c) ? scenario.ResolveInt(Scalar(c, $"{where}.count"), $"{where}.count") : 1;
        var lockName = items.TryGetValue("lock", out var l) ? Scalar(l, $"{where}.lock") : null;
        if (kind == PrimitiveKind.Condition && lockName is null)
            throw new ScenarioException($"{where}: a condition needs lock = ... (the name of its Lock or RLock)");
        if (kind != PrimitiveKind.Condition && lockName is not null)
            throw new ScenarioException($"{where}.lock: only a condition has a lock");
        var leaseMs = items.TryGetValue("lease-ms", out var lm) ? Scalar(lm, $"{where}.lease-ms") : "0";
        if (leaseMs != "0" && kind is not (PrimitiveKind.Lock or PrimitiveKind.RLock or PrimitiveKind.Semaphore or PrimitiveKind.BoundedSemaphore
                or PrimitiveKind.JoinableQueue))
            throw new ScenarioException($"{where}.lease-ms: only a lock, rlock, semaphore, bounded-semaphore or joinable-queue has a lease");
        if (count > 1 && !name.Contains("{i}", StringComparison.Ordinal))
            throw new ScenarioException($"{where}.name: '{name}' needs {{i}} when count is {count}");
        for (var i = 1; i <= count; i++)
            yield return new PrimitiveDeclaration(kind, name.Replace("{i}", i.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal), size,
                lockName?.Replace("{i}", i.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)) { LeaseMs = leaseMs };
    }

    private static ScenarioSentinel Sentinel(HoconValue value, string where)
    {
        var items = Object(value, where);
        Known(items, SentinelKeys, where);
        string Required(string key) => items.TryGetValue(key, out var v) ? Scalar(v, $"{where}.{key}") : throw new ScenarioException($"{where}: no {key} = ...");
        return new ScenarioSentinel(Required("queue"), Required("after"), Required("per"));
    }

    private static ScenarioFault Fault(HoconValue value, string where)
    {
        var items = Object(value, where);
        Known(items, FaultKeys, where);
        var actionText = items.TryGetValue("action", out var a) ? Scalar(a, $"{where}.action") : throw new ScenarioException($"{where}: no action = kill|terminate|pause|partition");
        var action = actionText switch
        {
            "kill" => ScenarioFaultAction.Kill,
            "terminate" => ScenarioFaultAction.Terminate,
            "pause" => ScenarioFaultAction.Pause,
            "partition" => ScenarioFaultAction.Partition,
            _ => throw new ScenarioException($"{where}.action: '{actionText}' is not kill, terminate, pause or partition"),
        };
        TimeSpan? duration = null;
        if (items.TryGetValue("duration-s", out var ds))
        {
            if (action is not (ScenarioFaultAction.Pause or ScenarioFaultAction.Partition))
                throw new ScenarioException($"{where}.duration-s: only a pause or a partition lasts a while");
            duration = TimeSpan.FromSeconds(Number(ds, $"{where}.duration-s", 0, 86_400));
        }
        else if (action is ScenarioFaultAction.Pause or ScenarioFaultAction.Partition)
            duration = ScenarioFault.DefaultPause;
        var target = items.TryGetValue("target", out var t) ? Scalar(t, $"{where}.target") : throw new ScenarioException($"{where}: no target = NAME|holder");
        var at = items.TryGetValue("at-s", out var s) ? Number(s, $"{where}.at-s", 0, 86_400) : 0;
        return new ScenarioFault(action, target, at, items.TryGetValue("lock", out var l) ? Scalar(l, $"{where}.lock") : null)
        {
            AfterReport = items.TryGetValue("after-report", out var ar) && Bool(ar, $"{where}.after-report"),
            Duration = duration,
        };
    }

    private static ScenarioCheck Check(HoconValue value, string where)
    {
        if (value.IsString())
            return new ExpressionCheck(value.GetString());
        var items = Object(value, where);
        Known(items, CheckKeys, where);
        var kind = items.TryGetValue("kind", out var k) ? Scalar(k, $"{where}.kind") : "expression";
        return kind switch
        {
            "exactly-once" => new ExactlyOnceCheck(items.TryGetValue("queue", out var q) ? Scalar(q, $"{where}.queue") : throw new ScenarioException($"{where}: no queue = ...")),
            "expression" => new ExpressionCheck(items.TryGetValue("expression", out var e) ? Scalar(e, $"{where}.expression")
                : throw new ScenarioException($"{where}: no expression = ...")),
            _ => throw new ScenarioException($"{where}.kind: '{kind}' is not a check kind (known: expression, exactly-once)"),
        };
    }

    private static ScenarioFigure Figure(string name, string expression)
    {
        var parsed = FigureExpression.Parse(expression);
        if (parsed.IsComparison)
            throw new ScenarioException($"figures.{name}: '{expression}' is a comparison; a figure is a value (comparisons go in checks)");
        return ScenarioFigure.Of(name, expression);
    }

    private static void Known(IDictionary<string, HoconValue> items, string[] known, string where)
    {
        foreach (var key in items.Keys)
        {
            if (!known.Contains(key))
                throw new ScenarioException($"unknown key '{(where.Length == 0 ? key : $"{where}.{key}")}' (known here: {string.Join(", ", known)})");
        }
    }

    private static IDictionary<string, HoconValue> Object(HoconValue value, string where) =>
        value.IsObject() ? value.GetObject().Items : throw new ScenarioException($"{(where.Length == 0 ? "the file" : where)}: expected {{ ... }}");

    private static IList<HoconValue> Array(HoconValue value, string where) =>
        value.IsArray() ? value.GetArray() : throw new ScenarioException($"{where}: expected [ ... ]");

    private static string Scalar(HoconValue value, string where) =>
        value.IsString() ? value.GetString() : throw new ScenarioException($"{where}: expected a single value, not {(value.IsArray() ? "a list" : "an object")}");

    private static bool Bool(HoconValue value, string where) => Scalar(value, where) switch
    {
        "true" or "on" or "yes" => true,
        "false" or "off" or "no" => false,
        var other => throw new ScenarioException($"{where}: '{other}' is not true or false"),
    };

    private static double Number(HoconValue value, string where, double min, double max)
    {
        var text = Scalar(value, where);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ScenarioException($"{where}: '{text}' is not a number from {min} to {max}");
    }

    /// <summary><c>fail</c> or <c>continue</c>; anything else is an error naming <paramref name="where"/>.</summary>
    public static DeadlockPolicy ParseDeadlockPolicy(string text, string where) => text switch
    {
        "fail" => DeadlockPolicy.Fail,
        "continue" => DeadlockPolicy.Continue,
        _ => throw new ScenarioException($"{where}: '{text}' is not fail or continue"),
    };
}
