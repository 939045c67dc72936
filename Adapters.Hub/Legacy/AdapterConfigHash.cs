using Adapters.Hub.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Legacy;

/// <summary>
/// The adapter config id of Python's <c>adapters.utils.get_adapter_config_hash</c>: drop falsy dict values
/// recursively, drop the v3 keys that still hold their defaults, serialize as <c>json.dumps(sort_keys=True)</c>,
/// SHA-1 the UTF-8 bytes and keep the first 16 hex digits.
/// </summary>
public static class AdapterConfigHash
{
    /// <summary>The id length the registry and the library use.</summary>
    public const int DefaultLength = 16;

    // Keys introduced with the v3 configs; the library drops them when they hold these defaults so that v2 ids stay stable.
    private static readonly KeyValuePair<string, object>[] s_ignoredDefaults =
    [
        new("phm_layer", true),
        new("phm_dim", 4),
        new("factorized_phm_W", true),
        new("shared_W_phm", false),
        new("shared_phm_rule", true),
        new("factorized_phm_rule", false),
        new("phm_c_init", "normal"),
        new("phm_init_range", 0.0001),
        new("learn_phm", true),
        new("hypercomplex_nonlinearity", "glorot-uniform"),
        new("phm_rank", 1),
        new("phm_bias", true),
        new("init_weights", "bert"),
        new("scaling", 1.0),
    ];

    /// <summary>Computes the id of <paramref name="config"/> (a full method config, not the saved file's top level).</summary>
    public static string Compute(JsonObject config, int length = DefaultLength)
    {
        var hex = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(CanonicalText(config))));
        return hex[..Math.Min(length, hex.Length)];
    }

    /// <summary>The exact text that is hashed, for diagnosing a mismatch.</summary>
    public static string CanonicalText(JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var minimized = Minimize(config);
        foreach (var (name, defaultValue) in s_ignoredDefaults)
        {
            if (minimized.TryGetPropertyValue(name, out var value) && PythonJson.PythonEquals(value, defaultValue))
            {
                minimized.Remove(name);
            }
        }
        return PythonJson.Dumps(minimized);
    }

    /// <summary>Python's <c>_minimize_dict</c>: keeps a dict entry only when its original value is truthy; lists are kept whole.</summary>
    internal static JsonObject Minimize(JsonObject source)
    {
        var result = new JsonObject();
        foreach (var (key, value) in source)
        {
            if (!PythonJson.IsTruthy(value)) continue;
            result[key] = value is JsonObject nested ? Minimize(nested) : value!.DeepClone();
        }
        return result;
    }
}
