using System.Globalization;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Goldens;

/// <summary>Collects what a golden case found different from Python; an empty list means it passed.</summary>
internal sealed class GoldenChecks
{
    private readonly List<string> _issues = [];

    public double MaxAbsDiff { get; private set; }

    /// <summary>Compares each of Python's outputs with ours of the same name (a missing one is an issue).</summary>
    public void Outputs(string label, IReadOnlyDictionary<string, Tensor> ours, IReadOnlyDictionary<string, Tensor> python)
    {
        foreach (var (name, expected) in python)
        {
            if (!ours.TryGetValue(name, out var actual))
            {
                _issues.Add($"{label}: we give no {name}");
                continue;
            }
            Tensor(($"{label} {name}"), actual, expected);
        }
    }

    public void Tensor(string label, Tensor ours, Tensor python)
    {
        if (!ours.shape.SequenceEqual(python.shape))
        {
            _issues.Add($"{label}: shape [{string.Join(", ", ours.shape)}], Python's [{string.Join(", ", python.shape)}]");
            return;
        }
        using var diff = (ours.detach().to(ScalarType.Float32) - python).abs().max();
        var max = diff.item<float>();
        if (float.IsNaN(max))
        {
            _issues.Add($"{label}: NaN");
            MaxAbsDiff = double.PositiveInfinity;
            return;
        }
        MaxAbsDiff = Math.Max(MaxAbsDiff, max);
        if (max > GoldenOutcome.Tolerance) _issues.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: max abs diff {max:G3}"));
    }

    public void Keys(string label, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected)
    {
        if (missing.Count > 0) _issues.Add($"{label}: {missing.Count} missing key(s), e.g. {string.Join(", ", missing.Take(3))}");
        if (unexpected.Count > 0) _issues.Add($"{label}: {unexpected.Count} unexpected key(s), e.g. {string.Join(", ", unexpected.Take(3))}");
    }

    public void Equal<T>(string label, T ours, T python)
    {
        if (!EqualityComparer<T>.Default.Equals(ours, python)) _issues.Add($"{label}: ours {ours}, Python's {python}");
    }

    public void Close(string label, double ours, double python, double tolerance)
    {
        if (Math.Abs(ours - python) > tolerance) _issues.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: ours {ours}, Python's {python}"));
    }

    public GoldenOutcome Outcome() => _issues.Count == 0
        ? new GoldenOutcome(OutcomeKind.Passed, "", MaxAbsDiff)
        : new GoldenOutcome(OutcomeKind.Wrong, string.Join("; ", _issues.Take(6)) + (_issues.Count > 6 ? $"; and {_issues.Count - 6} more" : ""), MaxAbsDiff);
}
