using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>One serialised field of a config: its Python name, how to write it and how to set it from JSON.</summary>
internal sealed record ConfigField<TConfig>(string Name, Func<TConfig, JsonNode?> Get, Func<TConfig, JsonNode?, TConfig> Set)
    where TConfig : AdapterConfig
{
    public static JsonObject Write(TConfig config, IReadOnlyList<ConfigField<TConfig>> fields, string? architecture)
    {
        var result = new JsonObject();
        if (architecture is not null) result["architecture"] = architecture;
        foreach (var field in fields) result[field.Name] = field.Get(config);
        foreach (var (key, value) in config.ExtraFields)
        {
            if (!result.ContainsKey(key)) result[key] = value?.DeepClone();
        }
        return result;
    }

    /// <summary>
    /// Applies <paramref name="values"/> field by field. Unknown names become extra attributes when
    /// <paramref name="keepUnknown"/> (Python's <c>from_dict</c>), else they are an error (Python's <c>replace</c>).
    /// </summary>
    public static TConfig Apply(TConfig config, JsonObject values, IReadOnlyList<ConfigField<TConfig>> fields, bool keepUnknown)
    {
        var extras = new Dictionary<string, JsonNode?>(config.ExtraFields, StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            if (key == "architecture") continue;
            var field = fields.FirstOrDefault(f => f.Name == key);
            if (field is not null)
            {
                config = field.Set(config, value);
            }
            else if (keepUnknown)
            {
                extras[key] = value?.DeepClone();
            }
            else
            {
                throw new AdapterConfigException(
                    $"{config.GetType().Name} has no field '{key}'. Known fields: {string.Join(", ", fields.Select(f => f.Name))}.");
            }
        }
        return extras.Count != config.ExtraFields.Count ? config with { ExtraFields = extras } : config;
    }
}
