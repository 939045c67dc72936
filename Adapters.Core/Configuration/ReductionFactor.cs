using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>
/// A bottleneck's <c>reduction_factor</c>: one number for every layer, or a mapping from layer index (as a string)
/// to a number with a <c>"default"</c> entry, e.g. <c>{"1": 8, "default": 16}</c>.
/// </summary>
public sealed record ReductionFactor
{
    private ReductionFactor(PyNumber? uniform, IReadOnlyDictionary<string, PyNumber>? perLayer)
    {
        Uniform = uniform;
        PerLayer = perLayer;
    }

    /// <summary>The factor used by every layer, or null when <see cref="PerLayer"/> is set.</summary>
    public PyNumber? Uniform { get; }

    /// <summary>Per-layer factors keyed by layer index or <c>"default"</c>, or null for a uniform factor.</summary>
    public IReadOnlyDictionary<string, PyNumber>? PerLayer { get; }

    /// <summary>One factor for all layers.</summary>
    public static implicit operator ReductionFactor(int value) => new(value, null);

    /// <summary>One factor for all layers.</summary>
    public static implicit operator ReductionFactor(double value) => new(value, null);

    /// <summary>One factor for all layers.</summary>
    public static ReductionFactor Of(PyNumber value) => new(value, null);

    /// <summary>Per-layer factors; the mapping must contain <c>"default"</c> unless every layer is listed.</summary>
    public static ReductionFactor ForLayers(IReadOnlyDictionary<string, PyNumber> perLayer) =>
        new(null, new Dictionary<string, PyNumber>(perLayer, StringComparer.Ordinal));

    /// <summary>The factor of layer <paramref name="layer"/>.</summary>
    /// <exception cref="AdapterConfigException">The mapping has neither the layer nor a default.</exception>
    public double ForLayer(int layer)
    {
        if (Uniform is { } uniform) return uniform.Value;
        if (PerLayer!.TryGetValue(layer.ToString(System.Globalization.CultureInfo.InvariantCulture), out var specific)) return specific.Value;
        if (PerLayer.TryGetValue("default", out var fallback)) return fallback.Value;
        throw new AdapterConfigException($"reduction_factor has no entry for layer {layer} and no \"default\".");
    }

    /// <summary>The bottleneck width for a hidden size, Python's <c>int(hidden // rf)</c> clamped to at least 1.</summary>
    public int BottleneckSize(int hiddenSize, int layer) => Math.Max(1, (int)Math.Floor(hiddenSize / ForLayer(layer)));

    /// <summary>The JSON Python writes.</summary>
    public JsonNode ToJson()
    {
        if (Uniform is { } uniform) return uniform.ToJson();
        var obj = new JsonObject();
        foreach (var (key, value) in PerLayer!) obj[key] = value.ToJson();
        return obj;
    }

    /// <summary>Reads a number or a mapping.</summary>
    public static ReductionFactor FromJson(JsonNode? node, string field)
    {
        if (node is JsonObject obj)
            return ForLayers(obj.ToDictionary(p => p.Key, p => PyNumber.FromJson(p.Value, $"{field}.{p.Key}"), StringComparer.Ordinal));
        return Of(PyNumber.FromJson(node, field));
    }

    /// <inheritdoc />
    public bool Equals(ReductionFactor? other) =>
        other is not null && Uniform == other.Uniform
        && (PerLayer is null ? other.PerLayer is null
            : other.PerLayer is not null && PerLayer.Count == other.PerLayer.Count
              && PerLayer.All(p => other.PerLayer.TryGetValue(p.Key, out var v) && v == p.Value));

    /// <inheritdoc />
    public override int GetHashCode() => Uniform?.GetHashCode() ?? PerLayer!.Count;
}
