namespace Adapters.Core.Configuration;

/// <summary>
/// The string aliases of Python's <c>ADAPTER_CONFIG_MAP</c>, including the deprecated names
/// (<c>pfeiffer</c>, <c>houlsby</c>, <c>parallel</c>, <c>scaled_parallel</c>, <c>pfeiffer+inv</c>, <c>houlsby+inv</c>).
/// </summary>
public static class AdapterConfigMap
{
    /// <summary>Python's <c>DEFAULT_ADAPTER_CONFIG</c>.</summary>
    public const string DefaultConfig = "seq_bn";

    private static readonly Dictionary<string, Func<AdapterConfig>> s_supported = new(StringComparer.Ordinal)
    {
        ["pfeiffer"] = () => new SeqBnConfig(),
        ["houlsby"] = () => new DoubleSeqBnConfig(),
        ["parallel"] = () => new ParBnConfig(),
        ["scaled_parallel"] = () => new ParBnConfig { Scaling = BottleneckScaling.Learned },
        ["pfeiffer+inv"] = () => new SeqBnInvConfig(),
        ["houlsby+inv"] = () => new DoubleSeqBnInvConfig(),
        ["seq_bn"] = () => new SeqBnConfig(),
        ["double_seq_bn"] = () => new DoubleSeqBnConfig(),
        ["par_bn"] = () => new ParBnConfig(),
        ["scaled_par_bn"] = () => new ParBnConfig { Scaling = BottleneckScaling.Learned },
        ["seq_bn_inv"] = () => new SeqBnInvConfig(),
        ["double_seq_bn_inv"] = () => new DoubleSeqBnInvConfig(),
        ["compacter++"] = () => new CompacterPlusPlusConfig(),
        ["compacter"] = () => new CompacterConfig(),
        ["mtl_lora"] = () => new MTLLoRAConfig(),
        ["lora"] = () => new LoRAConfig(),
        ["ia3"] = () => new IA3Config(),
        ["vera"] = () => new VeraConfig(),
        ["dora"] = () => new DoRAConfig(),
        ["dvora"] = () => new VeraConfig { UseDora = true },
        ["prefix_tuning"] = () => new PrefixTuningConfig(),
        ["prefix_tuning_flat"] = () => new PrefixTuningConfig { Flat = true },
        ["prompt_tuning"] = () => new PromptTuningConfig(),
        ["loreft"] = () => new LoReftConfig(),
        ["noreft"] = () => new NoReftConfig(),
        ["direft"] = () => new DiReftConfig(),
        ["mam"] = () => new MAMConfig(),
        ["unipelt"] = () => new UniPELTConfig(),
    };

    /// <summary>Every alias this version can build, in Python's map order.</summary>
    public static IReadOnlyCollection<string> Names => s_supported.Keys;

    /// <summary>Whether <paramref name="name"/> is an alias this version can build.</summary>
    public static bool Contains(string name) => s_supported.ContainsKey(name);

    /// <summary>A fresh config for the alias.</summary>
    /// <exception cref="AdapterConfigException">The alias is unknown.</exception>
    public static AdapterConfig Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (s_supported.TryGetValue(name, out var factory)) return factory();
        throw new AdapterConfigException($"Unknown adapter config \"{name}\". Known names: {string.Join(", ", s_supported.Keys)}.");
    }
}
