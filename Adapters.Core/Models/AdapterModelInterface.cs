using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Methods.PrefixTuning;
using Adapters.Core.Methods.ReFT;

namespace Adapters.Core.Models;

/// <summary>
/// Where adapters attach in a model, in the spirit of Python's <c>AdapterModelInterface</c>: per layer, the q/k/v and
/// feed-forward projections (as <see cref="AdaptableLinear"/>) and the bottleneck sites after attention and after the
/// feed-forward block. The built-in models describe themselves with it, and a user's own TorchSharp model derived
/// from <see cref="AdapterModel"/> gets LoRA, IA³, DoRA, VeRA and bottleneck adapters by returning one.
/// </summary>
/// <param name="ModelType">The HF <c>model_type</c> written to adapter configs.</param>
/// <param name="BaseModelPrefix">Python's <c>base_model_prefix</c>, the first part of every saved weight key.</param>
/// <param name="HiddenSize">The hidden width.</param>
/// <param name="Layers">The transformer layers in order.</param>
public sealed record AdapterModelInterface(string ModelType, string BaseModelPrefix, int HiddenSize, IReadOnlyList<AdapterLayerInterface> Layers)
{
    /// <summary>Every distinct q/k/v and feed-forward projection the layers expose.</summary>
    internal IEnumerable<AdaptableLinear> AdaptableLinears() =>
        Layers.SelectMany(l => new[] { l.Query, l.Key, l.Value, l.Intermediate, l.Output }).OfType<AdaptableLinear>().Distinct();

    /// <summary>Every distinct fused q/k/v projection the layers expose.</summary>
    internal IEnumerable<FusedQkvLinear> FusedQkvLinears() => Layers.Select(l => l.FusedQkv).OfType<FusedQkvLinear>().Distinct();

    /// <summary>Every bottleneck site, after attention and after the feed-forward block.</summary>
    internal IEnumerable<BottleneckSite> BottleneckSites() =>
        Layers.SelectMany(l => new[] { l.AttentionAdapters, l.OutputAdapters }).OfType<BottleneckSite>();
}

/// <summary>The adapter attachment points of one transformer layer; absent points are null.</summary>
/// <param name="Index">The layer index (used for <c>leave_out</c> and per-layer reduction factors).</param>
/// <param name="Query">Self-attention query projection ("q").</param>
/// <param name="Key">Self-attention key projection ("k").</param>
/// <param name="Value">Self-attention value projection ("v").</param>
/// <param name="Intermediate">First feed-forward projection.</param>
/// <param name="Output">Second feed-forward projection.</param>
/// <param name="AttentionAdapters">Bottleneck site after attention (<c>mh_adapter</c>).</param>
/// <param name="OutputAdapters">Bottleneck site after the feed-forward block (<c>output_adapter</c>).</param>
public sealed record AdapterLayerInterface(
    int Index,
    AdaptableLinear? Query,
    AdaptableLinear? Key,
    AdaptableLinear? Value,
    AdaptableLinear? Intermediate,
    AdaptableLinear? Output,
    BottleneckSite? AttentionAdapters,
    BottleneckSite? OutputAdapters)
{
    /// <summary>The self-attention prefix-tuning hook, or null when the layer does not support prefix tuning.</summary>
    public PrefixTuningLayer? Prefix { get; init; }

    /// <summary>The ReFT hook on the layer output, or null when the layer does not support ReFT.</summary>
    public ReftLayer? Reft { get; init; }

    /// <summary>
    /// A fused q/k/v projection (GPT-2's <c>c_attn</c>, Python's <c>attn_qkv_proj</c>) that <c>selfattn_lora</c> adapts
    /// as Python's <c>LoRAMergedLinear</c> does; null when the layer has separate <see cref="Query"/>/<see cref="Key"/>/<see cref="Value"/>.
    /// </summary>
    public FusedQkvLinear? FusedQkv { get; init; }
}
