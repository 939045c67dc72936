using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using Adapters.Hub.Yaml;
using YamlDotNet.RepresentationModel;

namespace Adapters.Hub.Legacy;

/// <summary>
/// Turns YAML into JSON nodes the way PyYAML's <c>safe_load</c> (YAML 1.1) types plain scalars, so that
/// <c>2.0</c> stays a float and <c>2</c> an int. Where the registry schema declares a string, a plain scalar keeps
/// its text instead: that is what keeps the Norwegian task <c>no</c> and versions such as <c>1</c> strings even
/// when a card forgets the quotes, which YAML 1.1 would otherwise turn into <c>false</c> and <c>1</c>.
/// </summary>
internal static partial class YamlScalarResolver
{
    /// <summary>Parses one YAML document and converts it under <paramref name="schema"/> (may be null).</summary>
    public static JsonNode? Load(string text, string file, JsonObject? schema)
    {
        YamlStream stream;
        try
        {
            stream = BoundedYaml.Load(text, YamlLimits.Default);
        }
        catch (YamlException ex)
        {
            throw new LegacyRegistryException(file, null, $"invalid YAML at line {ex.Start.Line}, column {ex.Start.Column}: {ex.Message}", ex);
        }
        catch (ArgumentException ex)
        {
            throw new LegacyRegistryException(file, null, $"invalid YAML (duplicate key?): {ex.Message}", ex);
        }
        if (stream.Documents.Count != 1)
        {
            throw new LegacyRegistryException(file, null, $"expected exactly one YAML document, found {stream.Documents.Count}");
        }
        return Convert(stream.Documents[0].RootNode, schema, file, "");
    }

    private static JsonNode? Convert(YamlNode node, JsonObject? schema, string file, string path)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                var properties = schema?["properties"] as JsonObject;
                foreach (var (keyNode, valueNode) in mapping.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key })
                    {
                        throw new LegacyRegistryException(file, path.Length == 0 ? null : path, $"mapping keys must be plain strings (line {keyNode.Start.Line})");
                    }
                    if (obj.ContainsKey(key))
                    {
                        throw new LegacyRegistryException(file, Join(path, key), $"duplicate key (line {keyNode.Start.Line})");
                    }
                    var childSchema = properties?[key] as JsonObject
                        ?? (schema?["additionalProperties"] as JsonObject);
                    obj[key] = Convert(valueNode, childSchema, file, Join(path, key));
                }
                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                var itemSchema = schema?["items"] as JsonObject;
                var index = 0;
                foreach (var child in sequence.Children)
                {
                    array.Add(Convert(child, itemSchema, file, $"{path}[{index++}]"));
                }
                return array;
            case YamlScalarNode scalar:
                return ConvertScalar(scalar, DeclaresString(schema), file, path);
            default:
                throw new LegacyRegistryException(file, path.Length == 0 ? null : path, $"unsupported YAML node (aliases are not allowed) at line {node.Start.Line}");
        }
    }

    private static bool DeclaresString(JsonObject? schema) =>
        schema?["type"] is JsonValue type && type.TryGetValue<string>(out var name) && name == "string";

    private static JsonNode? ConvertScalar(YamlScalarNode scalar, bool schemaWantsString, string file, string path)
    {
        var text = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is not null && tag != "!")
        {
            return tag switch
            {
                "tag:yaml.org,2002:str" => JsonValue.Create(text),
                "tag:yaml.org,2002:int" => ParseInt(text) ?? throw Bad(file, path, $"'{text}' is not an int"),
                "tag:yaml.org,2002:float" => ParseFloat(text) ?? throw Bad(file, path, $"'{text}' is not a float"),
                "tag:yaml.org,2002:bool" => ParseBool(text) ?? throw Bad(file, path, $"'{text}' is not a bool"),
                "tag:yaml.org,2002:null" => null,
                _ => throw Bad(file, path, $"unsupported YAML tag {tag}"),
            };
        }
        if (scalar.Style != ScalarStyle.Plain || tag == "!") return JsonValue.Create(text);

        if (NullPattern().IsMatch(text)) return null;
        if (schemaWantsString) return JsonValue.Create(text);
        if (BoolPattern().IsMatch(text)) return ParseBool(text);
        if (IntPattern().IsMatch(text)) return ParseInt(text);
        if (FloatPattern().IsMatch(text)) return ParseFloat(text);
        return JsonValue.Create(text);
    }

    private static LegacyRegistryException Bad(string file, string path, string message) =>
        new(file, path.Length == 0 ? null : path, message);

    private static string Join(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private static JsonValue? ParseBool(string text) => text.ToLowerInvariant() switch
    {
        "yes" or "true" or "on" => JsonValue.Create(true),
        "no" or "false" or "off" => JsonValue.Create(false),
        _ => null,
    };

    private static JsonValue? ParseInt(string text)
    {
        var value = text.Replace("_", "", StringComparison.Ordinal);
        var sign = 1L;
        if (value.StartsWith('-')) { sign = -1; value = value[1..]; }
        else if (value.StartsWith('+')) value = value[1..];
        long result;
        if (value == "0") result = 0;
        else if (value.StartsWith("0b", StringComparison.Ordinal)) result = System.Convert.ToInt64(value[2..], 2);
        else if (value.StartsWith("0x", StringComparison.Ordinal)) result = long.Parse(value[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        else if (value.StartsWith('0')) result = System.Convert.ToInt64(value[1..], 8);
        else if (value.Contains(':', StringComparison.Ordinal)) result = Sexagesimal(value);
        else if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result)) return null;
        return JsonValue.Create(sign * result);
    }

    private static JsonValue? ParseFloat(string text)
    {
        var value = text.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        var sign = 1.0;
        if (value.StartsWith('-')) { sign = -1; value = value[1..]; }
        else if (value.StartsWith('+')) value = value[1..];
        double result;
        if (value == ".inf") result = double.PositiveInfinity;
        else if (value == ".nan") result = double.NaN;
        else if (value.Contains(':', StringComparison.Ordinal))
        {
            var parts = value.Split(':');
            result = 0;
            foreach (var part in parts) result = result * 60 + double.Parse(part, CultureInfo.InvariantCulture);
        }
        else if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out result)) return null;
        return JsonValue.Create(sign * result);
    }

    private static long Sexagesimal(string value)
    {
        long result = 0;
        foreach (var part in value.Split(':')) result = result * 60 + long.Parse(part, CultureInfo.InvariantCulture);
        return result;
    }

    [GeneratedRegex(@"^(?:~|null|Null|NULL|)$")]
    private static partial Regex NullPattern();

    [GeneratedRegex(@"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")]
    private static partial Regex BoolPattern();

    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex FloatPattern();
}
