using System.Text.RegularExpressions;

namespace Adapters.Hub.Legacy.Migration;

/// <summary>
/// Selects registry entries with shell-style globs (<c>*</c>, <c>?</c>; case-sensitive). Every glob that is set must match.
/// </summary>
public sealed class MigrationFilter
{
    /// <summary>Matches the org folder (<c>ukp</c>).</summary>
    public string? Org { get; init; }

    /// <summary>Matches the base model (<c>bert-base-*</c>).</summary>
    public string? Model { get; init; }

    /// <summary>Matches <c>task/subtask</c> (<c>sentiment/*</c>).</summary>
    public string? Task { get; init; }

    /// <summary>
    /// Matches any of <c>org/stem</c>, <c>@org/stem</c>, the stem alone, the model or <c>task/subtask</c>; the CLI's <c>--only</c>.
    /// </summary>
    public string? Only { get; init; }

    /// <summary>Whether <paramref name="card"/> passes every glob that is set.</summary>
    public bool Matches(LegacyAdapterCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var taskPair = $"{card.Task}/{card.Subtask}";
        return (Org is null || Glob(Org, card.Org))
            && (Model is null || Glob(Model, card.ModelName))
            && (Task is null || Glob(Task, taskPair))
            && (Only is null || new[] { $"{card.Org}/{card.Stem}", card.LegacyId, card.Stem, card.ModelName, taskPair }.Any(c => Glob(Only, c)));
    }

    private static bool Glob(string pattern, string value)
    {
        var regex = "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(value, regex, RegexOptions.CultureInvariant | RegexOptions.Singleline, TimeSpan.FromSeconds(1));
    }
}
