using System.Text.Json.Nodes;

namespace Adapters.Hub.Legacy;

/// <summary>
/// The registry's named architectures (<c>dist/v2/architectures.json</c>) and how a card's <c>config</c> expands to
/// the full config the generator hashed: the architecture's config, overlaid with every card key except <c>using</c>.
/// </summary>
public sealed class LegacyArchitectures
{
    // The library's current names for the registry's architectures (ADAPTER_CONFIG_MAP aliases).
    private static readonly Dictionary<string, string> s_libraryAliases = new(StringComparer.Ordinal)
    {
        ["seq_bn"] = "pfeiffer",
        ["double_seq_bn"] = "houlsby",
        ["seq_bn_inv"] = "pfeiffer+inv",
        ["double_seq_bn_inv"] = "houlsby+inv",
    };

    private readonly IReadOnlyDictionary<string, JsonObject> _configs;

    internal LegacyArchitectures(IReadOnlyDictionary<string, JsonObject> configs) => _configs = configs;

    /// <summary>The architecture names in the registry.</summary>
    public IEnumerable<string> Names => _configs.Keys;

    /// <summary>Returns a copy of the named architecture's config (registry names and the library aliases <c>seq_bn</c>, <c>double_seq_bn</c>, …), or null.</summary>
    public JsonObject? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_configs.TryGetValue(name, out var config)) return (JsonObject)config.DeepClone();
        return s_libraryAliases.TryGetValue(name, out var alias) && _configs.TryGetValue(alias, out var aliased)
            ? (JsonObject)aliased.DeepClone()
            : null;
    }

    /// <summary>The full config of a card: the architecture named by <c>using</c> with the card's overrides on top.</summary>
    /// <exception cref="LegacyRegistryException">The card names an unknown architecture.</exception>
    public JsonObject Expand(LegacyAdapterCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        var full = Find(card.Architecture)
            ?? throw new LegacyRegistryException(card.Path, "config.using", $"unknown architecture '{card.Architecture}' (known: {string.Join(", ", Names)})");
        foreach (var (key, value) in card.Config)
        {
            if (key == "using") continue;
            full[key] = value?.DeepClone();
        }
        return full;
    }
}
