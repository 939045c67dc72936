using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// One attention layer's Llama-Adapter parameters (PEFT's <c>AdaptedAttention</c>): <c>adaption_prompt</c>
/// (1, adapter_len, hidden) drawn N(0, 1) and the zero-initialised <c>adaption_gate</c> (1), so a new adapter leaves
/// the model's outputs unchanged.
/// </summary>
public sealed class AdaptionPromptLayer : nn.Module
{
    /// <summary>Creates the parameters for a layer of width <paramref name="hidden"/>.</summary>
    public AdaptionPromptLayer(int adapterLength, int hidden, Device? device, ScalarType? dtype) : base(nameof(AdaptionPromptLayer))
    {
        Prompt = new Parameter(empty([1, adapterLength, hidden], dtype ?? ScalarType.Float32, device).normal_());
        Gate = new Parameter(zeros([1], dtype ?? ScalarType.Float32, device));
        register_parameter("adaption_prompt", Prompt);
        register_parameter("adaption_gate", Gate);
    }

    /// <summary>Children are registered explicitly under PEFT's names.</summary>
    protected override void RegisterComponents() { }

    /// <summary><c>adaption_prompt</c> (1, adapter_len, hidden).</summary>
    public Parameter Prompt { get; }

    /// <summary><c>adaption_gate</c> (1).</summary>
    public Parameter Gate { get; }

    /// <summary>
    /// The gated prompt attention to add to the attention output, before <c>o_proj</c>: the prompt projected by the
    /// layer's own <paramref name="keyProjection"/> and <paramref name="valueProjection"/> (grouped heads repeated as
    /// PEFT does), attended by <paramref name="query"/> (B, heads, S, head_dim, after RoPE) with no mask, softmax in
    /// float32 times the gate. Returns (B, S, heads·head_dim).
    /// </summary>
    public Tensor Attend(Tensor query, Func<Tensor, Tensor> keyProjection, Func<Tensor, Tensor> valueProjection, int heads, int keyValueHeads, int headDim)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(keyProjection);
        ArgumentNullException.ThrowIfNull(valueProjection);
        var batch = query.shape[0];
        var length = query.shape[2];
        var adapterLength = Prompt.shape[1];
        Tensor Heads(Tensor projected)
        {
            var perHead = projected.view(1, adapterLength, keyValueHeads, headDim).repeat(batch, 1, 1, 1).transpose(1, 2);
            return keyValueHeads == heads ? perHead : perHead.repeat_interleave(heads / keyValueHeads, dim: 1);
        }
        var key = Heads(keyProjection(Prompt));
        var value = Heads(valueProjection(Prompt));
        var scores = matmul(query, key.transpose(2, 3)) / Math.Sqrt(headDim);
        var weights = Gate * scores.softmax(-1, ScalarType.Float32).to(query.dtype);
        return matmul(weights, value).transpose(1, 2).reshape(batch, length, heads * headDim);
    }
}
