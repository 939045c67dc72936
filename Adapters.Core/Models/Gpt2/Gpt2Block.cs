using Adapters.Core.Methods;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Methods.PrefixTuning;
using Adapters.Core.Methods.ReFT;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Gpt2;

/// <summary>
/// One GPT-2 block with transformers' names (<c>ln_1</c>, <c>attn.c_attn</c>, <c>attn.c_proj</c>, <c>ln_2</c>,
/// <c>mlp.c_fc</c>, <c>mlp.c_proj</c>) and Python adapters' sites: LoRA on the fused <c>c_attn</c>
/// (<see cref="FusedQkvLinear"/>), on <c>mlp.c_fc</c> ("intermediate") and <c>mlp.c_proj</c> ("output") with
/// <c>fan_in_fan_out</c>; bottleneck <c>attention_adapters</c> and <c>output_adapters</c> taking over the residual adds.
/// </summary>
internal sealed class Gpt2Block : nn.Module
{
    private readonly int _heads;
    private readonly int _headDim;
    private readonly double _scale;
    private readonly double _attnDropout;
    private readonly double _residDropout;
    private readonly LayerNorm _ln1;
    private readonly LayerNorm _ln2;
    private readonly Func<Tensor, Tensor> _activation;

    public Gpt2Block(Gpt2Config config, int index, ActiveAdapterSetup setup, Device? device, ScalarType? dtype) : base(nameof(Gpt2Block))
    {
        Index = index;
        var hidden = config.NEmbd;
        _heads = config.NHead;
        _headDim = hidden / _heads;
        _scale = (config.ScaleAttnWeights ? 1.0 / Math.Sqrt(_headDim) : 1.0) / (config.ScaleAttnByInverseLayerIdx ? index + 1 : 1);
        _attnDropout = config.AttnPdrop;
        _residDropout = config.ResidPdrop;
        _activation = Activation.Get(config.ActivationFunction);
        _ln1 = nn.LayerNorm(hidden, config.LayerNormEpsilon, device: device, dtype: dtype);
        _ln2 = nn.LayerNorm(hidden, config.LayerNormEpsilon, device: device, dtype: dtype);
        Attention = new FusedQkvLinear(hidden, 3 * hidden, setup, index, device, dtype);
        AttentionProjection = new AdaptableLinear(hidden, hidden, true, setup, index, LoRALocation.None, device, dtype, fanInFanOut: true);
        FeedForwardIn = new AdaptableLinear(hidden, config.InnerSize, true, setup, index, LoRALocation.Intermediate, device, dtype, fanInFanOut: true);
        FeedForwardOut = new AdaptableLinear(config.InnerSize, hidden, true, setup, index, LoRALocation.Output, device, dtype, fanInFanOut: true);
        AttentionAdapters = new BottleneckSite(setup, index, BottleneckLocation.Attention);
        OutputAdapters = new BottleneckSite(setup, index, BottleneckLocation.Output);
        // Python's GPT2AttentionAdaptersMixin adds prefix_tuning to the attention: transformer.h.N.attn.prefix_tuning.
        Prefix = new PrefixTuningLayer(setup, index, _heads, hidden);
        Reft = new ReftLayer(setup, index);
        register_module("ln_1", _ln1);
        register_module("attn", AdapterModuleDict.Of(("c_attn", Attention), ("c_proj", AttentionProjection), ("prefix_tuning", Prefix)));
        register_module("ln_2", _ln2);
        register_module("mlp", AdapterModuleDict.Of(("c_fc", FeedForwardIn), ("c_proj", FeedForwardOut)));
        register_module("attention_adapters", AttentionAdapters.Module);
        register_module("output_adapters", OutputAdapters.Module);
        register_module("reft_layer", Reft);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    public int Index { get; }
    public FusedQkvLinear Attention { get; }
    public AdaptableLinear AttentionProjection { get; }
    public AdaptableLinear FeedForwardIn { get; }
    public AdaptableLinear FeedForwardOut { get; }
    public BottleneckSite AttentionAdapters { get; }
    public BottleneckSite OutputAdapters { get; }
    public PrefixTuningLayer Prefix { get; }
    public ReftLayer Reft { get; }

    public AdapterLayerInterface Describe() =>
        new(Index, null, null, null, FeedForwardIn, FeedForwardOut, AttentionAdapters, OutputAdapters) { FusedQkv = Attention, Prefix = Prefix, Reft = Reft };

    public Tensor Forward(Tensor hidden, DecoderStep step)
    {
        using var scope = NewDisposeScope();
        var batch = hidden.shape[0];
        var length = hidden.shape[1];
        var width = _heads * _headDim;
        var normed = _ln1.call(hidden);
        var qkv = Attention.call(normed);
        Tensor Heads(Tensor x) => x.view(batch, length, _heads, _headDim).transpose(1, 2);
        var q = Heads(qkv.narrow(-1, 0, width));
        var k = Heads(qkv.narrow(-1, width, width));
        var v = Heads(qkv.narrow(-1, 2 * width, width));
        (k, v) = step.Attend(Index, k, v);
        // As in Python, prefix tuning comes after the cache update, so the cache never holds prefixes.
        var (prefixedKeys, prefixedValues, mask) = Prefix.Apply(k, v, DecoderStep.PerBatch(step.MaskFor(Index), batch), additiveMask: true, normed);
        k = prefixedKeys;
        v = prefixedValues;
        var scores = matmul(q, k.transpose(-1, -2));
        if (_scale != 1.0) scores = scores * _scale;
        if (mask is not null) scores = scores + mask;
        var probs = scores.softmax(-1).to(v.dtype);
        if (_attnDropout > 0) probs = nn.functional.dropout(probs, _attnDropout, training);
        var context = matmul(probs, v).transpose(1, 2).reshape(batch, length, width);
        var attention = nn.functional.dropout(AttentionProjection.call(context), _residDropout, training);
        var afterAttention = AttentionAdapters.Forward(attention, hidden, null);
        var mlp = FeedForwardOut.call(_activation(FeedForwardIn.call(_ln2.call(afterAttention))));
        mlp = nn.functional.dropout(mlp, _residDropout, training);
        return Reft.Forward(OutputAdapters.Forward(mlp, afterAttention, null), step.Past).MoveToOuterDisposeScope();
    }

    public void InitWeights(double std, int layers)
    {
        using var _ = no_grad();
        nn.init.normal_(Attention.weight, 0.0, std);
        nn.init.zeros_(Attention.bias);
        // transformers scales every "c_proj.weight" by 1/√(2·n_layer) (GPT-2 paper's residual-path init).
        var projectionStd = std / Math.Sqrt(2.0 * layers);
        nn.init.normal_(AttentionProjection.weight, 0.0, projectionStd);
        nn.init.zeros_(AttentionProjection.bias!);
        nn.init.normal_(FeedForwardIn.weight, 0.0, std);
        nn.init.zeros_(FeedForwardIn.bias!);
        nn.init.normal_(FeedForwardOut.weight, 0.0, projectionStd);
        nn.init.zeros_(FeedForwardOut.bias!);
    }
}
