using Adapters.Hub.Json;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Legacy;

/// <summary>An adapter card (<c>adapters/&lt;org&gt;/&lt;file&gt;.yaml</c>), validated against <c>adapter.schema.json</c>.</summary>
public sealed class LegacyAdapterCard
{
    /// <summary>Registry-relative path, e.g. <c>adapters/ukp/bert-base-uncased_sentiment_sst-2_pfeiffer.yaml</c>.</summary>
    public required string Path { get; init; }

    /// <summary>The org folder (<c>ukp</c>).</summary>
    public required string Org { get; init; }

    /// <summary>The file name up to its first dot; the Hugging Face repo name and the <c>@org/stem</c> id.</summary>
    public required string Stem { get; init; }

    /// <summary><c>text_task</c> or <c>text_lang</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The task (for <c>text_lang</c>, a language code such as <c>no</c>).</summary>
    public required string Task { get; init; }

    /// <summary>The subtask (dataset).</summary>
    public required string Subtask { get; init; }

    /// <summary>Hugging Face <c>config.model_type</c>.</summary>
    public required string ModelType { get; init; }

    /// <summary>The base model id.</summary>
    public required string ModelName { get; init; }

    /// <summary>The model class the adapter was saved from, or null.</summary>
    public string? ModelClass { get; init; }

    /// <summary>The author(s).</summary>
    public required string Author { get; init; }

    /// <summary>The card's <c>config</c> mapping: <c>using</c> plus overrides, numbers typed as YAML 1.1 types them.</summary>
    public required JsonObject Config { get; init; }

    /// <summary>The architecture named by <c>config.using</c>.</summary>
    public string Architecture => Config["using"]!.GetValue<string>();

    /// <summary>The version downloaded when none is asked for.</summary>
    public required string DefaultVersion { get; init; }

    /// <summary>The versions in card order.</summary>
    public required IReadOnlyList<LegacyAdapterFile> Files { get; init; }

    /// <summary>Free-text description, or null.</summary>
    public string? Description { get; init; }

    /// <summary>BibTeX citation, or null.</summary>
    public string? Citation { get; init; }

    /// <summary>Contact email, or null.</summary>
    public string? Email { get; init; }

    /// <summary>Author URL, or null.</summary>
    public string? Url { get; init; }

    /// <summary>GitHub handle or URL, or null.</summary>
    public string? GitHub { get; init; }

    /// <summary>Twitter handle or URL, or null.</summary>
    public string? Twitter { get; init; }

    /// <summary>Whether the zip holds a prediction head, or null when the card does not say.</summary>
    public bool? PredictionHead { get; init; }

    /// <summary>The model's hidden size, or null.</summary>
    public long? HiddenSize { get; init; }

    /// <summary>Keys of adapters this one is stacked on (e.g. <c>en/wiki@ukp</c>).</summary>
    public required IReadOnlyList<string> Dependencies { get; init; }

    /// <summary>The <c>@org/stem</c> identifier that points straight at this entry.</summary>
    public string LegacyId => $"@{Org}/{Stem}";

    /// <summary>The index entry path, <c>adapters/&lt;org&gt;/&lt;stem&gt;.json</c>.</summary>
    public string EntryPath => $"adapters/{Org}/{Stem}.json";

    /// <summary>The version of <see cref="DefaultVersion"/>.</summary>
    public LegacyAdapterFile DefaultFile => Files.First(f => f.Version == DefaultVersion);

    internal static LegacyAdapterCard FromValidated(JsonObject json, string path)
    {
        string? Text(string key) => json[key]?.GetValue<string>();
        var segments = path.Split('/');
        var fileName = segments[^1];
        var card = new LegacyAdapterCard
        {
            Path = path,
            Org = segments.Length >= 3 ? segments[^2] : throw new LegacyRegistryException(path, null, "adapter cards live at adapters/<org>/<file>.yaml"),
            Stem = fileName.Split('.')[0],
            Type = Text("type")!,
            Task = Text("task")!,
            Subtask = Text("subtask")!,
            ModelType = Text("model_type")!,
            ModelName = Text("model_name")!,
            ModelClass = Text("model_class"),
            Author = Text("author")!,
            Config = (JsonObject)json["config"]!.DeepClone(),
            DefaultVersion = Text("default_version")!,
            Files = json["files"]!.AsArray().Select(item => new LegacyAdapterFile
            {
                Version = item!["version"]!.GetValue<string>(),
                Url = item["url"]!.GetValue<string>(),
                Sha1 = item["sha1"]?.GetValue<string>(),
                Sha256 = item["sha256"]?.GetValue<string>(),
                Description = item["description"]?.GetValue<string>(),
            }).ToList(),
            Description = Text("description"),
            Citation = Text("citation"),
            Email = Text("email"),
            Url = Text("url"),
            GitHub = Text("github"),
            Twitter = Text("twitter"),
            PredictionHead = json["prediction_head"]?.GetValue<bool>(),
            HiddenSize = json["hidden_size"] is JsonValue hidden ? (long)PythonJson.ToDouble(hidden) : null,
            Dependencies = json["dependencies"]?.AsArray().Select(d => d!["key"]!.GetValue<string>()).ToList() ?? [],
        };
        if (card.Files.All(f => f.Version != card.DefaultVersion))
        {
            throw new LegacyRegistryException(path, "default_version",
                $"'{card.DefaultVersion}' is not one of the file versions ({string.Join(", ", card.Files.Select(f => f.Version))})");
        }
        var duplicate = card.Files.GroupBy(f => f.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new LegacyRegistryException(path, "files", $"version '{duplicate.Key}' is listed more than once");
        }
        return card;
    }
}
