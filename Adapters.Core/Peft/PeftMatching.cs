using System.Globalization;
using System.Text.RegularExpressions;

namespace Adapters.Core.Peft;

/// <summary>
/// PEFT's module-name rules (<c>check_target_module_exists</c>, <c>get_pattern_key</c>, IA³'s feed-forward check),
/// applied to module paths as PEFT's <c>named_modules()</c> shows them.
/// </summary>
public static class PeftMatching
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether <paramref name="config"/> adapts the module at <paramref name="path"/>: a regex selector must match the
    /// whole path; a list entry must equal it or be a suffix after a dot, and <c>layers_to_transform</c> then filters by
    /// the layer number PEFT extracts; <c>exclude_modules</c> removes modules with the same rules.
    /// </summary>
    public static bool IsTargeted(PeftAdapterConfig config, string path)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(path);
        if (config.ExcludeModules is { } exclude && MatchesSelector(exclude, path)) return false;
        if (config.TargetModules is not { } targets) return false;
        if (targets.Pattern is { } pattern) return FullMatch(pattern, path);
        if (targets.Names!.Contains(path, StringComparer.Ordinal)) return true;
        if (!targets.Names!.Any(t => path.EndsWith("." + t, StringComparison.Ordinal))) return false;
        if (config.LayersToTransform is not { Count: > 0 } layers) return true;
        return LayerIndex(path, config.LayersPattern) is { } index && layers.Contains(index);
    }

    /// <summary>
    /// IA³'s <c>_check_target_module_feedforward</c>: a regex must match the whole path; a list entry need only be a
    /// plain suffix (no dot required, unlike <c>target_modules</c>).
    /// </summary>
    public static bool IsFeedForward(PeftAdapterConfig config, string path)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.FeedforwardModules is not { } ff) return false;
        return ff.Pattern is { } pattern ? FullMatch(pattern, path) : ff.Names!.Any(n => path.EndsWith(n, StringComparison.Ordinal));
    }

    /// <summary>
    /// PEFT's <c>get_pattern_key</c>: the first key of <paramref name="patterns"/> (in file order) such that
    /// <c>re.match(r"(.*\.)?(KEY)$", path)</c> succeeds, or null.
    /// </summary>
    public static string? PatternKey(IEnumerable<string> patterns, string path)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        foreach (var key in patterns)
        {
            if (Regex.IsMatch(path, $"^(.*\\.)?({key})$", RegexOptions.CultureInvariant, s_timeout)) return key;
        }
        return null;
    }

    /// <summary>
    /// The layer number PEFT reads from a path for <c>layers_to_transform</c>: after the last <c>.PATTERN.N.</c> with
    /// <c>layers_pattern</c>, else after the last <c>.NAME.N.</c> of any name.
    /// </summary>
    public static int? LayerIndex(string path, IReadOnlyList<string>? layersPattern)
    {
        ArgumentNullException.ThrowIfNull(path);
        Match? match = null;
        if (layersPattern is not { Count: > 0 })
        {
            match = Regex.Match(path, @"^.*\.[^.]*\.(\d+)\.", RegexOptions.CultureInvariant, s_timeout);
        }
        else
        {
            foreach (var pattern in layersPattern)
            {
                match = Regex.Match(path, $"^.*\\.{pattern}\\.(\\d+)\\.", RegexOptions.CultureInvariant, s_timeout);
                if (match.Success) break;
            }
        }
        return match is { Success: true } ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    private static bool MatchesSelector(PeftModuleSelector selector, string path) =>
        selector.Pattern is { } pattern
            ? FullMatch(pattern, path)
            : selector.Names!.Any(n => path == n || path.EndsWith("." + n, StringComparison.Ordinal));

    private static bool FullMatch(string pattern, string path) =>
        Regex.IsMatch(path, $"^(?:{pattern})$", RegexOptions.CultureInvariant, s_timeout);
}
