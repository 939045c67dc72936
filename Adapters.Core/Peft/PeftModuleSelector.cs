using System.Text.Json.Nodes;
using Adapters.Core.Configuration;

namespace Adapters.Core.Peft;

/// <summary>
/// A PEFT module selector as it appears in <c>adapter_config.json</c> (<c>target_modules</c>, <c>exclude_modules</c>,
/// <c>feedforward_modules</c>): either a list of names or one regular expression.
/// </summary>
public sealed record PeftModuleSelector
{
    /// <summary>The names, when the selector is a list.</summary>
    public IReadOnlyList<string>? Names { get; init; }

    /// <summary>The regular expression, when the selector is a string (matched against the whole module path).</summary>
    public string? Pattern { get; init; }

    /// <summary>A list selector.</summary>
    public static PeftModuleSelector Of(params string[] names) => new() { Names = names };

    /// <summary>A regular-expression selector.</summary>
    public static PeftModuleSelector Regex(string pattern) => new() { Pattern = pattern };

    /// <summary>Reads a selector; null stays null.</summary>
    /// <exception cref="AdapterConfigException">The value is neither a string nor a list of strings.</exception>
    public static PeftModuleSelector? Read(JsonNode? node, string field, string source)
    {
        switch (node)
        {
            case null: return null;
            case JsonValue value when value.TryGetValue<string>(out var pattern): return Regex(pattern);
            case JsonArray array:
                var names = new List<string>();
                foreach (var item in array)
                {
                    if (item is JsonValue v && v.TryGetValue<string>(out var s)) names.Add(s);
                    else throw new AdapterConfigException($"{source}: \"{field}\" must list strings, found {ConfigValues.Describe(item)}.");
                }
                return new PeftModuleSelector { Names = names };
            default:
                throw new AdapterConfigException($"{source}: \"{field}\" must be a list of module names or a regex string, found {ConfigValues.Describe(node)}.");
        }
    }

    /// <summary>The JSON value PEFT writes for this selector.</summary>
    public JsonNode ToJson() => Pattern is { } p
        ? JsonValue.Create(p)
        : new JsonArray(Names!.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray());
}
