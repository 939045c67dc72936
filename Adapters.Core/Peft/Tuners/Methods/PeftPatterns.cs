using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Adapters.Core.Configuration;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>How PEFT 0.14's tuners pick a module's entry in <c>rank_pattern</c> / <c>alpha_pattern</c>.</summary>
internal static class PeftPatterns
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(1);

    /// <summary>LoRA 0.14 (<c>get_pattern_key</c>): the first key with <c>re.match(".*\." + key + "$", path)</c>; a segment must precede the key.</summary>
    public static string? LoraKey(IEnumerable<string> keys, string path) =>
        keys.FirstOrDefault(k => Regex.IsMatch(path, $"^.*\\.{k}$", RegexOptions.CultureInvariant, s_timeout));

    /// <summary>LoRA's rank and alpha for <paramref name="path"/>.</summary>
    public static (int R, double Alpha) LoraRankAndAlpha(PeftConfig config, string path, int defaultR, double defaultAlpha)
    {
        var ranks = config.Pattern("rank_pattern");
        var alphas = config.Pattern("alpha_pattern");
        var r = LoraKey(ranks.Select(p => p.Key), path) is { } rk ? ConfigValues.ReadInt(ranks.First(p => p.Key == rk).Value, $"rank_pattern.{rk}") : defaultR;
        var alpha = LoraKey(alphas.Select(p => p.Key), path) is { } ak ? ConfigValues.ReadFloat(alphas.First(p => p.Key == ak).Value, $"alpha_pattern.{ak}") : defaultAlpha;
        return (r, alpha);
    }

    /// <summary>LyCORIS 0.14 (LoHa, LoKr): one key found over rank then alpha keys with <c>(.*\.)?key$</c>, used for both dicts.</summary>
    public static (int R, double Alpha) LycorisRankAndAlpha(PeftConfig config, string path)
    {
        var ranks = config.Pattern("rank_pattern");
        var alphas = config.Pattern("alpha_pattern");
        var key = PeftMatching.PatternKey(ranks.Select(p => p.Key).Concat(alphas.Select(p => p.Key)), path);
        var r = config.Int("r", 8);
        var alpha = config.Double("alpha", 8);
        if (key is null) return (r, alpha);
        if (ranks.FirstOrDefault(p => p.Key == key).Value is JsonNode rn) r = ConfigValues.ReadInt(rn, $"rank_pattern.{key}");
        if (alphas.FirstOrDefault(p => p.Key == key).Value is JsonNode an) alpha = ConfigValues.ReadFloat(an, $"alpha_pattern.{key}");
        return (r, alpha);
    }

    /// <summary>The field names PEFT 0.14 gives every tuner config of the LoRA family.</summary>
    public static HashSet<string> Fields(params string[] names) => new(names, StringComparer.Ordinal);
}
