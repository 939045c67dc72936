using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>Typed reads and writes of config field values, with errors that name the field.</summary>
internal static class ConfigValues
{
    public static bool ReadBool(JsonNode? node, string field) =>
        node is JsonValue value && value.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? value.GetValue<bool>()
            : throw Invalid(field, node, "true or false");

    public static int ReadInt(JsonNode? node, string field)
    {
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && !PythonJson.IsFloat(value))
            return checked((int)Convert.ToInt64(value.TryGetValue<JsonElement>(out var e) ? e.GetInt64() : value.GetValue<object>(), CultureInfo.InvariantCulture));
        throw Invalid(field, node, "an integer");
    }

    public static int? ReadOptionalInt(JsonNode? node, string field) => node is null ? null : ReadInt(node, field);

    public static double ReadFloat(JsonNode? node, string field) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number
            ? PythonJson.ToDouble(value)
            : throw Invalid(field, node, "a number");

    public static double? ReadOptionalFloat(JsonNode? node, string field) => node is null ? null : ReadFloat(node, field);

    public static string ReadString(JsonNode? node, string field) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : throw Invalid(field, node, "a string");

    public static string? ReadOptionalString(JsonNode? node, string field) => node is null ? null : ReadString(node, field);

    public static IReadOnlyList<int> ReadIntList(JsonNode? node, string field) =>
        node is JsonArray array ? array.Select(item => ReadInt(item, field)).ToArray() : throw Invalid(field, node, "a list of integers");

    public static IReadOnlyList<string> ReadStringList(JsonNode? node, string field) =>
        node is JsonArray array ? array.Select(item => ReadString(item, field)).ToArray() : throw Invalid(field, node, "a list of strings");

    public static JsonNode Bool(bool value) => JsonValue.Create(value);

    public static JsonNode Int(long value) => JsonValue.Create(value);

    public static JsonNode Float(double value) => JsonValue.Create(value);

    public static JsonNode? OptionalInt(int? value) => value is { } v ? JsonValue.Create((long)v) : null;

    public static JsonNode? OptionalFloat(double? value) => value is { } v ? JsonValue.Create(v) : null;

    public static JsonNode? String(string? value) => value is null ? null : JsonValue.Create(value);

    public static JsonNode IntList(IEnumerable<int> values) => new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create((long)v)).ToArray());

    public static JsonNode StringList(IEnumerable<string> values) => new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    public static AdapterConfigException Invalid(string field, JsonNode? node, string expected) =>
        new($"Config field '{field}' must be {expected}, but is {Describe(node)}.");

    public static string Describe(JsonNode? node) => node is null ? "null" : node.ToJsonString();
}
