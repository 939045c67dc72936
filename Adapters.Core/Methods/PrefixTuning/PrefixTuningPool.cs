using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.PrefixTuning;

/// <summary>
/// The model-level holder of all prefix generators (Python's <c>PrefixTuningPool</c>, <c>&lt;base&gt;.prefix_tuning</c>):
/// <c>prefix_tunings.&lt;adapter&gt;.&lt;location&gt;</c>, where the location is <c>self_prefix</c> for encoder self-attention.
/// Every <see cref="PrefixTuningLayer"/> reads its rows from here; Python also registers this pool inside every layer,
/// which is why its files repeat the pool under <c>…prefix_tuning.pool.prefix_tunings…</c> per layer.
/// </summary>
public sealed class PrefixTuningPool : nn.Module
{
    /// <summary>The location key of self-attention prefixes.</summary>
    public const string SelfPrefix = "self_prefix";

    /// <summary>Creates an empty pool.</summary>
    public PrefixTuningPool() : base(nameof(PrefixTuningPool))
    {
        register_module("prefix_tunings", PrefixTunings);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>Per adapter, a dict of location key → <see cref="PrefixGenerator"/>.</summary>
    public AdapterModuleDict PrefixTunings { get; } = new();

    /// <summary>The generator of <paramref name="adapter"/> at <paramref name="location"/>, or null.</summary>
    public PrefixGenerator? Get(string adapter, string location = SelfPrefix) =>
        PrefixTunings.Get<AdapterModuleDict>(adapter)?.Get<PrefixGenerator>(location);
}
