using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// PEFT's p-tuning <c>PromptEncoder</c> in training mode: <c>embedding</c> (T, token_dim) reparameterised by
/// <c>mlp_head</c> = Linear(d, h), ReLU, Linear(h, h), ReLU, Linear(h, d) (MLP; PEFT always builds two hidden layers
/// whatever <c>encoder_num_layers</c> says), or by a bidirectional <c>lstm_head</c> (d → h, <c>encoder_num_layers</c>,
/// <c>encoder_dropout</c>) followed by <c>mlp_head</c> = Linear(2h, 2h), ReLU, Linear(2h, d) (LSTM).
/// </summary>
public sealed class PeftPTuningEncoder : PeftPromptEncoder
{
    private readonly Embedding _embedding;
    private readonly LSTM? _lstm;
    private readonly Sequential _mlp;

    /// <summary>Creates the encoder with torch's default inits.</summary>
    public PeftPTuningEncoder(PeftPromptLearningConfig config, Device? device, ScalarType? dtype) : base(nameof(PeftPTuningEncoder), config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var d = config.TokenDim;
        var h = config.EncoderHiddenSize;
        _embedding = nn.Embedding(config.TotalVirtualTokens, d, device: device, dtype: dtype);
        register_module("embedding", _embedding);
        if (config.EncoderReparameterizationType == "LSTM")
        {
            _lstm = nn.LSTM(d, h, config.EncoderNumLayers, bidirectional: true, batchFirst: true, dropout: config.EncoderDropout, device: device, dtype: dtype);
            register_module("lstm_head", _lstm);
            _mlp = nn.Sequential(("0", nn.Linear(2 * h, 2 * h, true, device, dtype)), ("1", nn.ReLU()), ("2", nn.Linear(2 * h, d, true, device, dtype)));
        }
        else
        {
            _mlp = nn.Sequential(
                ("0", nn.Linear(d, h, true, device, dtype)), ("1", nn.ReLU()),
                ("2", nn.Linear(h, h, true, device, dtype)), ("3", nn.ReLU()),
                ("4", nn.Linear(h, d, true, device, dtype)));
        }
        register_module("mlp_head", _mlp);
    }

    /// <inheritdoc />
    public override Tensor Output()
    {
        var embeds = _embedding.weight!;
        if (_lstm is null) return _mlp.call(embeds);
        var (sequence, _, _) = _lstm.call(embeds.unsqueeze(0));
        return _mlp.call(sequence.squeeze(0));
    }
}
