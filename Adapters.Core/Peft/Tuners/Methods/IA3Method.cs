using Adapters.Core.Configuration;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>PEFT's IA³ (<c>IA3</c>): learned scaling of a layer's outputs, or of its inputs for feed-forward modules.</summary>
internal sealed class IA3Method : PeftTunerMethod
{
    private static readonly HashSet<PeftLayerKind> s_kinds = [PeftLayerKind.Linear, PeftLayerKind.Conv1D];

    /// <inheritdoc />
    public override string PeftType => "IA3";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "target_modules", "exclude_modules", "feedforward_modules", "fan_in_fan_out", "modules_to_save", "init_ia3_weights");

    /// <inheritdoc />
    public override IReadOnlySet<PeftLayerKind> SupportedKinds => s_kinds;

    /// <inheritdoc />
    public override string SupportedText => "`torch.nn.Linear`, `torch.nn.Conv2d`, and `transformers.pytorch_utils.Conv1D`";

    /// <summary>PEFT 0.14's IA³ also scales Conv2d layers; this port does not yet.</summary>
    public override IReadOnlySet<PeftLayerKind> UnportedKinds { get; } = new HashSet<PeftLayerKind> { PeftLayerKind.Conv2d };

    /// <inheritdoc />
    public override PeftModuleSelector? DefaultTargets(string? modelType) => modelType switch
    {
        "bert" or "roberta" or "xlm-roberta" => PeftModuleSelector.Of("key", "value", "output.dense"),
        "llama" or "mistral" or "qwen2" => PeftModuleSelector.Of("k_proj", "v_proj", "down_proj"),
        "gpt2" => PeftModuleSelector.Of("c_attn", "mlp.c_proj"),
        _ => null,
    };

    /// <summary>PEFT's default <c>feedforward_modules</c> for <paramref name="modelType"/>.</summary>
    public static PeftModuleSelector? DefaultFeedForward(string? modelType) => modelType switch
    {
        "bert" or "roberta" or "xlm-roberta" => PeftModuleSelector.Of("output.dense"),
        "llama" or "mistral" or "qwen2" => PeftModuleSelector.Of("down_proj"),
        "gpt2" => PeftModuleSelector.Of("mlp.c_proj"),
        _ => null,
    };

    /// <inheritdoc />
    public override void Validate(PeftConfig config)
    {
        if (config.Selector("target_modules") is { Names: { } targets } && config.Selector("feedforward_modules") is { Names: { } ff }
            && !ff.All(targets.Contains))
            throw new AdapterConfigException($"{config.Source}: `feedforward_modules` should be a subset of `target_modules`");
    }

    /// <inheritdoc />
    public override void PrepareLayer(PeftConfig config, PeftBaseLayer layer) => ForceFanInFanOut(config, layer);

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new IA3Layer(layer, state);
}
