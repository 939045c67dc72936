using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>
/// A bottleneck's <c>scaling</c>: a fixed float, <c>"learned"</c> (one trainable scalar starting at 1) or
/// <c>"channel"</c> (a trainable vector of hidden size starting at ones). Python rejects an int, so a fixed value
/// is always written as a float (<c>1.0</c>, never <c>1</c>).
/// </summary>
public sealed record BottleneckScaling
{
    private BottleneckScaling(double value, string? mode)
    {
        Value = value;
        Mode = mode;
    }

    /// <summary>The fixed factor; 1.0 for the learned modes (their starting value).</summary>
    public double Value { get; }

    /// <summary>Null for a fixed factor, else <c>"learned"</c> or <c>"channel"</c>.</summary>
    public string? Mode { get; }

    /// <summary>A fixed scaling factor.</summary>
    public static implicit operator BottleneckScaling(double value) => new(value, null);

    /// <summary>One trainable scalar.</summary>
    public static BottleneckScaling Learned { get; } = new(1.0, "learned");

    /// <summary>One trainable factor per hidden channel.</summary>
    public static BottleneckScaling Channel { get; } = new(1.0, "channel");

    /// <summary>The JSON Python writes.</summary>
    public JsonNode ToJson() => Mode is null ? JsonValue.Create(Value) : JsonValue.Create(Mode);

    /// <summary>Reads a float, <c>"learned"</c> or <c>"channel"</c>; an int is refused as Python refuses it.</summary>
    public static BottleneckScaling FromJson(JsonNode? node, string field)
    {
        if (node is JsonValue value)
        {
            if (value.GetValueKind() == JsonValueKind.String)
            {
                return value.GetValue<string>() switch
                {
                    "learned" => Learned,
                    "channel" => Channel,
                    var other => throw ConfigValues.Invalid(field, node, $"a float, \"learned\" or \"channel\" (not \"{other}\")"),
                };
            }
            if (value.GetValueKind() == JsonValueKind.Number && PythonJson.IsFloat(value)) return PythonJson.ToDouble(value);
        }
        throw ConfigValues.Invalid(field, node, "a float (e.g. 1.0, not 1), \"learned\" or \"channel\"");
    }

    /// <inheritdoc />
    public override string ToString() => Mode ?? PythonJson.FormatFloat(Value);
}
