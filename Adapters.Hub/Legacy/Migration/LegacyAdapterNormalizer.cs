using Adapters.Hub.IO;
using Adapters.Hub.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Legacy.Migration;

/// <summary>
/// Brings a legacy adapter folder (adapter-transformers 1.x–3.x <c>save_adapter</c> output) to what today's
/// <c>adapters</c> writes, at the JSON level: the current bottleneck config keys with their defaults, the
/// <c>gelu</c>→<c>gelu_new</c> rename that Python applies to configs without a <c>version</c>, the v1
/// <c>invertible_adapter</c> block as <c>inv_adapter</c>, <c>*ModelWithHeads</c> classes as <c>*AdapterModel</c>,
/// and a <c>version</c> stamp. Files are written as <c>json.dump(indent=2, sort_keys=True)</c> writes them.
/// </summary>
public static class LegacyAdapterNormalizer
{
    /// <summary>The library version stamped into normalised configs.</summary>
    public const string LibraryVersion = "adapters.1.2.0";

    /// <summary>Adapter config file name.</summary>
    public const string AdapterConfigName = "adapter_config.json";

    /// <summary>Head config file name.</summary>
    public const string HeadConfigName = "head_config.json";

    /// <summary>Pickled adapter weights.</summary>
    public const string AdapterWeightsName = "pytorch_adapter.bin";

    /// <summary>Pickled head weights.</summary>
    public const string HeadWeightsName = "pytorch_model_head.bin";

    /// <summary>Safetensors adapter weights.</summary>
    public const string SafeAdapterWeightsName = "adapter.safetensors";

    /// <summary>Safetensors head weights.</summary>
    public const string SafeHeadWeightsName = "model_head.safetensors";

    private static readonly string[] s_weightFiles = [AdapterWeightsName, HeadWeightsName, SafeAdapterWeightsName, SafeHeadWeightsName];

    // BnConfig fields with dataclass defaults; mh_adapter, output_adapter, reduction_factor and non_linearity have none.
    private static readonly (string Key, Func<JsonNode?> Value)[] s_bottleneckDefaults =
    [
        ("adapter_residual_before_ln", () => false),
        ("cross_adapter", () => false),
        ("dropout", () => 0.0),
        ("factorized_phm_W", () => true),
        ("factorized_phm_rule", () => false),
        ("hypercomplex_nonlinearity", () => "glorot-uniform"),
        ("init_weights", () => "bert"),
        ("init_weights_seed", () => null),
        ("inv_adapter", () => null),
        ("inv_adapter_reduction_factor", () => null),
        ("is_parallel", () => false),
        ("learn_phm", () => true),
        ("leave_out", () => new JsonArray()),
        ("ln_after", () => false),
        ("ln_before", () => false),
        ("original_ln_after", () => true),
        ("original_ln_before", () => false),
        ("phm_bias", () => true),
        ("phm_c_init", () => "normal"),
        ("phm_dim", () => 4),
        ("phm_init_range", () => 0.0001),
        ("phm_layer", () => false),
        ("phm_rank", () => 1),
        ("residual_before_ln", () => true),
        ("scaling", () => 1.0),
        ("shared_W_phm", () => false),
        ("shared_phm_rule", () => true),
        ("stochastic_depth", () => 0.0),
        ("use_gating", () => false),
    ];

    private static readonly string[] s_requiredBottleneckKeys = ["mh_adapter", "output_adapter", "reduction_factor", "non_linearity"];

    /// <summary>
    /// Normalises the extracted folder <paramref name="source"/> into <paramref name="destination"/>: rewritten
    /// configs, weight files copied unchanged. Returns the file names written.
    /// </summary>
    /// <exception cref="LegacyArchiveException">The folder lacks <c>adapter_config.json</c> or adapter weights, or a config is not valid JSON.</exception>
    public static async Task<IReadOnlyList<string>> NormalizeFolderAsync(string source, string destination, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        var configPath = Path.Combine(source, AdapterConfigName);
        if (!File.Exists(configPath))
        {
            throw new LegacyArchiveException(source, $"no {AdapterConfigName} in the archive");
        }
        if (!File.Exists(Path.Combine(source, AdapterWeightsName)) && !File.Exists(Path.Combine(source, SafeAdapterWeightsName)))
        {
            throw new LegacyArchiveException(source, $"no {AdapterWeightsName} or {SafeAdapterWeightsName} in the archive");
        }
        Directory.CreateDirectory(destination);
        var written = new List<string>();

        var adapterConfig = NormalizeAdapterConfig(await ReadObjectAsync(configPath, cancellationToken).ConfigureAwait(false), configPath);
        await WriteJsonAsync(Path.Combine(destination, AdapterConfigName), adapterConfig, cancellationToken).ConfigureAwait(false);
        written.Add(AdapterConfigName);

        var headPath = Path.Combine(source, HeadConfigName);
        if (File.Exists(headPath))
        {
            var headConfig = NormalizeHeadConfig(await ReadObjectAsync(headPath, cancellationToken).ConfigureAwait(false));
            await WriteJsonAsync(Path.Combine(destination, HeadConfigName), headConfig, cancellationToken).ConfigureAwait(false);
            written.Add(HeadConfigName);
        }
        foreach (var name in s_weightFiles)
        {
            var from = Path.Combine(source, name);
            if (!File.Exists(from)) continue;
            File.Copy(from, Path.Combine(destination, name), overwrite: true);
            written.Add(name);
        }
        return written;
    }

    /// <summary>Normalises a saved <c>adapter_config.json</c> document (top level with a nested <c>config</c>).</summary>
    /// <exception cref="LegacyArchiveException">The nested config is missing or a bottleneck config lacks a required field.</exception>
    public static JsonObject NormalizeAdapterConfig(JsonObject saved, string source = AdapterConfigName)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var result = (JsonObject)saved.DeepClone();
        var hadVersion = result.ContainsKey("version");
        // adapter-transformers 1.x stored the adapter type at the top level; today's loader ignores it and its writer never emits it.
        result.Remove("type");
        if (result["config"] is not JsonObject config)
        {
            throw new LegacyArchiveException(source, "field 'config': expected the adapter's method config object");
        }
        if (!hadVersion && config["non_linearity"] is JsonValue activation && activation.GetValueKind() == JsonValueKind.String)
        {
            config["non_linearity"] = activation.GetValue<string>() switch
            {
                "gelu" => "gelu_new",
                "gelu_orig" => "gelu",
                var other => other,
            };
        }
        if (!config.ContainsKey("architecture"))
        {
            NormalizeBottleneck(config, source);
        }
        RenameModelClass(result);
        result["version"] = LibraryVersion;
        return result;
    }

    /// <summary>Normalises a saved <c>head_config.json</c> document.</summary>
    public static JsonObject NormalizeHeadConfig(JsonObject saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var result = (JsonObject)saved.DeepClone();
        result.Remove("type");
        RenameModelClass(result);
        result["version"] = LibraryVersion;
        return result;
    }

    private static void NormalizeBottleneck(JsonObject config, string source)
    {
        // v1 configs nest the invertible adapter; BnConfig.__setattr__ maps it to the two flat fields.
        if (config["invertible_adapter"] is JsonObject invertible)
        {
            config["inv_adapter"] = invertible["block_type"]?.DeepClone();
            config["inv_adapter_reduction_factor"] = invertible["reduction_factor"]?.DeepClone();
            config.Remove("invertible_adapter");
        }
        else if (config.ContainsKey("invertible_adapter"))
        {
            config.Remove("invertible_adapter");
        }
        foreach (var key in s_requiredBottleneckKeys)
        {
            if (!config.ContainsKey(key)) throw new LegacyArchiveException(source, $"field 'config.{key}': required by bottleneck configs");
        }
        foreach (var (key, value) in s_bottleneckDefaults)
        {
            if (!config.ContainsKey(key)) config[key] = value();
        }
    }

    private static void RenameModelClass(JsonObject document)
    {
        if (document["model_class"] is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            var name = value.GetValue<string>();
            const string suffix = "ModelWithHeads";
            if (name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length)
            {
                document["model_class"] = name[..^suffix.Length] + "AdapterModel";
            }
        }
    }

    private static async Task<JsonObject> ReadObjectAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
            return JsonNode.Parse(text) as JsonObject ?? throw new LegacyArchiveException(path, "expected a JSON object");
        }
        catch (JsonException ex)
        {
            throw new LegacyArchiveException(path, $"invalid JSON: {ex.Message}", ex);
        }
    }

    private static Task WriteJsonAsync(string path, JsonObject value, CancellationToken cancellationToken) =>
        AtomicFile.WriteAllTextAsync(path, PythonJson.Dumps(value, indent: 2), cancellationToken: cancellationToken);
}
