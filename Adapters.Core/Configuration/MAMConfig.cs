namespace Adapters.Core.Configuration;

/// <summary>
/// Mix-and-match adapters (Python's <c>MAMConfig</c>, alias <c>"mam"</c>): prefix tuning with a bottleneck of 800 plus a
/// parallel bottleneck adapter. Saved as a plain union, so it reads back as a <see cref="ConfigUnion"/>.
/// </summary>
public sealed record MAMConfig : ConfigUnion
{
    /// <summary>Creates the union from its two parts; null takes Python's default for that part.</summary>
    public MAMConfig(PrefixTuningConfig? prefixTuning = null, BnConfig? adapter = null)
        : base(prefixTuning ?? new PrefixTuningConfig { BottleneckSize = 800 }, adapter ?? new ParBnConfig())
    {
    }

    /// <summary>The prefix-tuning part.</summary>
    public PrefixTuningConfig PrefixTuning => (PrefixTuningConfig)Configs[0];

    /// <summary>The bottleneck part.</summary>
    public BnConfig Adapter => (BnConfig)Configs[1];
}
