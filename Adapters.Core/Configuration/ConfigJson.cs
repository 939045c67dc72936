using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Core.Configuration;

/// <summary>
/// Reads the JSON files of adapters and models (<c>adapter_config.json</c>, <c>config.json</c>, head and fusion
/// configs) into mutable node trees that keep the int/float distinction of every number literal, so that
/// <see cref="PythonJson"/> writes them back as Python would.
/// </summary>
public static class ConfigJson
{
    /// <summary>Parses <paramref name="json"/>, read from <paramref name="sourceName"/>.</summary>
    /// <exception cref="AdapterConfigException">The text is not valid JSON; the message names <paramref name="sourceName"/>.</exception>
    public static JsonNode? Parse(string json, string sourceName)
    {
        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new AdapterConfigException($"{sourceName} is not valid JSON: {ex.Message}", ex);
        }
    }
}
