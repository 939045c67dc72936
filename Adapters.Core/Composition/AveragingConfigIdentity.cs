using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Composition;

/// <summary>
/// The text Python's <c>get_adapter_config_hash(config, ignore_params=[...])</c> hashes, used to decide whether
/// adapters (or heads) may be averaged: top-level ignored keys dropped, falsy dict values dropped recursively, the
/// v3 keys that hold their defaults dropped, then <c>json.dumps(sort_keys=True)</c>. Equal text means equal hash.
/// </summary>
internal static class AveragingConfigIdentity
{
    private static readonly KeyValuePair<string, object>[] s_ignoredDefaults =
    [
        new("phm_layer", true), new("phm_dim", 4), new("factorized_phm_W", true), new("shared_W_phm", false),
        new("shared_phm_rule", true), new("factorized_phm_rule", false), new("phm_c_init", "normal"),
        new("phm_init_range", 0.0001), new("learn_phm", true), new("hypercomplex_nonlinearity", "glorot-uniform"),
        new("phm_rank", 1), new("phm_bias", true), new("init_weights", "bert"), new("scaling", 1.0),
    ];

    public static string Of(JsonObject config, params string[] ignore)
    {
        var minimized = Minimize(config, ignore);
        foreach (var (name, value) in s_ignoredDefaults)
            if (minimized.TryGetPropertyValue(name, out var node) && PythonJson.PythonEquals(node, value)) minimized.Remove(name);
        return PythonJson.Dumps(minimized);
    }

    private static JsonObject Minimize(JsonObject source, IReadOnlyCollection<string> ignore)
    {
        var result = new JsonObject();
        foreach (var (key, value) in source)
        {
            if (ignore.Contains(key) || !PythonJson.IsTruthy(value)) continue;
            result[key] = value is JsonObject nested ? Minimize(nested, []) : value!.DeepClone();
        }
        return result;
    }
}
