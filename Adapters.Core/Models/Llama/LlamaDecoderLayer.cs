using Adapters.Core.Methods;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Methods.ReFT;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Llama;

/// <summary>
/// One pre-norm decoder layer with transformers' names (<c>input_layernorm</c>, <c>self_attn</c>,
/// <c>post_attention_layernorm</c>, <c>mlp.gate_proj/up_proj/down_proj</c>) and Python adapters' sites:
/// <c>attention_adapters</c> after attention and <c>output_adapters</c> after the MLP, each given the sub-block
/// input as residual and no LayerNorm (pre-norm), as <c>LlamaDecoderLayerWithAdapters</c> calls them.
/// </summary>
internal sealed class LlamaDecoderLayer : nn.Module
{
    private readonly RmsNorm _inputNorm;
    private readonly RmsNorm _postAttentionNorm;
    private readonly AdaptableLinear _gate;
    private readonly Func<Tensor, Tensor> _activation;

    public LlamaDecoderLayer(LlamaConfig config, int index, ActiveAdapterSetup setup, Device? device, ScalarType? dtype) : base(nameof(LlamaDecoderLayer))
    {
        Index = index;
        var hidden = config.HiddenSize;
        var inner = config.IntermediateSize;
        _activation = Activation.Get(config.HiddenAct);
        Attention = new LlamaAttention(config, index, setup, device, dtype);
        _gate = new AdaptableLinear(hidden, inner, config.MlpBias, setup, index, LoRALocation.None, device, dtype);
        // Python's Llama/Mistral mixins adapt down_proj as "intermediate" and up_proj as "output"; its Qwen2 interface the reverse.
        var upLocation = config.IntermediateIsUpProj ? LoRALocation.Intermediate : LoRALocation.Output;
        var downLocation = config.IntermediateIsUpProj ? LoRALocation.Output : LoRALocation.Intermediate;
        Up = new AdaptableLinear(hidden, inner, config.MlpBias, setup, index, upLocation, device, dtype);
        Down = new AdaptableLinear(inner, hidden, config.MlpBias, setup, index, downLocation, device, dtype);
        _inputNorm = new RmsNorm(hidden, config.RmsNormEps, device, dtype);
        _postAttentionNorm = new RmsNorm(hidden, config.RmsNormEps, device, dtype);
        AttentionAdapters = new BottleneckSite(setup, index, BottleneckLocation.Attention);
        OutputAdapters = new BottleneckSite(setup, index, BottleneckLocation.Output);
        Reft = new ReftLayer(setup, index);
        register_module("self_attn", Attention);
        register_module("mlp", AdapterModuleDict.Of(("gate_proj", _gate), ("up_proj", Up), ("down_proj", Down)));
        register_module("input_layernorm", _inputNorm);
        register_module("post_attention_layernorm", _postAttentionNorm);
        register_module("attention_adapters", AttentionAdapters.Module);
        register_module("output_adapters", OutputAdapters.Module);
        register_module("reft_layer", Reft);
        IntermediateIsUp = config.IntermediateIsUpProj;
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    public int Index { get; }
    public LlamaAttention Attention { get; }
    public AdaptableLinear Up { get; }
    public AdaptableLinear Down { get; }
    public AdaptableLinear Gate => _gate;
    public BottleneckSite AttentionAdapters { get; }
    public BottleneckSite OutputAdapters { get; }
    public ReftLayer Reft { get; }
    private bool IntermediateIsUp { get; }

    public AdapterLayerInterface Describe() => new(Index, Attention.Query, Attention.Key, Attention.Value,
        IntermediateIsUp ? Up : Down, IntermediateIsUp ? Down : Up, AttentionAdapters, OutputAdapters) { Prefix = Attention.Prefix, Reft = Reft };

    public Tensor Forward(Tensor hidden, DecoderStep step)
    {
        using var scope = NewDisposeScope();
        var attention = Attention.Forward(_inputNorm.call(hidden), step);
        var afterAttention = AttentionAdapters.Forward(attention, hidden, null);
        var normed = _postAttentionNorm.call(afterAttention);
        var mlp = Down.call(_activation(_gate.call(normed)) * Up.call(normed));
        return Reft.Forward(OutputAdapters.Forward(mlp, afterAttention, null), step.Past).MoveToOuterDisposeScope();
    }
}
