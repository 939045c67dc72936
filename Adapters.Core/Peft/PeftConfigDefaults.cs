using System.Text.Json.Nodes;

namespace Adapters.Core.Peft;

/// <summary>
/// The fields PEFT 0.14's config classes write with their defaults (<c>PeftConfig.to_dict()</c>), so that an adapter
/// created here is saved with every field PEFT would write. A config read from a folder is never filled: it keeps the
/// fields its writer chose.
/// </summary>
public static class PeftConfigDefaults
{
    private static readonly Dictionary<string, Func<JsonObject>> s_defaults = new(StringComparer.Ordinal)
    {
        ["LORA"] = () => new JsonObject
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = null,
            ["bias"] = "none",
            ["eva_config"] = null,
            ["exclude_modules"] = null,
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = false,
            ["init_lora_weights"] = true,
            ["layer_replication"] = null,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["loftq_config"] = new JsonObject(),
            ["lora_alpha"] = 8,
            ["lora_bias"] = false,
            ["lora_dropout"] = 0.0,
            ["megatron_config"] = null,
            ["megatron_core"] = "megatron.core",
            ["modules_to_save"] = null,
            ["r"] = 8,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["task_type"] = null,
            ["use_dora"] = false,
            ["use_rslora"] = false,
        },
    };

    /// <summary>Adds every field of <paramref name="config"/>'s method that it lacks, with PEFT's default; present fields are untouched.</summary>
    /// <returns>Whether PEFT's defaults are known for the config's <c>peft_type</c>.</returns>
    public static bool Fill(PeftConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!s_defaults.TryGetValue(config.PeftType, out var defaults)) return false;
        foreach (var (key, value) in defaults())
        {
            if (!config.Document.ContainsKey(key)) config.Document[key] = value?.DeepClone();
        }
        return true;
    }
}
