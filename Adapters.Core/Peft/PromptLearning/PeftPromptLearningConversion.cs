using System.Text.Json.Nodes;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// Conversion between PEFT's prompt tuning / prefix tuning and <c>adapters</c>' prompt tuning / flat prefix tuning,
/// whose weights hold the same numbers in the same layout: PEFT's <c>prompt_embeddings</c> (T, hidden) is
/// <c>prompt_embedding.weight</c>, and PEFT's prefix (nvt, layers·2·hidden), viewed (nvt, 2·layers, heads, head_dim),
/// is <c>FlatPrefixTuning</c>'s <c>control_trans</c> viewed the same way. The forward passes differ where the two
/// libraries differ: PEFT's prefix takes the first positions and <c>adapters</c>' does not, and <c>adapters</c> puts
/// an encoder's prompt after the embedding layer while PEFT puts it before (decoders prepend to the token embeddings in
/// both), so outputs agree only where those coincide.
/// </summary>
public static class PeftPromptLearningConversion
{
    /// <summary>
    /// Adds <c>adapters</c> adapter <paramref name="adaptersName"/> holding PEFT adapter <paramref name="peftName"/>'s
    /// prompt (<c>prompt_tuning</c>) or prefix (flat <c>prefix_tuning</c>), baked first if it still has an encoder.
    /// </summary>
    /// <exception cref="AdapterConfigException">The PEFT method has no <c>adapters</c> counterpart (p-tuning keeps its own; Llama-Adapter has none) or does not fit.</exception>
    public static AdapterConfig ConvertPeftPromptLearningToAdapters(this AdapterModel model, string peftName, string adaptersName)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (config, weights) = model.CreatePeftPromptLearningState(peftName);
        AdapterConfig target = config.PeftType switch
        {
            PeftPromptLearningConfig.PromptTuning or PeftPromptLearningConfig.PTuning => new PromptTuningConfig { PromptLength = config.TotalVirtualTokens },
            PeftPromptLearningConfig.PrefixTuning => new PrefixTuningConfig { PrefixLength = config.NumVirtualTokens, Flat = true },
            _ => throw new AdapterConfigException($"Adapter \"{peftName}\" is a PEFT {config.PeftType} adapter, which has no adapters counterpart."),
        };
        if (target is PrefixTuningConfig && config.NumAttentionHeads * (config.TokenDim / config.NumAttentionHeads) != model.Interface.HiddenSize)
            throw new AdapterConfigException($"Adapter \"{peftName}\" prefixes {config.NumAttentionHeads} key/value heads of token_dim {config.TokenDim}; adapters' prefix holds one prefix per attention head of the hidden size {model.Interface.HiddenSize}.");
        var values = weights[PeftPromptLearning.PromptEmbeddingsKey];
        model.AddAdapter(adaptersName, target);
        try
        {
            var parameter = SingleParameter(model, adaptersName);
            using var _ = no_grad();
            if (parameter.numel() != values.numel())
                throw new AdapterConfigException($"Adapter \"{peftName}\" has {values.numel()} prompt values but the adapters {target.Architecture} of this model holds {parameter.numel()}.");
            parameter.copy_(values.reshape(parameter.shape));
        }
        catch
        {
            model.DeleteAdapter(adaptersName);
            throw;
        }
        return target;
    }

    /// <summary>
    /// Adds PEFT adapter <paramref name="peftName"/> holding <c>adapters</c> adapter <paramref name="adaptersName"/>'s
    /// prompt (PROMPT_TUNING) or flat prefix (PREFIX_TUNING, no projection; an MLP prefix is ejected into its output
    /// first, as <c>eject_prefix_tuning</c> does), with <paramref name="taskType"/> and
    /// <paramref name="baseModelNameOrPath"/> in its config.
    /// </summary>
    /// <exception cref="AdapterConfigException">The adapter is not a plain prompt or prefix, or uses options PEFT has no field for.</exception>
    public static PeftPromptLearningConfig ConvertAdaptersToPeftPromptLearning(this AdapterModel model, string adaptersName, string peftName,
        string? taskType = null, string? baseModelNameOrPath = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var fields = new JsonObject { ["task_type"] = taskType, ["base_model_name_or_path"] = baseModelNameOrPath ?? model.ModelName };
        string peftType;
        switch (model.GetAdapterConfig(adaptersName))
        {
            case PromptTuningConfig prompt:
                if (prompt.Combine != "prefix")
                    throw new AdapterConfigException($"Adapter \"{adaptersName}\" combines its prompt \"{prompt.Combine}\"; PEFT prompt tuning always puts it first.");
                peftType = PeftPromptLearningConfig.PromptTuning;
                fields["num_virtual_tokens"] = prompt.PromptLength;
                break;
            case PrefixTuningConfig prefix:
                if (prefix.UseGating || prefix.LeaveOut.Count > 0)
                    throw new AdapterConfigException($"Adapter \"{adaptersName}\" uses {(prefix.UseGating ? "gating" : "leave_out")}; PEFT prefix tuning has no such option.");
                if (!prefix.Flat) model.EjectPrefixTuning(adaptersName);
                peftType = PeftPromptLearningConfig.PrefixTuning;
                fields["num_virtual_tokens"] = prefix.PrefixLength;
                break;
            case var other:
                throw new AdapterConfigException($"Adapter \"{adaptersName}\" is {other.DisplayArchitecture}; only prompt tuning and prefix tuning have a PEFT prompt-learning counterpart.");
        }
        var config = model.AddPeftPromptLearningAdapter(peftName, PeftPromptLearningConfig.Create(peftType, fields));
        try
        {
            var source = SingleParameter(model, adaptersName);
            var target = model.AdapterParameters(peftName).Single().Parameter;
            using var _ = no_grad();
            if (source.numel() != target.numel())
                throw new AdapterConfigException($"Adapter \"{adaptersName}\" holds {source.numel()} values but PEFT's {peftType} on this model holds {target.numel()}.");
            target.copy_(source.reshape(target.shape));
        }
        catch
        {
            model.DeleteAdapter(peftName);
            throw;
        }
        return config;
    }

    private static Parameter SingleParameter(AdapterModel model, string name)
    {
        // Python registers the prefix pool under every attention too; those keys name the same tensor.
        var parameters = model.AdapterParameters(name).Select(p => p.Parameter).Distinct().ToArray();
        return parameters.Length == 1
            ? parameters[0]
            : throw new AdapterConfigException($"Adapter \"{name}\" has {parameters.Length} parameters; a prompt or flat prefix has one.");
    }
}
