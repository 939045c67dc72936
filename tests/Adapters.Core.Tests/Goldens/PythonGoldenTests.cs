using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Adapters.Core.Tests.Goldens;

/// <summary>
/// Every case of fixtures/python-goldens/MANIFEST.json against what Python's <c>adapters</c> 1.1.0 and <c>peft</c>
/// 0.14.0 computed: equal outputs (max abs diff ≤ 1e-5), no missing or unexpected keys, equal parameter counts and
/// summary rows, and a typed refusal exactly where Python refused. Cases that differ today are in <see cref="KnownGaps"/>.
/// </summary>
public sealed class PythonGoldenTests(ITestOutputHelper output)
{
    private static readonly ConcurrentDictionary<string, GoldenOutcome> s_outcomes = new(StringComparer.Ordinal);

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var id in Copied()) data.Add(id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_does_what_python_did(string id)
    {
        var c = GoldenCase.All[id];
        var outcome = OutcomeOf(c);
        var verdict = Judge(c, outcome);
        output.WriteLine($"{id}: {outcome}");
        Assert.True(verdict.Ok, verdict.Message);
    }

    [Fact]
    public void Scoreboard_counts_every_case_and_none_is_unexplained()
    {
        var rows = new SortedDictionary<string, int[]>(StringComparer.Ordinal);
        var unexplained = new List<string>();
        foreach (var id in Copied())
        {
            var c = GoldenCase.All[id];
            var outcome = OutcomeOf(c);
            var verdict = Judge(c, outcome);
            if (!verdict.Ok) unexplained.Add(verdict.Message);
            var column = !verdict.Ok ? 5
                : c.PythonRefused ? (outcome.Kind == OutcomeKind.Refused ? 1 : 4)
                : outcome.Kind switch { OutcomeKind.Passed => 0, OutcomeKind.Refused => 2, _ => 3 };
            if (!rows.TryGetValue(c.Group, out var counts)) rows[c.Group] = counts = new int[6];
            counts[column]++;
        }
        var text = new StringBuilder();
        text.AppendLine("group         cases  pass  refused-as-python  gap-refused  gap-wrong  gap-accepted  unexplained");
        foreach (var (group, counts) in rows)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"{group,-12} {counts.Sum(),6} {counts[0],5} {counts[1],18} {counts[2],12} {counts[3],10} {counts[4],13} {counts[5],12}"));
        }
        var total = Enumerable.Range(0, 6).Select(i => rows.Values.Sum(r => r[i])).ToArray();
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{"all",-12} {total.Sum(),6} {total[0],5} {total[1],18} {total[2],12} {total[3],10} {total[4],13} {total[5],12}"));
        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"{total[0] + total[1]} of {total.Sum()} cases do what Python did; {GoldenCase.NotCopied.Count} case folders were not copied (size): {string.Join(", ", GoldenCase.NotCopied)}"));
        foreach (var (id, seconds) in s_seconds.Where(kv => kv.Value > 2).OrderByDescending(kv => kv.Value))
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"slow: {id} {seconds:F1} s"));
        output.WriteLine(text.ToString());
        Assert.True(unexplained.Count == 0, string.Join("\n", unexplained));
    }

    [Fact]
    public void Every_known_gap_names_a_case_that_runs_here()
    {
        var copied = Copied().ToHashSet(StringComparer.Ordinal);
        var stale = KnownGaps.Table.Keys.Where(id => !copied.Contains(id)).ToArray();
        Assert.True(stale.Length == 0, $"KnownGaps lists cases that are not golden cases here: {string.Join(", ", stale)}");
    }

    [Fact]
    public void Only_the_listed_prefix_tuning_folders_were_left_out_of_the_copy()
    {
        var missing = GoldenCase.All.Values.Where(c => !c.PythonRefused && c.Folder is not null && !Directory.Exists(c.PathOf())).Select(c => c.Folder!).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(GoldenCase.NotCopied.Order(StringComparer.Ordinal), missing.Order(StringComparer.Ordinal));
    }

    /// <summary>The cases whose folders were copied (all of them but the prefix-tuning ones left out for size).</summary>
    private static IEnumerable<string> Copied() =>
        GoldenCase.All.Values.Where(c => c.PythonRefused || c.Folder is null || !GoldenCase.NotCopied.Contains(c.Folder)).Select(c => c.Id);

    private static GoldenOutcome OutcomeOf(GoldenCase c) => s_outcomes.GetOrAdd(c.Id, _ =>
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var outcome = GoldenRunner.Run(c);
        s_seconds[c.Id] = clock.Elapsed.TotalSeconds;
        return outcome;
    });

    private static readonly ConcurrentDictionary<string, double> s_seconds = new(StringComparer.Ordinal);

    private static (bool Ok, string Message) Judge(GoldenCase c, GoldenOutcome outcome)
    {
        if (outcome.Kind == OutcomeKind.Crashed) return (false, $"{c.Id} crashed: {outcome.Detail}");
        var gap = KnownGaps.Table.TryGetValue(c.Id, out var known) ? known : ((GapKind Kind, string Reason)?)null;
        if (c.PythonRefused)
        {
            if (outcome.Kind == OutcomeKind.Refused)
            {
                return gap is null ? (true, "") : (false, $"{c.Id} is refused as Python refuses it now: remove it from KnownGaps");
            }
            return gap is { Kind: GapKind.Accepted }
                ? (true, "")
                : (false, $"{c.Id}: Python refused it ({c.PythonError}), we did not: {outcome}");
        }
        if (gap is null)
        {
            return outcome.Kind == OutcomeKind.Passed ? (true, "") : (false, $"{c.Id}: {outcome}");
        }
        if (outcome.Kind == OutcomeKind.Passed) return (false, $"{c.Id} now passes: remove it from KnownGaps");
        var expected = gap.Value.Kind == GapKind.Refused ? OutcomeKind.Refused : OutcomeKind.Wrong;
        if (outcome.Kind != expected)
            return (false, $"{c.Id}: KnownGaps says {gap.Value.Kind} ({gap.Value.Reason}) but it is {outcome}");
        if (expected == OutcomeKind.Wrong && !(outcome.MaxAbsDiff > GoldenOutcome.Tolerance) && outcome.Detail.Length == 0)
            return (false, $"{c.Id}: listed Wrong but nothing differs");
        return (true, "");
    }
}
