using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Adapters.Core.Configuration;

/// <summary>
/// Turns a config string into a config as Python's <c>resolve_adapter_config</c> does: an exact alias, else an
/// existing JSON file (its nested <c>"config"</c> if present), else <c>name[k=v, ...]|name2[...]</c> chunks, where the
/// bracket contents are Python literals and several chunks form a <see cref="ConfigUnion"/>.
/// </summary>
internal static partial class AdapterConfigResolver
{
    [GeneratedRegex(@"^(?<name>[^\[\]\|\n]+)(?:\[(?<kvs>.*)\])?$", RegexOptions.Singleline)]
    private static partial Regex ChunkPattern();

    [GeneratedRegex(@"(\w+)=")]
    private static partial Regex KeyPattern();

    public static AdapterConfig Resolve(string configString)
    {
        ArgumentNullException.ThrowIfNull(configString);
        if (AdapterConfigMap.Contains(configString)) return AdapterConfigMap.Get(configString);
        if (File.Exists(configString))
        {
            var json = ConfigJson.Parse(File.ReadAllText(configString), configString) as JsonObject
                ?? throw new AdapterConfigException($"{configString} must hold a JSON object.");
            var config = json["config"] as JsonObject ?? json;
            return AdapterConfig.FromJson(config);
        }

        var chunks = configString.Split('|');
        var configs = new List<AdapterConfig>(chunks.Length);
        foreach (var rawChunk in chunks)
        {
            var chunk = rawChunk.Trim();
            var match = ChunkPattern().Match(chunk);
            if (!match.Success || chunk.Length == 0)
                throw new AdapterConfigException($"Invalid adapter config string chunk \"{chunk}\" in \"{configString}\"; expected name or name[key=value, ...].");
            var name = match.Groups["name"].Value.Trim();
            var config = AdapterConfigMap.Get(name);
            if (match.Groups["kvs"].Success)
            {
                // Python rewrites `key=` to `'key':` and literal-evaluates the result as a dict.
                var dictText = "{" + KeyPattern().Replace(match.Groups["kvs"].Value, "'$1':") + "}";
                var changes = PythonLiteralParser.Parse(dictText, $"config string \"{chunk}\"") as JsonObject
                    ?? throw new AdapterConfigException($"Config string \"{chunk}\" does not hold key=value pairs.");
                config = config.Replace(changes);
            }
            configs.Add(config);
        }
        return configs.Count == 1 ? configs[0] : new ConfigUnion(configs.ToArray());
    }
}
