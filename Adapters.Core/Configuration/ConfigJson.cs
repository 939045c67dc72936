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
    /// <summary>The deepest nesting <see cref="Parse"/> accepts (configs nest three or four levels).</summary>
    public const int MaxDepth = 64;

    /// <summary>
    /// Parses <paramref name="json"/>, read from <paramref name="sourceName"/>. Duplicate keys are refused here,
    /// while parsing (the node tree would otherwise fail later, on first access, with a message that names no file),
    /// and nesting is bounded at <see cref="MaxDepth"/>.
    /// </summary>
    /// <exception cref="AdapterConfigException">The text is not valid JSON, repeats a key, or nests too deeply; the message names <paramref name="sourceName"/>.</exception>
    public static JsonNode? Parse(string json, string sourceName)
    {
        try
        {
            return JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = MaxDepth });
        }
        catch (JsonException ex)
        {
            throw new AdapterConfigException($"{sourceName} is not valid JSON: {ex.Message.ReplaceLineEndings(" ")}", ex);
        }
    }
}
