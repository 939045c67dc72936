using Adapters.Core.Methods;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Methods.PrefixTuning;
using Adapters.Core.Methods.ReFT;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Bert;

/// <summary>
/// One post-LN transformer layer with BERT's module names (<c>attention.self.query</c>, <c>attention.output.dense</c>,
/// <c>intermediate.dense</c>, <c>output.dense</c>, the two <c>LayerNorm</c>s) and Python adapters' attachment points:
/// <c>attention.output.adapters</c> and <c>output.adapters</c> for bottlenecks, <c>loras</c> on q/k/v and the FFN.
/// </summary>
internal sealed class BertLayer : nn.Module
{
    private readonly int _heads;
    private readonly int _headSize;
    private readonly double _attentionDropout;
    private readonly double _hiddenDropout;
    private readonly LayerNorm _attentionNorm;
    private readonly AdaptableLinear _attentionDense;
    private readonly LayerNorm _outputNorm;
    private readonly Func<Tensor, Tensor> _activation;

    public BertLayer(EncoderConfig config, int index, ActiveAdapterSetup setup, Device? device, ScalarType? dtype) : base(nameof(BertLayer))
    {
        var hidden = config.HiddenSize;
        if (hidden % config.NumAttentionHeads != 0)
            throw new ArgumentException($"hidden_size {hidden} is not a multiple of num_attention_heads {config.NumAttentionHeads}.", nameof(config));
        _heads = config.NumAttentionHeads;
        _headSize = hidden / _heads;
        _attentionDropout = config.AttentionProbsDropoutProb;
        _hiddenDropout = config.HiddenDropoutProb;
        _activation = Activation.Get(config.HiddenAct);

        Query = new AdaptableLinear(hidden, hidden, true, setup, index, LoRALocation.Query, device, dtype);
        Key = new AdaptableLinear(hidden, hidden, true, setup, index, LoRALocation.Key, device, dtype);
        Value = new AdaptableLinear(hidden, hidden, true, setup, index, LoRALocation.Value, device, dtype);
        _attentionDense = new AdaptableLinear(hidden, hidden, true, setup, index, LoRALocation.None, device, dtype);
        _attentionNorm = nn.LayerNorm(hidden, config.LayerNormEps, device: device, dtype: dtype);
        AttentionAdapters = new BottleneckSite(setup, index, BottleneckLocation.Attention);
        Intermediate = new AdaptableLinear(hidden, config.IntermediateSize, true, setup, index, LoRALocation.Intermediate, device, dtype);
        Output = new AdaptableLinear(config.IntermediateSize, hidden, true, setup, index, LoRALocation.Output, device, dtype);
        _outputNorm = nn.LayerNorm(hidden, config.LayerNormEps, device: device, dtype: dtype);
        OutputAdapters = new BottleneckSite(setup, index, BottleneckLocation.Output);
        Prefix = new PrefixTuningLayer(setup, index, _heads, hidden);
        Reft = new ReftLayer(setup, index);

        var self = AdapterModuleDict.Of(("query", Query), ("key", Key), ("value", Value), ("prefix_tuning", Prefix));
        var attentionOutput = AdapterModuleDict.Of(("dense", _attentionDense), ("LayerNorm", _attentionNorm), ("adapters", AttentionAdapters.Adapters), ("adapter_fusion_layer", AttentionAdapters.FusionLayers));
        register_module("attention", AdapterModuleDict.Of(("self", self), ("output", attentionOutput)));
        register_module("intermediate", AdapterModuleDict.Of(("dense", Intermediate)));
        register_module("output", AdapterModuleDict.Of(("dense", Output), ("LayerNorm", _outputNorm), ("adapters", OutputAdapters.Adapters), ("adapter_fusion_layer", OutputAdapters.FusionLayers)));
        register_module("reft_layer", Reft);
        Index = index;
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    public int Index { get; }
    public AdaptableLinear Query { get; }
    public AdaptableLinear Key { get; }
    public AdaptableLinear Value { get; }
    public AdaptableLinear Intermediate { get; }
    public AdaptableLinear Output { get; }
    public BottleneckSite AttentionAdapters { get; }
    public BottleneckSite OutputAdapters { get; }
    public PrefixTuningLayer Prefix { get; }
    public ReftLayer Reft { get; }
    public AdaptableLinear AttentionDense => _attentionDense;

    public AdapterLayerInterface Describe() =>
        new(Index, Query, Key, Value, Intermediate, Output, AttentionAdapters, OutputAdapters) { Prefix = Prefix, Reft = Reft };

    /// <summary>
    /// Runs the layer; <paramref name="peftPrefix"/> (PEFT prefix tuning) puts its keys and values in front of this
    /// layer's own, as transformers does with <c>past_key_value</c> (the mask already has its columns).
    /// </summary>
    public Tensor Forward(Tensor hidden, Tensor? extendedMask, Generation.IAttentionPrefix? peftPrefix = null)
    {
        var length = hidden.shape[1];
        // Rows come from each projection: a Parallel setup may have replicated the batch inside a LoRA layer.
        Tensor Split(Tensor x) => x.view(x.shape[0], length, _heads, _headSize).transpose(1, 2);

        var (q, k, v) = Composition.ParallelBatch.MatchAll(Split(Query.call(hidden)), Split(Key.call(hidden)), Split(Value.call(hidden)));
        if (peftPrefix?.ForLayer(Index, k.shape[0]) is var (peftKey, peftValue))
        {
            k = cat([peftKey.to(k.dtype), k], 2);
            v = cat([peftValue.to(v.dtype), v], 2);
        }
        var rowsMask = extendedMask is null ? null : Composition.ParallelBatch.Match(q, extendedMask);
        // Prefix tuning prepends its keys/values and widens the additive mask with attended (0) positions; under a
        // Parallel setup it may replicate the batch itself, so the queries follow the keys' rows.
        var (prefixedKeys, prefixedValues, mask) = Prefix.Apply(k, v, rowsMask, additiveMask: true, Composition.ParallelBatch.Match(q, hidden));
        k = prefixedKeys;
        v = prefixedValues;
        q = Composition.ParallelBatch.Match(k, q);
        var batch = q.shape[0];
        var scores = matmul(q, k.transpose(-1, -2)) / Math.Sqrt(_headSize);
        if (mask is not null) scores = scores + mask;
        var probs = nn.functional.dropout(softmax(scores, -1), _attentionDropout, training);
        var context = matmul(probs, v).transpose(1, 2).reshape(batch, length, _heads * _headSize);

        var attentionOut = nn.functional.dropout(_attentionDense.call(context), _hiddenDropout, training);
        var attention = AttentionAdapters.Forward(attentionOut, hidden, _attentionNorm.call);

        var intermediate = _activation(Intermediate.call(attention));
        var output = nn.functional.dropout(Output.call(intermediate), _hiddenDropout, training);
        return Reft.Forward(OutputAdapters.Forward(output, attention, _outputNorm.call));
    }
}
