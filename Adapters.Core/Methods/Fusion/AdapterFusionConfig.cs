using System.Text;
using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Methods.Fusion;

/// <summary>
/// The architecture of an AdapterFusion layer, Python's <c>AdapterFusionConfig</c>, with its field names and the
/// presets <see cref="Static"/> (<c>"static"</c>) and <see cref="Dynamic"/> (<c>"dynamic"</c>, the default).
/// </summary>
public sealed record AdapterFusionConfig
{
    /// <summary>Python's default preset name.</summary>
    public const string DefaultPreset = "dynamic";

    /// <summary>Static fusion: query and key projections, no value matrix.</summary>
    public static AdapterFusionConfig Static { get; } = new()
    {
        Key = true, Query = true, Value = false, Regularization = false, ValueInitialized = false, ValueBeforeSoftmax = true,
    };

    /// <summary>Dynamic fusion (Python's default): query, key and an identity-initialised value matrix with regularisation.</summary>
    public static AdapterFusionConfig Dynamic { get; } = new()
    {
        Key = true, Query = true, Value = true, Regularization = true, ValueInitialized = true, ValueBeforeSoftmax = true,
    };

    /// <summary><c>key</c>: project the adapter outputs with a key matrix.</summary>
    public bool Key { get; init; }

    /// <summary><c>query</c>: project the query with a query matrix.</summary>
    public bool Query { get; init; }

    /// <summary><c>value</c>: project the adapter outputs with a value matrix (no bias).</summary>
    public bool Value { get; init; }

    /// <summary><c>query_before_ln</c>: take the query before the pretrained LayerNorm of the last adapter's <c>pre_forward</c>.</summary>
    public bool QueryBeforeLn { get; init; }

    /// <summary><c>regularization</c>: stored for compatibility; Python never reads it (the trainer regularises any trainable value matrix).</summary>
    public bool Regularization { get; init; }

    /// <summary><c>residual_before</c>: add the adapter residual to the values (and, as Python's in-place add does, the keys) instead of to the output.</summary>
    public bool ResidualBefore { get; init; }

    /// <summary><c>temperature</c>: start the softmax temperature at 50 and lower it by 0.05 per forward pass down to 1.</summary>
    public bool Temperature { get; init; }

    /// <summary><c>value_before_softmax</c>: apply the value matrix to each adapter output (true) or to the mixed output (false).</summary>
    public bool ValueBeforeSoftmax { get; init; }

    /// <summary><c>value_initialized</c>: start the value matrix at the identity with 1e-6 elsewhere instead of N(0, 0.02).</summary>
    public bool ValueInitialized { get; init; }

    /// <summary><c>dropout_prob</c>: dropout on the attention scores; null uses the model's <c>attention_probs_dropout_prob</c>.</summary>
    public double? DropoutProb { get; init; }

    /// <summary>Keys read from JSON that are not fields; written back unchanged.</summary>
    public IReadOnlyDictionary<string, JsonNode?> ExtraFields { get; init; } = new Dictionary<string, JsonNode?>();

    /// <summary>The config as Python's <c>to_dict()</c> returns it.</summary>
    public JsonObject ToJson()
    {
        var result = new JsonObject
        {
            ["key"] = Key,
            ["query"] = Query,
            ["value"] = Value,
            ["query_before_ln"] = QueryBeforeLn,
            ["regularization"] = Regularization,
            ["residual_before"] = ResidualBefore,
            ["temperature"] = Temperature,
            ["value_before_softmax"] = ValueBeforeSoftmax,
            ["value_initialized"] = ValueInitialized,
            ["dropout_prob"] = DropoutProb is { } p ? JsonValue.Create(p) : null,
        };
        foreach (var (key, value) in ExtraFields)
            if (!result.ContainsKey(key)) result[key] = value?.DeepClone();
        return result;
    }

    /// <summary>The config as Python's <c>json.dump(indent=2, sort_keys=True)</c> writes it.</summary>
    public string ToJsonString() => PythonJson.Serialize(ToJson());

    /// <summary>Equal when the JSON forms are equal, extra fields included.</summary>
    public bool Equals(AdapterFusionConfig? other) => other is not null && ToJsonString() == other.ToJsonString();

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToJsonString());

    /// <summary>
    /// Builds a config from its dict as Python's <c>AdapterFusionConfig.from_dict</c> does: every field is required,
    /// values are read with Python truthiness (<c>value_initialized</c> is typed <c>str</c> in Python), unknown keys are kept.
    /// </summary>
    /// <exception cref="AdapterConfigException">A field is missing or <c>dropout_prob</c> is not a number.</exception>
    public static AdapterFusionConfig FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        bool Flag(string name) => json.TryGetPropertyValue(name, out var node)
            ? PythonJson.IsTruthy(node)
            : throw new AdapterConfigException($"AdapterFusion config has no \"{name}\"; expected the fields key, query, value, query_before_ln, regularization, residual_before, temperature, value_before_softmax, value_initialized, dropout_prob.");
        double? dropout = null;
        if (!json.TryGetPropertyValue("dropout_prob", out var dropoutNode))
            throw new AdapterConfigException("AdapterFusion config has no \"dropout_prob\"; expected a number or null.");
        if (dropoutNode is JsonValue d)
        {
            if (d.GetValueKind() != System.Text.Json.JsonValueKind.Number)
                throw new AdapterConfigException($"AdapterFusion config \"dropout_prob\" must be a number or null, got {dropoutNode.ToJsonString()}.");
            dropout = PythonJson.ToDouble(d);
        }
        var known = new HashSet<string>(StringComparer.Ordinal)
        {
            "key", "query", "value", "query_before_ln", "regularization", "residual_before", "temperature", "value_before_softmax", "value_initialized", "dropout_prob",
        };
        return new AdapterFusionConfig
        {
            Key = Flag("key"),
            Query = Flag("query"),
            Value = Flag("value"),
            QueryBeforeLn = Flag("query_before_ln"),
            Regularization = Flag("regularization"),
            ResidualBefore = Flag("residual_before"),
            Temperature = Flag("temperature"),
            ValueBeforeSoftmax = Flag("value_before_softmax"),
            ValueInitialized = Flag("value_initialized"),
            DropoutProb = dropout,
            ExtraFields = json.Where(p => !known.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value?.DeepClone(), StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// Resolves <c>"static"</c>, <c>"dynamic"</c>, or the path of a JSON file holding a fusion config (or a whole
    /// <c>adapter_fusion_config.json</c>, whose <c>"config"</c> is taken), as Python's <c>AdapterFusionConfig.load</c>.
    /// </summary>
    /// <exception cref="AdapterConfigException">The name is unknown and no such file exists.</exception>
    public static AdapterFusionConfig Load(string nameOrPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(nameOrPath);
        switch (nameOrPath)
        {
            case "static": return Static;
            case "dynamic": return Dynamic;
        }
        if (!File.Exists(nameOrPath))
            throw new AdapterConfigException($"Unknown AdapterFusion config \"{nameOrPath}\"; expected \"static\", \"dynamic\" or the path of a JSON file.");
        var json = ConfigJson.Parse(File.ReadAllText(nameOrPath, Encoding.UTF8), nameOrPath) as JsonObject
            ?? throw new AdapterConfigException($"{nameOrPath} must hold a JSON object.");
        return FromJson(json["config"] as JsonObject ?? json);
    }
}
