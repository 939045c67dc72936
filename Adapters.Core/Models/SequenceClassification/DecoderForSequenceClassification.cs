using Adapters.Core.Generation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Models.SequenceClassification;

/// <summary>
/// transformers' <c>GPT2ForSequenceClassification</c> / <c>LlamaForSequenceClassification</c>: the decoder stack under
/// its base name (<c>transformer</c>, <c>model</c>) and <c>score</c> (hidden → labels, no bias) applied to every
/// position; each row's logits are those of its last token that is not the pad token (all positions without a pad
/// token id, which then needs batch size 1, as transformers requires).
/// </summary>
public sealed class DecoderForSequenceClassification : SequenceClassificationModel
{
    private readonly AdapterModel _backbone;
    private readonly IDecoderStack _stack;
    private readonly Linear _score;

    /// <summary>Wraps the decoder stack <paramref name="backbone"/> (a <c>Gpt2Model</c> or <c>LlamaModel</c>) with a new <c>score</c> head (normal(0, <paramref name="initializerRange"/>)).</summary>
    /// <exception cref="ArgumentException"><paramref name="backbone"/> is not a decoder stack.</exception>
    public DecoderForSequenceClassification(AdapterModel backbone, int numLabels, double initializerRange = 0.02) : base(ClassName(backbone))
    {
        _backbone = backbone ?? throw new ArgumentNullException(nameof(backbone));
        _stack = backbone as IDecoderStack ?? throw new ArgumentException($"{backbone.GetType().Name} is not a decoder stack.", nameof(backbone));
        ArgumentOutOfRangeException.ThrowIfLessThan(numLabels, 1);
        var weight = backbone.named_parameters().First().parameter;
        _score = nn.Linear(backbone.Interface.HiddenSize, numLabels, false, weight.device, weight.dtype);
        using (no_grad()) nn.init.normal_(_score.weight, 0.0, initializerRange);
        register_module(backbone.Interface.BaseModelPrefix, backbone);
        register_module("score", _score);
        train(backbone.training);
    }

    /// <inheritdoc />
    public override AdapterModel Backbone => _backbone;

    /// <inheritdoc />
    public override string HeadName => "score";

    /// <inheritdoc />
    public override Linear Head => _score;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The config has no pad token id and the batch has more than one row.</exception>
    public override Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        var logits = _score.call(_stack.Forward(inputIds, attentionMask: attentionMask));
        var batch = inputIds.shape[0];
        var length = inputIds.shape[1];
        Tensor last;
        if (_stack.PadTokenId is { } pad)
        {
            // The position of the last token that is not padding (left or right padding alike); 0 for a row of pads.
            var positions = arange(length, ScalarType.Int64, inputIds.device);
            var notPad = inputIds.ne(pad).to(ScalarType.Int64);
            last = (positions * notPad).argmax(-1);
        }
        else
        {
            if (batch != 1) throw new ArgumentException("Cannot handle batch sizes > 1 if no padding token is defined.", nameof(inputIds));
            last = full([batch], length - 1, ScalarType.Int64, inputIds.device);
        }
        return logits[arange(batch, ScalarType.Int64, inputIds.device), last];
    }

    private static string ClassName(AdapterModel? backbone) => backbone?.Interface.ModelType switch
    {
        "gpt2" => "GPT2ForSequenceClassification",
        "llama" => "LlamaForSequenceClassification",
        "mistral" => "MistralForSequenceClassification",
        "qwen2" => "Qwen2ForSequenceClassification",
        _ => nameof(DecoderForSequenceClassification),
    };
}
