using Adapters.Core.Methods;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Methods.PrefixTuning;
using Adapters.Core.Methods.ReFT;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.DistilBert;

/// <summary>
/// One DistilBERT layer with HF names (<c>attention.q_lin/k_lin/v_lin/out_lin</c>, <c>sa_layer_norm</c>,
/// <c>ffn.lin1/lin2</c>, <c>output_layer_norm</c>) and Python adapters' wrappers <c>attention_adapters.adapters</c>
/// and <c>output_adapters.adapters</c>.
/// </summary>
internal sealed class DistilBertLayer : nn.Module
{
    private readonly int _heads;
    private readonly int _headSize;
    private readonly double _attentionDropout;
    private readonly double _dropout;
    private readonly AdaptableLinear _outLin;
    private readonly LayerNorm _saNorm;
    private readonly LayerNorm _outputNorm;
    private readonly Func<Tensor, Tensor> _activation;

    public DistilBertLayer(EncoderConfig config, int index, ActiveAdapterSetup setup, Device? device, ScalarType? dtype) : base(nameof(DistilBertLayer))
    {
        var dim = config.HiddenSize;
        if (dim % config.NumAttentionHeads != 0)
            throw new ArgumentException($"dim {dim} is not a multiple of n_heads {config.NumAttentionHeads}.", nameof(config));
        Index = index;
        _heads = config.NumAttentionHeads;
        _headSize = dim / _heads;
        _attentionDropout = config.AttentionProbsDropoutProb;
        _dropout = config.HiddenDropoutProb;
        _activation = Activation.Get(config.HiddenAct);
        Query = new AdaptableLinear(dim, dim, true, setup, index, LoRALocation.Query, device, dtype);
        Key = new AdaptableLinear(dim, dim, true, setup, index, LoRALocation.Key, device, dtype);
        Value = new AdaptableLinear(dim, dim, true, setup, index, LoRALocation.Value, device, dtype);
        _outLin = new AdaptableLinear(dim, dim, true, setup, index, LoRALocation.None, device, dtype);
        _saNorm = nn.LayerNorm(dim, 1e-12, device: device, dtype: dtype);
        Lin1 = new AdaptableLinear(dim, config.IntermediateSize, true, setup, index, LoRALocation.Intermediate, device, dtype);
        Lin2 = new AdaptableLinear(config.IntermediateSize, dim, true, setup, index, LoRALocation.Output, device, dtype);
        _outputNorm = nn.LayerNorm(dim, 1e-12, device: device, dtype: dtype);
        AttentionAdapters = new BottleneckSite(setup, index, BottleneckLocation.Attention);
        OutputAdapters = new BottleneckSite(setup, index, BottleneckLocation.Output);
        Prefix = new PrefixTuningLayer(setup, index, _heads, dim);
        Reft = new ReftLayer(setup, index);

        register_module("attention", AdapterModuleDict.Of(("q_lin", Query), ("k_lin", Key), ("v_lin", Value), ("out_lin", _outLin), ("prefix_tuning", Prefix)));
        register_module("sa_layer_norm", _saNorm);
        register_module("ffn", AdapterModuleDict.Of(("lin1", Lin1), ("lin2", Lin2)));
        register_module("output_layer_norm", _outputNorm);
        register_module("attention_adapters", AttentionAdapters.Module);
        register_module("output_adapters", OutputAdapters.Module);
        register_module("reft_layer", Reft);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    public int Index { get; }
    public AdaptableLinear Query { get; }
    public AdaptableLinear Key { get; }
    public AdaptableLinear Value { get; }
    public AdaptableLinear Lin1 { get; }
    public AdaptableLinear Lin2 { get; }
    public AdaptableLinear OutLin => _outLin;
    public BottleneckSite AttentionAdapters { get; }
    public BottleneckSite OutputAdapters { get; }
    public PrefixTuningLayer Prefix { get; }
    public ReftLayer Reft { get; }

    public AdapterLayerInterface Describe() =>
        new(Index, Query, Key, Value, Lin1, Lin2, AttentionAdapters, OutputAdapters) { Prefix = Prefix, Reft = Reft };

    public Tensor Forward(Tensor x, Tensor? attentionMask)
    {
        var length = x.shape[1];
        // Rows come from each projection: a Parallel setup may have replicated the batch inside a LoRA layer.
        Tensor Split(Tensor t) => t.view(t.shape[0], length, _heads, _headSize).transpose(1, 2);

        var (q, k, v) = Composition.ParallelBatch.MatchAll(Split(Query.call(x)), Split(Key.call(x)), Split(Value.call(x)));
        q = q / Math.Sqrt(_headSize);
        var rowsMask = attentionMask is null ? null : Composition.ParallelBatch.Match(q, attentionMask);
        // Prefix tuning prepends its keys/values and widens the (1 = attend) mask with attended positions; under a
        // Parallel setup it may replicate the batch itself, so the queries follow the keys' rows.
        var (prefixedKeys, prefixedValues, mask) = Prefix.Apply(k, v, rowsMask, additiveMask: false, Composition.ParallelBatch.Match(q, x));
        k = prefixedKeys;
        v = prefixedValues;
        q = Composition.ParallelBatch.Match(k, q);
        var batch = q.shape[0];
        var scores = matmul(q, k.transpose(2, 3));
        if (mask is not null)
        {
            var masked = mask.eq(0).view(batch, 1, 1, -1).expand_as(scores);
            scores = scores.masked_fill(masked, Generation.AttentionMasks.MinValue(scores.dtype));
        }
        var weights = nn.functional.dropout(softmax(scores, -1), _attentionDropout, training);
        var context = matmul(weights, v).transpose(1, 2).reshape(batch, length, _heads * _headSize);
        var saOutput = _outLin.call(context);
        saOutput = AttentionAdapters.Forward(saOutput, x, _saNorm.call);

        var ffnOutput = Lin2.call(_activation(Lin1.call(saOutput)));
        ffnOutput = nn.functional.dropout(ffnOutput, _dropout, training);
        return Reft.Forward(OutputAdapters.Forward(ffnOutput, saOutput, _outputNorm.call));
    }
}
