using Adapters.Core.Generation;
using Adapters.Core.Methods;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Methods.PrefixTuning;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.Llama;

/// <summary>
/// Llama/Mistral/Qwen2 self-attention with transformers' names (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>,
/// <c>o_proj</c>): rotary q/k, grouped-query attention (each key/value head serves
/// <c>heads / kv_heads</c> query heads), softmax in float32, an optional <see cref="KeyValueCache"/> and an optional
/// <see cref="IAttentionPrefix"/> put in front of the keys and values.
/// </summary>
internal sealed class LlamaAttention : nn.Module
{
    private readonly int _heads;
    private readonly int _kvHeads;
    private readonly int _headDim;
    private readonly double _dropout;
    private readonly AdaptableLinear _output;

    public LlamaAttention(LlamaConfig config, int index, ActiveAdapterSetup setup, Device? device, ScalarType? dtype) : base(nameof(LlamaAttention))
    {
        _heads = config.NumAttentionHeads;
        _kvHeads = config.KeyValueHeads;
        _headDim = config.HeadDim;
        _dropout = config.AttentionDropout;
        Index = index;
        var hidden = config.HiddenSize;
        Query = new AdaptableLinear(hidden, _heads * _headDim, config.QkvBias, setup, index, LoRALocation.Query, device, dtype);
        Key = new AdaptableLinear(hidden, _kvHeads * _headDim, config.QkvBias, setup, index, LoRALocation.Key, device, dtype);
        Value = new AdaptableLinear(hidden, _kvHeads * _headDim, config.QkvBias, setup, index, LoRALocation.Value, device, dtype);
        _output = new AdaptableLinear(_heads * _headDim, hidden, config.OutputBias, setup, index, LoRALocation.None, device, dtype);
        register_module("q_proj", Query);
        register_module("k_proj", Key);
        register_module("v_proj", Value);
        register_module("o_proj", _output);
        // Python's Llama attention adds prefixes after repeat_kv, so they have one head per attention head
        // (num_attention_heads, not num_key_value_heads) of width head_dim.
        Prefix = new PrefixTuningLayer(setup, index, _heads, hidden, headDim: _headDim);
        register_module("prefix_tuning", Prefix);
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    public int Index { get; }
    public AdaptableLinear Query { get; }
    public AdaptableLinear Key { get; }
    public AdaptableLinear Value { get; }
    public AdaptableLinear Output => _output;
    public PrefixTuningLayer Prefix { get; }

    public Tensor Forward(Tensor hidden, DecoderStep step)
    {
        var batch = hidden.shape[0];
        var length = hidden.shape[1];
        var q = Query.call(hidden).view(batch, length, _heads, _headDim).transpose(1, 2);
        var k = Key.call(hidden).view(batch, length, _kvHeads, _headDim).transpose(1, 2);
        var v = Value.call(hidden).view(batch, length, _kvHeads, _headDim).transpose(1, 2);
        q = RotaryEmbedding.Apply(q, step.Cos!, step.Sin!);
        k = RotaryEmbedding.Apply(k, step.Cos!, step.Sin!);
        (k, v) = step.Attend(Index, k, v);
        if (_kvHeads != _heads)
        {
            k = k.repeat_interleave(_heads / _kvHeads, dim: 1);
            v = v.repeat_interleave(_heads / _kvHeads, dim: 1);
        }
        // As in Python: after RoPE, the cache update (prefix keys get no rotation and are never cached) and the
        // repetition of key/value heads for grouped-query attention.
        var (prefixedKeys, prefixedValues, mask) = Prefix.Apply(k, v, DecoderStep.PerBatch(step.MaskFor(Index), batch), additiveMask: true, hidden);
        k = prefixedKeys;
        v = prefixedValues;
        var scores = matmul(q, k.transpose(-1, -2)) * (1.0 / Math.Sqrt(_headDim));
        if (mask is not null) scores = scores + mask;
        var probs = scores.to(ScalarType.Float32).softmax(-1).to(q.dtype);
        if (_dropout > 0) probs = nn.functional.dropout(probs, _dropout, training);
        var context = matmul(probs, v).transpose(1, 2).reshape(batch, length, _heads * _headDim);
        var output = _output.call(context);
        // Llama-Adapter (PEFT's AdaptedAttention) adds its gated prompt attention, projected by o_proj on its own.
        if (step.AdaptionPrompt?.ForLayer(Index) is { } adaption)
            output = output + _output.call(adaption.Attend(q, Key.call, Value.call, _heads, _kvHeads, _headDim));
        return output;
    }
}
