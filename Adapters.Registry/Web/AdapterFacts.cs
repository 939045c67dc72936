using System.Text;
using System.Text.Json;
using Adapters.Hub.Cards;
using Adapters.Registry.Storage;

namespace Adapters.Registry.Web;

/// <summary>
/// What the page shows and filters on for one commit of a repository: the library, the adapter architecture,
/// the base model, the base model's type, tasks and languages, gathered from the model card's front matter
/// (<c>library_name</c>, <c>base_model</c>, <c>pipeline_tag</c>, <c>language</c>, <c>adapterhub:task/subtask</c>
/// tags written by the legacy migration) and from <c>adapter_config.json</c> (<c>adapters</c>' saved config or PEFT's).
/// </summary>
internal sealed record AdapterFacts
{
    /// <summary>Cards and configs larger than this are not parsed for facts (the Hub's own limit for cards is similar).</summary>
    public const int MaxTextFileBytes = 1 << 20;

    /// <summary>The name of the model card file.</summary>
    public const string CardFile = "README.md";

    /// <summary>The name of the adapter config both libraries write.</summary>
    public const string ConfigFile = "adapter_config.json";

    public AdapterLibrary Library { get; init; }

    /// <summary>The adapter method: <c>adapters</c>' <c>config.architecture</c> (<c>bottleneck</c> when absent) or PEFT's <c>peft_type</c>, lower case.</summary>
    public string? Architecture { get; init; }

    public string? BaseModel { get; init; }

    /// <summary>The base model's type (<c>bert</c>, <c>llama</c>, …) where the config or card names it.</summary>
    public string? ModelType { get; init; }

    public IReadOnlyList<string> Tasks { get; init; } = [];

    public IReadOnlyList<string> Languages { get; init; } = [];

    /// <summary>The card's tags, for free-text search.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The card's text after the front matter; null when the commit has no readable card.</summary>
    public string? CardBody { get; init; }

    /// <summary>Why the card could not be read (too large, stored in LFS, bad front matter); null when it was read or is absent.</summary>
    public string? CardProblem { get; init; }

    /// <summary><c>adapter_config.json</c> as text (indented), null when absent or unreadable.</summary>
    public string? ConfigText { get; init; }

    /// <summary>Why <c>adapter_config.json</c> could not be read; null when it was read or is absent.</summary>
    public string? ConfigProblem { get; init; }

    /// <summary>Reads the facts of <paramref name="commit"/> from its card and config blobs.</summary>
    public static AdapterFacts Read(BlobStore blobs, CommitRecord commit)
    {
        var (cardText, cardProblem) = ReadText(blobs, commit, CardFile);
        ModelCard? card = null;
        if (cardText is not null)
        {
            try
            {
                card = ModelCard.Parse(cardText, CardFile);
            }
            catch (ModelCardException error)
            {
                cardProblem = error.Message;
            }
        }
        var (configText, configProblem) = ReadText(blobs, commit, ConfigFile);
        JsonDocument? config = null;
        if (configText is not null)
        {
            try
            {
                config = JsonDocument.Parse(configText, new JsonDocumentOptions { MaxDepth = 64 });
                if (config.RootElement.ValueKind != JsonValueKind.Object)
                {
                    configProblem = $"{ConfigFile}: expected a JSON object, found {config.RootElement.ValueKind}.";
                    config.Dispose();
                    config = null;
                }
            }
            catch (JsonException error)
            {
                configProblem = $"{ConfigFile} is not valid JSON: {error.Message}";
            }
        }
        using (config)
        {
            return Combine(card, cardProblem, config?.RootElement, configProblem);
        }
    }

    private static AdapterFacts Combine(ModelCard? card, string? cardProblem, JsonElement? config, string? configProblem)
    {
        var metadata = card?.Metadata;
        var tags = metadata?.Tags ?? [];
        var library = AdapterLibrary.Other;
        string? architecture = null, baseModel = null, modelType = null;
        var tasks = new List<string>();
        if (config is { } root)
        {
            if (Text(root, "peft_type") is { } peftType)
            {
                library = AdapterLibrary.Peft;
                architecture = peftType.ToLowerInvariant();
                baseModel = Text(root, "base_model_name_or_path");
                if (Text(root, "task_type") is { } taskType) tasks.Add(taskType.ToLowerInvariant().Replace('_', '-'));
            }
            else if (root.TryGetProperty("config", out var method) && method.ValueKind == JsonValueKind.Object)
            {
                library = AdapterLibrary.Adapters;
                // adapters' bottleneck configs (and every legacy one) carry no architecture field.
                architecture = Text(method, "architecture") ?? "bottleneck";
                baseModel = Text(root, "model_name");
                modelType = Text(root, "model_type");
            }
        }
        if (metadata is not null)
        {
            var libraryName = metadata.GetString("library_name");
            if (library == AdapterLibrary.Other)
            {
                if (libraryName is "peft" || tags.Contains("peft", StringComparer.OrdinalIgnoreCase)) library = AdapterLibrary.Peft;
                else if (libraryName is "adapters" or "adapter-transformers"
                    || tags.Any(t => t is "adapters" or "adapter-transformers")) library = AdapterLibrary.Adapters;
            }
            baseModel ??= metadata.GetList("base_model").FirstOrDefault();
            if (metadata.GetString("pipeline_tag") is { } pipeline) tasks.Insert(0, pipeline);
        }
        var languages = metadata?.GetList("language").Where(l => l.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? [];
        foreach (var tag in tags)
        {
            // The legacy migration tags cards adapterhub:<task>/<subtask>; a language adapter's task is its language.
            if (!tag.StartsWith("adapterhub:", StringComparison.Ordinal)) continue;
            var task = tag["adapterhub:".Length..].Split('/')[0];
            if (task.Length > 0 && !languages.Contains(task, StringComparer.OrdinalIgnoreCase)) tasks.Add(task);
        }
        // The legacy cards tag the base model's type (bert, roberta, …) next to the library tag.
        modelType ??= tags.FirstOrDefault(t => s_knownModelTypes.Contains(t));
        return new AdapterFacts
        {
            Library = library,
            Architecture = architecture,
            BaseModel = baseModel,
            ModelType = modelType,
            Tasks = tasks.Distinct(StringComparer.OrdinalIgnoreCase).ToList(),
            Languages = languages,
            Tags = tags,
            CardBody = card?.Body,
            CardProblem = cardProblem,
            ConfigText = config is { } c ? JsonSerializer.Serialize(c, s_indented) : null,
            ConfigProblem = configProblem,
        };
    }

    /// <summary>Model types the legacy registry's cards use as tags (its <c>architectures</c> of base models).</summary>
    private static readonly HashSet<string> s_knownModelTypes = new(StringComparer.Ordinal)
    {
        "bert", "roberta", "xlm-roberta", "distilbert", "bart", "mbart", "gpt2", "llama", "mistral", "qwen2", "t5", "mt5", "deberta", "deberta-v2", "electra", "vit", "clip", "beit", "plbart", "whisper", "albert",
    };

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;

    private static (string? Text, string? Problem) ReadText(BlobStore blobs, CommitRecord commit, string path)
    {
        if (!commit.Files.TryGetValue(path, out var file)) return (null, null);
        if (file.Lfs) return (null, $"{path} is stored in LFS; the page reads only regular files.");
        if (file.Size > MaxTextFileBytes) return (null, $"{path} is {file.Size} bytes; the page reads at most {MaxTextFileBytes}.");
        try
        {
            return (File.ReadAllText(blobs.GitPath(file.Oid), Encoding.UTF8), null);
        }
        catch (Exception error) when (error is IOException or RegistryException)
        {
            // A blob the store cannot produce right now (object storage unreachable): shown, never cached.
            throw new TransientReadException($"{path} could not be read: {error.Message}", error);
        }
    }

    /// <summary>A blob could not be read for a reason that may pass; the caller shows it and does not cache the facts.</summary>
    internal sealed class TransientReadException(string message, Exception inner) : Exception(message, inner);
}
