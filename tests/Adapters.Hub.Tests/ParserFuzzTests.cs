using System.Diagnostics;
using Adapters.Testing;
using Adapters.Testing.Fuzz;
using Xunit.Abstractions;

namespace Adapters.Hub.Tests;

/// <summary>
/// A bounded, deterministic fuzz run over every parser that reads untrusted files: each mutated fixture must parse
/// or end in the parser's typed error, each within a bounded allocation. The long run is <c>bench fuzz</c>.
/// </summary>
public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 16;
    private const int Cases = 1500;
    private const long MaxAllocatedPerCase = 256L << 20;

    [Fact]
    public void Mutated_inputs_of_every_parser_parse_or_fail_typed_within_bounds()
    {
        using var fuzz = new ParserFuzz(TestPaths.Fixture());
        var stopwatch = Stopwatch.StartNew();
        var parsed = new Dictionary<FuzzTarget, int>();
        var typed = new Dictionary<FuzzTarget, int>();
        for (var i = 0; i < Cases; i++)
        {
            var fuzzCase = fuzz.Case(Seed, i);
            var before = GC.GetTotalAllocatedBytes(precise: false);
            bool ok;
            try
            {
                ok = fuzz.Run(fuzzCase);
            }
            catch (Exception ex)
            {
                Assert.Fail($"case {i} (from {fuzzCase.Seed.Name}) threw {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
                return;
            }
            var allocated = GC.GetTotalAllocatedBytes(precise: false) - before;
            Assert.True(allocated < MaxAllocatedPerCase, $"case {i} (from {fuzzCase.Seed.Name}) allocated {allocated} bytes");
            var counts = ok ? parsed : typed;
            counts[fuzzCase.Seed.Target] = counts.GetValueOrDefault(fuzzCase.Seed.Target) + 1;
        }
        foreach (var target in Enum.GetValues<FuzzTarget>())
        {
            output.WriteLine($"{target}: {parsed.GetValueOrDefault(target)} parsed, {typed.GetValueOrDefault(target)} typed errors");
            // Every parser was reached, and the mutations were strong enough to make each one refuse something.
            Assert.True(typed.GetValueOrDefault(target) > 0, $"no mutation of a {target} input was refused");
        }
        output.WriteLine($"{Cases} cases in {stopwatch.Elapsed.TotalSeconds:F1} s");
    }
}
