using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Models;

/// <summary>Typed reads of a transformers <c>config.json</c> with fallbacks; errors name the file and the field.</summary>
internal sealed class HfConfigReader
{
    private readonly JsonObject _json;
    private readonly string _source;

    public HfConfigReader(string json, string source)
    {
        _source = source;
        _json = ConfigJson.Parse(json, source) as JsonObject ?? throw new AdapterConfigException($"{source} must hold a JSON object.");
    }

    public string? ModelType => Str("model_type");

    public bool Has(string key) => _json.ContainsKey(key);

    public JsonNode? this[string key] => _json.TryGetPropertyValue(key, out var node) ? node : null;

    public string? Str(string key) => Read(key, n => ConfigValues.ReadOptionalString(n, key));

    public int Int(string key, int fallback) => Read(key, n => n is null ? fallback : ConfigValues.ReadInt(n, key));

    public int? OptionalInt(string key) => Read(key, n => ConfigValues.ReadOptionalInt(n, key));

    public double Float(string key, double fallback) => Read(key, n => n is null ? fallback : ConfigValues.ReadFloat(n, key));

    public bool Bool(string key, bool fallback) => Read(key, n => n is null ? fallback : ConfigValues.ReadBool(n, key));

    /// <summary>A token id field that may be absent, one integer, or a list (Llama 3's <c>eos_token_id</c>).</summary>
    public IReadOnlyList<long> TokenIds(string key) => Read(key, n => n switch
    {
        null => (IReadOnlyList<long>)[],
        JsonArray array => array.Select(item => (long)ConfigValues.ReadInt(item, key)).ToArray(),
        _ => [ConfigValues.ReadInt(n, key)],
    });

    public AdapterConfigException Invalid(string key, string expected) =>
        new($"{_source}: \"{key}\" {expected}.");

    private T Read<T>(string key, Func<JsonNode?, T> read)
    {
        try
        {
            return read(this[key]);
        }
        catch (AdapterConfigException ex)
        {
            throw new AdapterConfigException($"{_source}: {ex.Message}");
        }
    }
}
