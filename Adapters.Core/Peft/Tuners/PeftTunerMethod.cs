using Adapters.Core.Configuration;

namespace Adapters.Core.Peft.Tuners;

/// <summary>
/// A PEFT method that wraps target layers (LoRA, IA³, LoHa, …): which layer kinds it takes, its default targets, its
/// config checks, and the <see cref="PeftTunerLayer"/> it puts on each target.
/// </summary>
public abstract class PeftTunerMethod : PeftMethod
{
    /// <summary>The layer kinds PEFT 0.14 supports for this method.</summary>
    public abstract IReadOnlySet<PeftLayerKind> SupportedKinds { get; }

    /// <summary>Layer kinds PEFT 0.14 adapts with this method but this port does not yet (refused as such, not as PEFT's refusal).</summary>
    public virtual IReadOnlySet<PeftLayerKind> UnportedKinds { get; } = new HashSet<PeftLayerKind>();

    /// <summary>PEFT's list of supported layer types, for refusals.</summary>
    public virtual string SupportedText => string.Join(", ", SupportedKinds.Select(k => k switch
    {
        PeftLayerKind.Linear => "`torch.nn.Linear`",
        PeftLayerKind.Conv1D => "`transformers.pytorch_utils.Conv1D`",
        PeftLayerKind.Conv2d => "`torch.nn.Conv2d`",
        _ => "`torch.nn.Embedding`",
    }));

    /// <summary>The default <c>target_modules</c> for <paramref name="modelType"/> (PEFT's per-architecture tables), or null.</summary>
    public virtual PeftModuleSelector? DefaultTargets(string? modelType) => modelType switch
    {
        "bert" or "roberta" or "xlm-roberta" => PeftModuleSelector.Of("query", "value"),
        "llama" or "mistral" or "qwen2" or "gemma" => PeftModuleSelector.Of("q_proj", "v_proj"),
        "gpt2" => PeftModuleSelector.Of("c_attn"),
        "distilbert" => PeftModuleSelector.Of("q_lin", "v_lin"),
        _ => null,
    };

    /// <summary>Checks the config as PEFT's config class and tuner do before any layer is touched.</summary>
    /// <exception cref="AdapterConfigException">PEFT refuses it (the message says why, in PEFT's terms).</exception>
    public virtual void Validate(PeftConfig config) { }

    /// <summary>Creates this method's tuner on <paramref name="layer"/>.</summary>
    public abstract PeftTunerLayer CreateLayer(PeftBaseLayer layer, PeftAdapterState state);

    /// <summary>Called once per targeted layer before its tuner is created: PEFT adjusts the config here (e.g. <c>fan_in_fan_out</c> for Conv1D).</summary>
    public virtual void PrepareLayer(PeftConfig config, PeftBaseLayer layer) { }

    /// <summary>Model-level tensors of the adapter (VeRA's shared projections), keyed as in PEFT files after <c>base_model.</c>.</summary>
    public virtual IEnumerable<(string Key, TorchSharp.Modules.Parameter Tensor)> ModelTensors(PeftTunerModel model, string adapter) => [];

    /// <summary>Called after every target of an adapter has its tuner, for model-level set-up (VeRA's projections).</summary>
    public virtual void AfterInject(PeftTunerModel model, string adapter, PeftConfig config, IReadOnlyList<PeftTunerLayer> layers) { }

    /// <summary>
    /// The tensors written for <paramref name="adapter"/> (PEFT's last edits of the state dict on save, e.g. AdaLoRA
    /// leaving out pruned ranks); <paramref name="saved"/> is the config being written and may be adjusted too.
    /// </summary>
    public virtual IReadOnlyList<KeyValuePair<string, TorchSharp.torch.Tensor>> PrepareSave(PeftConfig saved, string adapter, IReadOnlyList<KeyValuePair<string, TorchSharp.torch.Tensor>> tensors) => tensors;

    /// <summary>Refuses a merge PEFT cannot do for this config (default: every config merges).</summary>
    /// <exception cref="InvalidOperationException">The method cannot merge.</exception>
    public virtual void CheckMergeable(PeftConfig config) { }

    /// <summary>Sets <c>fan_in_fan_out</c> as PEFT does for LoRA-like methods: true for Conv1D, false for Linear (the config is mutated, as PEFT's is).</summary>
    protected static void ForceFanInFanOut(PeftConfig config, PeftBaseLayer layer)
    {
        if (layer.Kind is PeftLayerKind.Embedding or PeftLayerKind.Conv2d) return;
        config.Document["fan_in_fan_out"] = layer.FanInFanOut;
    }
}
