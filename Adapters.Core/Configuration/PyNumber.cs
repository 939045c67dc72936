using System.Globalization;
using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>
/// A number that remembers whether Python sees it as <c>int</c> or <c>float</c>. The distinction is visible in
/// <c>adapter_config.json</c> (<c>16</c> vs <c>16.0</c>) and changes the config hash, so it is kept.
/// </summary>
/// <param name="Value">The numeric value.</param>
/// <param name="IsFloat">True for a Python <c>float</c>, false for an <c>int</c>.</param>
public readonly record struct PyNumber(double Value, bool IsFloat)
{
    /// <summary>A Python int.</summary>
    public static implicit operator PyNumber(int value) => new(value, false);

    /// <summary>A Python float.</summary>
    public static implicit operator PyNumber(double value) => new(value, true);

    /// <summary>The JSON value Python would write.</summary>
    public JsonNode ToJson() => IsFloat ? JsonValue.Create(Value) : JsonValue.Create((long)Value);

    /// <summary>Reads a JSON number, keeping its int/float type.</summary>
    public static PyNumber FromJson(JsonNode? node, string field) =>
        node is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? new PyNumber(PythonJson.ToDouble(value), PythonJson.IsFloat(value))
            : throw ConfigValues.Invalid(field, node, "a number");

    /// <inheritdoc />
    public override string ToString() => IsFloat ? PythonJson.FormatFloat(Value) : ((long)Value).ToString(CultureInfo.InvariantCulture);
}
