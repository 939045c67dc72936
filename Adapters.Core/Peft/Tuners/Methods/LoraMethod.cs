using Adapters.Core.Configuration;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>PEFT's LoRA (<c>LORA</c>), with rsLoRA and DoRA, on Linear, Conv1D, Embedding and Conv2d layers (DoRA not on Conv2d yet).</summary>
internal sealed class LoraMethod : PeftTunerMethod
{
    private static readonly HashSet<PeftLayerKind> s_kinds = [PeftLayerKind.Linear, PeftLayerKind.Conv1D, PeftLayerKind.Embedding, PeftLayerKind.Conv2d];

    // Initialisations that rewrite the base weights (or need data); their saved adapters only fit the rewritten base.
    private static readonly HashSet<string> s_baseChangingInits = new(StringComparer.Ordinal) { "olora", "loftq", "eva", "corda" };

    /// <inheritdoc />
    public override string PeftType => "LORA";

    /// <inheritdoc />
    public override IReadOnlySet<string> KnownFields { get; } = PeftPatterns.Fields(
        "r", "target_modules", "exclude_modules", "lora_alpha", "lora_dropout", "fan_in_fan_out", "bias", "use_rslora",
        "modules_to_save", "init_lora_weights", "layers_to_transform", "layers_pattern", "rank_pattern", "alpha_pattern",
        "megatron_config", "megatron_core", "loftq_config", "eva_config", "use_dora", "layer_replication", "lora_bias");

    /// <inheritdoc />
    public override IReadOnlySet<PeftLayerKind> SupportedKinds => s_kinds;

    /// <inheritdoc />
    public override void Validate(PeftConfig config)
    {
        if (config.Int("r", 8) <= 0) throw new AdapterConfigException($"{config.Source}: `r` should be a positive integer value but the value passed is {config.Int("r", 8)}");
        if (config.Selector("target_modules")?.Pattern is not null && (config.LayersToTransform is not null || config.LayersPattern is not null))
            throw new AdapterConfigException($"{config.Source}: `layers_to_transform` cannot be used when `target_modules` is a str.");
        if (config.LayersPattern is not null && config.LayersToTransform is null)
            throw new AdapterConfigException($"{config.Source}: When `layers_pattern` is specified, `layers_to_transform` must also be specified. ");
        if (config.Bool("use_dora", false) && config.Bool("lora_bias", false))
            throw new AdapterConfigException($"{config.Source}: DoRA does not support lora_bias yet, set it to False");
        if (config.Bool("lora_bias", false))
            throw new AdapterConfigException($"{config.Source}: lora_bias (a trainable bias on lora_B) is not supported by this port yet.");
        if (config.Document["megatron_config"] is not null)
            throw new AdapterConfigException($"{config.Source}: megatron_config: Megatron parallel layers do not exist in TorchSharp.");
        if (config.Document["layer_replication"] is not null)
            throw new AdapterConfigException($"{config.Source}: layer_replication (duplicating base layers) is not supported by this port yet.");
        if (config.Document["trainable_token_indices"] is not null)
            throw new AdapterConfigException($"{config.Source}: trainable_token_indices (PEFT ≥ 0.15) is not supported by this port yet.");
        var init = config.BoolOrString("init_lora_weights", true);
        if (s_baseChangingInits.Contains(init) || init.StartsWith("pissa", StringComparison.Ordinal))
            throw new AdapterConfigException($"{config.Source}: init_lora_weights=\"{init}\" rewrites the base weights at creation; this port does not implement it, so the adapter would not fit the base model it was trained on.");
        if (config.String("bias") is { } bias && bias != "none")
            throw new AdapterConfigException($"{config.Source}: bias=\"{bias}\" trains base-layer biases; this port's PEFT tuners keep the base model frozen (load it through LoadPeftAdapter with ApplyBiasToBaseModel).");
    }

    /// <inheritdoc />
    public override void PrepareLayer(PeftConfig config, PeftBaseLayer layer) => ForceFanInFanOut(config, layer);

    /// <inheritdoc />
    public override PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state) => new LoraLayer(layer, state);
}
