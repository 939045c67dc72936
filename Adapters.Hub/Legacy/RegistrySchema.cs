using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Legacy;

/// <summary>
/// One of the registry's JSON Schemas (draft-07, <c>scripts/schemas/*.schema.json</c>), checked with the keywords
/// those schemas use: <c>type</c>, <c>required</c>, <c>properties</c>, <c>additionalProperties</c>, <c>items</c>,
/// <c>anyOf</c>, <c>enum</c>, <c>minLength</c>/<c>maxLength</c>, <c>minItems</c> and <c>minProperties</c>.
/// Annotations (<c>format</c>, <c>description</c>, <c>examples</c>) are not assertions in draft-07 and are ignored.
/// </summary>
internal sealed class RegistrySchema
{
    private RegistrySchema(JsonObject root, string name)
    {
        Root = root;
        Name = name;
    }

    /// <summary>The schema document.</summary>
    public JsonObject Root { get; }

    /// <summary>The schema's file name, for messages.</summary>
    public string Name { get; }

    /// <summary>Parses a schema document.</summary>
    public static RegistrySchema Parse(string json, string name)
    {
        try
        {
            return new RegistrySchema(JsonNode.Parse(json) as JsonObject
                ?? throw new LegacyRegistryException(name, null, "a JSON Schema must be an object"), name);
        }
        catch (JsonException ex)
        {
            throw new LegacyRegistryException(name, null, $"invalid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Throws a <see cref="LegacyRegistryException"/> naming <paramref name="file"/> and the first field that fails.</summary>
    public void Validate(JsonNode? document, string file)
    {
        var error = Check(document, Root, "");
        if (error is not null)
        {
            throw new LegacyRegistryException(file, error.Value.Path.Length == 0 ? null : error.Value.Path, error.Value.Message + $" (schema {Name})");
        }
    }

    private static (string Path, string Message)? Check(JsonNode? node, JsonObject schema, string path)
    {
        if (schema["type"] is { } typeNode && !MatchesType(node, typeNode))
        {
            return (path, $"expected {Describe(typeNode)}, found {KindOf(node)}");
        }
        if (schema["enum"] is JsonArray choices && !choices.Any(choice => JsonNode.DeepEquals(choice, node)))
        {
            return (path, $"expected one of {string.Join(", ", choices.Select(c => c?.ToJsonString()))}, found {node?.ToJsonString() ?? "null"}");
        }
        if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
        {
            var length = value.GetValue<string>().EnumerateRunes().Count();
            if (schema["minLength"] is JsonValue min && length < min.GetValue<int>()) return (path, $"expected at least {min} characters, found {length}");
            if (schema["maxLength"] is JsonValue max && length > max.GetValue<int>()) return (path, $"expected at most {max} characters, found {length}");
        }
        if (node is JsonObject obj)
        {
            if (schema["required"] is JsonArray required)
            {
                foreach (var name in required.Select(r => r!.GetValue<string>()))
                {
                    if (!obj.ContainsKey(name)) return (Join(path, name), "required field is missing");
                }
            }
            if (schema["minProperties"] is JsonValue minProps && obj.Count < minProps.GetValue<int>())
            {
                return (path, $"expected at least {minProps} properties, found {obj.Count}");
            }
            var properties = schema["properties"] as JsonObject;
            foreach (var (key, child) in obj)
            {
                var childPath = Join(path, key);
                if (properties?[key] is JsonObject childSchema)
                {
                    if (Check(child, childSchema, childPath) is { } error) return error;
                }
                else if (schema["additionalProperties"] is JsonValue additional && additional.GetValueKind() == JsonValueKind.False)
                {
                    return (childPath, "unknown field (the schema allows no additional properties)");
                }
                else if (schema["additionalProperties"] is JsonObject additionalSchema)
                {
                    if (Check(child, additionalSchema, childPath) is { } error) return error;
                }
            }
        }
        if (node is JsonArray array)
        {
            if (schema["minItems"] is JsonValue minItems && array.Count < minItems.GetValue<int>())
            {
                return (path, $"expected at least {minItems} items, found {array.Count}");
            }
            if (schema["items"] is JsonObject itemSchema)
            {
                for (var i = 0; i < array.Count; i++)
                {
                    if (Check(array[i], itemSchema, $"{path}[{i}]") is { } error) return error;
                }
            }
        }
        if (schema["anyOf"] is JsonArray anyOf)
        {
            (string, string)? first = null;
            foreach (var option in anyOf.OfType<JsonObject>())
            {
                var error = Check(node, option, path);
                if (error is null) { first = null; goto matched; }
                first ??= error;
            }
            if (first is { } failure) return (failure.Item1, failure.Item2 + " (no alternative of anyOf matches)");
        matched:;
        }
        return null;
    }

    private static bool MatchesType(JsonNode? node, JsonNode typeNode) => typeNode switch
    {
        JsonArray types => types.Any(t => t is not null && MatchesType(node, t)),
        JsonValue single => MatchesSingleType(node, single.GetValue<string>()),
        _ => true,
    };

    private static bool MatchesSingleType(JsonNode? node, string type)
    {
        var kind = node?.GetValueKind() ?? JsonValueKind.Null;
        return type switch
        {
            "object" => kind == JsonValueKind.Object,
            "array" => kind == JsonValueKind.Array,
            "string" => kind == JsonValueKind.String,
            "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
            "null" => kind == JsonValueKind.Null,
            "number" => kind == JsonValueKind.Number,
            // Draft-06 and later count any number with a zero fraction as an integer, so 2.0 passes.
            "integer" => kind == JsonValueKind.Number && IsWhole(node!.AsValue()),
            _ => true,
        };
    }

    private static bool IsWhole(JsonValue value)
    {
        var number = value.TryGetValue<JsonElement>(out var element) ? element.GetDouble() : double.Parse(value.ToJsonString(), CultureInfo.InvariantCulture);
        return Math.Floor(number) == number && !double.IsInfinity(number);
    }

    private static string Describe(JsonNode typeNode) => typeNode is JsonArray types
        ? string.Join(" or ", types.Select(t => t?.GetValue<string>()))
        : typeNode.GetValue<string>();

    private static string KindOf(JsonNode? node)
    {
        if (node is null) return "null";
        return node.GetValueKind() switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => $"the string \"{node.GetValue<string>()}\"",
            JsonValueKind.True or JsonValueKind.False => $"the boolean {node.ToJsonString()}",
            JsonValueKind.Number => $"the number {node.ToJsonString()}",
            _ => node.ToJsonString(),
        };
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;
}
