using System.Buffers.Binary;
using System.Runtime.Serialization;
using System.Text;
using Akka.Actor;
using Sim.Core;
using Sim.Core.Serialization;
using Xunit;

namespace Sim.Tests;

/// <summary>
/// Issue 18: the bytes of a message come from the network and are not trusted. Every truncation, byte flip,
/// huge length and bit of garbage fed to every Sim codec must decode or fail with a SerializationException,
/// and never allocate much more than the bytes present. Seeds are fixed, so a failure repeats.
/// </summary>
public sealed class SimSerializerFuzzSpec : SimSpec
{
    // The bound of the issue: allocation in proportion to the input, plus room for an exception and its message.
    private const int AllocationFactor = 64;
    private const int AllocationSlack = 64 * 1024;

    private readonly SimSerializer _serializer;
    private readonly IReadOnlyList<(string Manifest, byte[] Bytes)> _valid;

    public SimSerializerFuzzSpec()
    {
        _serializer = new SimSerializer((ExtendedActorSystem)Sys);
        _valid = SimSerializerSpec.Samples(CreateTestProbe().Ref)
            .Select(m => (_serializer.Manifest(m), _serializer.ToBinary(m)))
            .ToList();
        // The first decode of a type and the first exception allocate for the JIT and type loading: not measured.
        foreach (var (manifest, bytes) in _valid)
            for (var i = 0; i < 2; i++)
            {
                TryDecode(bytes, manifest);
                TryDecode(bytes[..^Math.Min(1, bytes.Length)], manifest);
                TryDecode([0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0, 0, 0, 0], manifest);
            }
    }

    [Fact]
    public void Every_codec_has_a_sample_to_fuzz()
    {
        Assert.Empty(Codecs.ByManifest.Keys.Except(_valid.Select(v => v.Manifest)));
    }

    [Fact]
    public void Every_truncation_and_every_trailing_byte_is_rejected()
    {
        var findings = new Findings();
        foreach (var (manifest, bytes) in _valid)
        {
            for (var length = 0; length < bytes.Length; length++)
                Check(findings, manifest, bytes[..length], $"truncated to {length} of {bytes.Length} bytes", mustReject: true);
            Check(findings, manifest, [.. bytes, 0], "with a trailing 0 byte", mustReject: true);
            Check(findings, manifest, [.. bytes, .. bytes], "twice", mustReject: bytes.Length > 0);
        }
        findings.AssertNone(expectRejected: true);
    }

    [Fact]
    public void Random_byte_flips_decode_or_are_rejected_within_the_allocation_bound()
    {
        var findings = new Findings();
        for (var sample = 0; sample < _valid.Count; sample++)
        {
            var (manifest, bytes) = _valid[sample];
            if (bytes.Length == 0)
                continue;
            var random = new Random(1800 + sample);
            for (var round = 0; round < 300; round++)
            {
                var mutant = (byte[])bytes.Clone();
                var flips = 1 + random.Next(4);
                for (var f = 0; f < flips; f++)
                {
                    var at = random.Next(mutant.Length);
                    mutant[at] = random.Next(2) == 0 ? (byte)(mutant[at] ^ (1 << random.Next(8))) : (byte)random.Next(256);
                }
                Check(findings, manifest, mutant, $"seed {1800 + sample} round {round}");
            }
        }
        findings.AssertNone();
    }

    [Fact]
    public void Huge_lengths_at_every_offset_are_rejected_without_allocating_them()
    {
        // Lists and byte arrays have 4-byte little-endian lengths, strings 7-bit encoded ones (as BinaryWriter).
        int[] fixedLengths = [int.MaxValue, 10_000_000, 0x00FF_FFFF, -1, int.MinValue];
        byte[][] stringLengths = [[0xFF, 0xFF, 0xFF, 0xFF, 0x07], [0x80, 0xAD, 0xE2, 0x04], [0xFF, 0xFF, 0xFF, 0xFF, 0x0F], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]];
        var findings = new Findings();
        foreach (var (manifest, bytes) in _valid)
            for (var at = 0; at < bytes.Length; at++)
            {
                foreach (var length in fixedLengths)
                {
                    var mutant = Overwrite(bytes, at, BitConverter.GetBytes(length));
                    Check(findings, manifest, mutant, $"length {length} at offset {at}");
                }
                foreach (var length in stringLengths)
                    Check(findings, manifest, Overwrite(bytes, at, length), $"string length {Convert.ToHexString(length)} at offset {at}");
            }
        findings.AssertNone();
    }

    [Fact]
    public void Small_random_garbage_decodes_or_is_rejected_within_the_allocation_bound()
    {
        // Half the garbage is made of small and boundary bytes, so it gets past enum and bool checks more often.
        byte[] likely = [0, 0, 0, 1, 2, 3, 4, 0x7F, 0x80, 0xFF];
        var findings = new Findings();
        var random = new Random(18);
        foreach (var manifest in Codecs.ByManifest.Keys.Order(StringComparer.Ordinal))
            for (var round = 0; round < 300; round++)
            {
                var garbage = new byte[random.Next(49)];
                if (round % 2 == 0)
                    random.NextBytes(garbage);
                else
                    for (var i = 0; i < garbage.Length; i++)
                        garbage[i] = likely[random.Next(likely.Length)];
                Check(findings, manifest, garbage, $"garbage {Convert.ToHexString(garbage)}");
            }
        findings.AssertNone();
    }

    [Fact]
    public void A_9_byte_message_claiming_a_huge_list_allocates_nothing_like_it()
    {
        // The issue's example: a list count of 10 million in 9 bytes made the reader reserve 80-160 MB.
        var huge = BitConverter.GetBytes(10_000_000);
        byte[] sharedItems = [3, 0, 0, 0, .. huge, 0];   // SharedKind.Dict, then the count
        byte[] queuePut = [0, .. huge, 0, 0, 0, 0];      // producer "", then the count
        byte[] checkLedger = [.. huge, 0, 0, 0, 0, 0];   // the count of ids
        foreach (var (manifest, bytes) in new[] { ("SI", sharedItems), ("QP", queuePut), ("GK", checkLedger) })
        {
            Assert.Equal(9, bytes.Length);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var error = Record.Exception(() => _serializer.FromBinary(bytes, manifest));
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < AllocationSlack, $"{manifest}: 9 bytes made FromBinary allocate {allocated} bytes");
            Assert.IsType<SerializationException>(error);
        }
    }

    public static TheoryData<string, string, string> InvalidPayloads() => new()
    {
        // manifest, hex of the body, what is wrong with it
        { "QP", "01" + "70" + "01000000" + "07000000" + "00000000" + "0000000000000000", "queue item kind 7" },
        { "QP", "01" + "70" + "01000000" + "00000000" + "01000000" + "41" + "0000000000000000", "None item with a payload" },
        { "SS", "016F" + "016B" + "09000000" + "0000000000000000" + "0000000000000000" + "00", "shared scalar kind 9" },
        { "SD", "016F" + "05000000" + "00000000" + "0000000000000000" + "0000000000000000" + "00" + "00000000", "shared kind 5" },
        { "SI", "FFFFFFFF" + "00000000", "shared kind -1" },
        { "LG", "02C328" + "0000000000000000" + "0000000000000000", "invalid UTF-8 in a string" },
        { "LG", "02E282" + "0000000000000000" + "0000000000000000", "a string ending inside a UTF-8 sequence" },
        { "LA", "0174" + "0000000000000000" + "0162" + "0C" + Hex("not a path!!") + "0000000000000000" + "01000000", "a malformed actor path" },
        { "LA", "0174" + "0000000000000000" + "0162" + "00" + "0000000000000000" + "01000000", "an empty actor path" },
        { "QD", "0171" + "0A000000" + "02", "bool byte 2" },
        { "PX", "0162" + "05" + "00000000", "nullable flag 5" },
        { "RP", "0162" + "0172" + "01000000" + "02000000" + "0178" + "0100000000000000" + "0178" + "0200000000000000", "a dictionary key twice" },
        { "ID", "02000000" + "05000000" + "0102", "a payload longer than the bytes left" },
        { "ZZ", "", "an unknown manifest" },
    };

    [Theory]
    [MemberData(nameof(InvalidPayloads))]
    public void Invalid_payloads_are_serialization_errors_naming_the_manifest(string manifest, string hex, string what)
    {
        var error = Record.Exception(() => _serializer.FromBinary(Convert.FromHexString(hex), manifest));
        Assert.True(error is SerializationException, $"{what}: {(error is null ? "decoded" : error.GetType().Name + ": " + error.Message)}");
        Assert.Contains($"'{manifest}'", error!.Message);
    }

    private static string Hex(string text) => Convert.ToHexString(Encoding.UTF8.GetBytes(text));

    private static byte[] Overwrite(byte[] bytes, int at, byte[] with)
    {
        var result = new byte[Math.Max(bytes.Length, at + with.Length)];
        bytes.CopyTo(result, 0);
        with.CopyTo(result, at);
        return result;
    }

    private void TryDecode(byte[] bytes, string manifest)
    {
        try
        {
            _serializer.FromBinary(bytes, manifest);
        }
        catch (Exception)
        {
            // warm-up only
        }
    }

    private void Check(Findings findings, string manifest, byte[] input, string what, bool mustReject = false)
    {
        object? decoded = null;
        Exception? error = null;
        var before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            decoded = _serializer.FromBinary(input, manifest);
        }
        catch (Exception e)
        {
            error = e;
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var (kind, detail) =
            allocated > (long)AllocationFactor * input.Length + AllocationSlack ? ("allocated too much", $"{allocated} bytes for {input.Length}")
            : error is not null and not SerializationException ? ($"threw {error.GetType().Name}", error.Message)
            : mustReject && decoded is not null ? ("decoded", $"as {decoded}")
            : decoded is not null && Rewrite(decoded) is { } rewriteError ? ("decoded as a message that cannot be written", rewriteError)
            : (null, null);
        findings.Add(kind, $"{manifest} {what}: {detail}", rejected: error is not null);
    }

    private string? Rewrite(object decoded)
    {
        try
        {
            _serializer.ToBinary(decoded);
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    private sealed class Findings
    {
        // Problems by kind, so a report shows every kind of misbehaviour and a few examples of each.
        private readonly Dictionary<string, List<string>> _problems = new(StringComparer.Ordinal);
        private int _cases;
        private int _rejected;

        public void Add(string? kind, string example, bool rejected)
        {
            _cases++;
            if (rejected)
                _rejected++;
            if (kind is null)
                return;
            if (!_problems.TryGetValue(kind, out var examples))
                _problems[kind] = examples = [];
            examples.Add(example);
        }

        public void AssertNone(bool expectRejected = false)
        {
            Assert.True(_problems.Count == 0,
                $"{_problems.Values.Sum(p => p.Count)} of {_cases} inputs misbehaved:\n" + string.Join("\n", _problems.Select(p =>
                    $"{p.Value.Count} {p.Key}, e.g.\n  " + string.Join("\n  ", p.Value.Take(4)))));
            // A fuzz run that never reaches the decoder's checks would pass without testing anything.
            Assert.True(_cases > 0 && (_rejected > 0 || !expectRejected), $"{_rejected} of {_cases} inputs rejected");
        }
    }
}
