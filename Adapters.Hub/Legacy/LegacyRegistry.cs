using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Adapters.Hub.Legacy;

/// <summary>
/// The archived AdapterHub registry (<c>adapter-hub/Hub</c>): adapter cards validated against the registry's own
/// JSON Schemas, and the generated <c>dist/v2</c> index the Python library resolved ids with. Files are read lazily
/// from an <see cref="ILegacyRegistrySource"/> and parsed once.
/// </summary>
public sealed class LegacyRegistry
{
    /// <summary>Folder of the generated files the library reads.</summary>
    public const string DistFolder = "dist/v2";

    private readonly ConcurrentDictionary<string, Lazy<Task<object>>> _parsed = new(StringComparer.Ordinal);

    /// <summary>Reads the registry through <paramref name="source"/>.</summary>
    public LegacyRegistry(ILegacyRegistrySource source)
    {
        Source = source ?? throw new ArgumentNullException(nameof(source));
    }

    /// <summary>Where the files come from.</summary>
    public ILegacyRegistrySource Source { get; }

    /// <summary>Opens a registry snapshot folder.</summary>
    public static LegacyRegistry OpenFolder(string root) => new(new LocalLegacyRegistrySource(root));

    /// <summary>Opens the registry on GitHub (cached on disk).</summary>
    public static LegacyRegistry FromGitHub(GitHubRegistryOptions? options = null) => new(new GitHubLegacyRegistrySource(options));

    /// <summary>The named architectures from <c>dist/v2/architectures.json</c>.</summary>
    public Task<LegacyArchitectures> GetArchitecturesAsync(CancellationToken cancellationToken = default) =>
        GetParsedAsync($"{DistFolder}/architectures.json", async ct =>
        {
            var path = $"{DistFolder}/architectures.json";
            var root = ParseObject(await ReadRequiredAsync(path, ct).ConfigureAwait(false), path);
            var configs = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            foreach (var (name, config) in root)
            {
                configs[name] = config as JsonObject ?? throw new LegacyRegistryException(path, name, "expected a config object");
            }
            return new LegacyArchitectures(configs);
        }, cancellationToken);

    /// <summary>
    /// The named architectures from their cards (<c>architectures/*.yaml</c>, validated against
    /// <c>architecture.schema.json</c>), each taken as the generator took it: <c>config_v2</c> when present, else <c>config</c>.
    /// </summary>
    public Task<LegacyArchitectures> GetArchitectureCardsAsync(CancellationToken cancellationToken = default) =>
        GetParsedAsync("architectures", async ct =>
        {
            var schema = await GetSchemaAsync("architecture", ct).ConfigureAwait(false);
            var configs = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
            foreach (var path in await Source.ListFilesAsync("architectures", ct).ConfigureAwait(false))
            {
                if (!path.EndsWith(".yaml", StringComparison.Ordinal) && !path.EndsWith(".yml", StringComparison.Ordinal)) continue;
                var json = (JsonObject)YamlScalarResolver.Load(await ReadRequiredAsync(path, ct).ConfigureAwait(false), path, schema.Root)!;
                schema.Validate(json, path);
                var name = json["name"]!.GetValue<string>();
                var config = json["config_v2"] as JsonObject ?? (JsonObject)json["config"]!;
                if (!configs.TryAdd(name, config)) throw new LegacyRegistryException(path, "name", $"architecture '{name}' is defined twice");
            }
            return new LegacyArchitectures(configs);
        }, cancellationToken);

    /// <summary>
    /// Validates every card in the registry against its schema: adapters, architectures, tasks and subtasks.
    /// Returns how many files were checked.
    /// </summary>
    /// <exception cref="LegacyRegistryException">The first file that fails, naming the field.</exception>
    public async Task<int> ValidateAllAsync(CancellationToken cancellationToken = default)
    {
        var count = (await GetCardsAsync(cancellationToken).ConfigureAwait(false)).Count;
        count += (await GetArchitectureCardsAsync(cancellationToken).ConfigureAwait(false)).Names.Count();
        foreach (var (folder, schemaName) in new[] { ("tasks", "task"), ("subtasks", "subtask") })
        {
            var schema = await GetSchemaAsync(schemaName, cancellationToken).ConfigureAwait(false);
            foreach (var path in await Source.ListFilesAsync(folder, cancellationToken).ConfigureAwait(false))
            {
                if (!path.EndsWith(".yaml", StringComparison.Ordinal) && !path.EndsWith(".yml", StringComparison.Ordinal)) continue;
                var json = YamlScalarResolver.Load(await ReadRequiredAsync(path, cancellationToken).ConfigureAwait(false), path, schema.Root);
                schema.Validate(json, path);
                count++;
            }
        }
        return count;
    }

    /// <summary>The index for <paramref name="modelName"/> (<c>dist/v2/index/&lt;model&gt;.json</c>; a <c>/</c> in the name is a subfolder).</summary>
    /// <exception cref="LegacyRegistryException">The registry has no index for that model.</exception>
    public Task<LegacyModelIndex> GetModelIndexAsync(string modelName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        var path = $"{DistFolder}/index/{modelName}.json";
        return GetParsedAsync(path, async ct =>
        {
            var text = await Source.ReadTextAsync(RegistryPaths.Normalize(path), ct).ConfigureAwait(false)
                ?? throw new LegacyRegistryException(path, null, $"the registry ({Source.Description}) has no index for model '{modelName}'");
            return LegacyModelIndex.Parse(text, modelName, path);
        }, cancellationToken);
    }

    /// <summary>Whether an index exists for <paramref name="modelName"/>.</summary>
    public async Task<bool> HasModelIndexAsync(string modelName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        return await Source.ReadTextAsync(RegistryPaths.Normalize($"{DistFolder}/index/{modelName}.json"), cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>Reads an entry by its path relative to <c>dist/v2</c>, e.g. <c>adapters/ukp/x.json</c>; null when it does not exist.</summary>
    public async Task<LegacyIndexEntry?> FindEntryAsync(string entryPath, CancellationToken cancellationToken = default)
    {
        var relative = RegistryPaths.Normalize(entryPath);
        var path = $"{DistFolder}/{relative}";
        var text = await Source.ReadTextAsync(path, cancellationToken).ConfigureAwait(false);
        return text is null ? null : LegacyIndexEntry.Parse(text, relative);
    }

    /// <summary>Paths of every adapter card (<c>adapters/&lt;org&gt;/*.yaml|yml</c>), sorted ordinally.</summary>
    public async Task<IReadOnlyList<string>> ListCardPathsAsync(CancellationToken cancellationToken = default)
    {
        var files = await Source.ListFilesAsync("adapters", cancellationToken).ConfigureAwait(false);
        return files.Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal)).ToList();
    }

    /// <summary>Reads and validates one adapter card.</summary>
    /// <exception cref="LegacyRegistryException">The card is missing, is not valid YAML, or breaks <c>adapter.schema.json</c>.</exception>
    public Task<LegacyAdapterCard> GetCardAsync(string path, CancellationToken cancellationToken = default)
    {
        var normalized = RegistryPaths.Normalize(path);
        return GetParsedAsync(normalized, async ct =>
        {
            var schema = await GetSchemaAsync("adapter", ct).ConfigureAwait(false);
            var text = await ReadRequiredAsync(normalized, ct).ConfigureAwait(false);
            var json = YamlScalarResolver.Load(text, normalized, schema.Root);
            schema.Validate(json, normalized);
            return LegacyAdapterCard.FromValidated((JsonObject)json!, normalized);
        }, cancellationToken);
    }

    /// <summary>Reads and validates every adapter card.</summary>
    public async Task<IReadOnlyList<LegacyAdapterCard>> GetCardsAsync(CancellationToken cancellationToken = default)
    {
        var paths = await ListCardPathsAsync(cancellationToken).ConfigureAwait(false);
        var cards = new List<LegacyAdapterCard>(paths.Count);
        foreach (var path in paths) cards.Add(await GetCardAsync(path, cancellationToken).ConfigureAwait(false));
        return cards;
    }

    /// <summary>The card behind an entry (<c>adapters/&lt;org&gt;/&lt;stem&gt;.yaml</c> or <c>.yml</c>), or null.</summary>
    public async Task<LegacyAdapterCard?> FindCardForEntryAsync(LegacyIndexEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        foreach (var extension in new[] { ".yaml", ".yml" })
        {
            var path = $"adapters/{entry.Org}/{entry.Stem}{extension}";
            if (await Source.ReadTextAsync(path, cancellationToken).ConfigureAwait(false) is not null)
            {
                return await GetCardAsync(path, cancellationToken).ConfigureAwait(false);
            }
        }
        return null;
    }

    /// <summary>
    /// The subtask card for a task and subtask under <c>subtasks/&lt;type&gt;/</c>, or null when the registry has none.
    /// Cards are matched by their <c>task</c>/<c>subtask</c> fields: 14 file names do not follow <c>&lt;task&gt;_&lt;subtask&gt;.yaml</c>.
    /// </summary>
    public async Task<LegacySubtaskCard?> FindSubtaskCardAsync(string type, string task, string subtask, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        var folder = RegistryPaths.Normalize($"subtasks/{type}");
        var cards = await GetParsedAsync(folder, async ct =>
        {
            var schema = await GetSchemaAsync("subtask", ct).ConfigureAwait(false);
            var byKey = new Dictionary<(string, string), LegacySubtaskCard>();
            foreach (var path in await Source.ListFilesAsync(folder, ct).ConfigureAwait(false))
            {
                if (!path.EndsWith(".yaml", StringComparison.Ordinal) && !path.EndsWith(".yml", StringComparison.Ordinal)) continue;
                var json = YamlScalarResolver.Load(await ReadRequiredAsync(path, ct).ConfigureAwait(false), path, schema.Root);
                schema.Validate(json, path);
                string? Text(string key) => json![key]?.GetValue<string>();
                var card = new LegacySubtaskCard
                {
                    Path = path,
                    Task = Text("task")!,
                    Subtask = Text("subtask")!,
                    DisplayName = Text("displayname"),
                    Description = Text("description")!,
                    HfDatasetsId = Text("hf_datasets_id"),
                    Language = Text("language"),
                    Url = Text("url"),
                };
                byKey.TryAdd((card.Task, card.Subtask), card);
            }
            return byKey;
        }, cancellationToken).ConfigureAwait(false);
        return cards.GetValueOrDefault((task, subtask));
    }

    private Task<RegistrySchema> GetSchemaAsync(string name, CancellationToken cancellationToken)
    {
        var path = $"scripts/schemas/{name}.schema.json";
        return GetParsedAsync(path, async ct => RegistrySchema.Parse(await ReadRequiredAsync(path, ct).ConfigureAwait(false), path), cancellationToken);
    }

    private async Task<string> ReadRequiredAsync(string path, CancellationToken cancellationToken) =>
        await Source.ReadTextAsync(path, cancellationToken).ConfigureAwait(false)
        ?? throw new LegacyRegistryException(path, null, $"file not found in the registry ({Source.Description})");

    private static JsonObject ParseObject(string text, string path)
    {
        try
        {
            return JsonNode.Parse(text) as JsonObject ?? throw new LegacyRegistryException(path, null, "expected a JSON object");
        }
        catch (JsonException ex)
        {
            throw new LegacyRegistryException(path, null, $"invalid JSON: {ex.Message}", ex);
        }
    }

    private async Task<T> GetParsedAsync<T>(string key, Func<CancellationToken, Task<T>> parse, CancellationToken cancellationToken)
    {
        // A failed or cancelled parse is not cached, so a later call retries instead of replaying the failure.
        var lazy = _parsed.GetOrAdd(key, _ => new Lazy<Task<object>>(async () => (await parse(cancellationToken).ConfigureAwait(false))!));
        try
        {
            return (T)await lazy.Value.ConfigureAwait(false);
        }
        catch
        {
            _parsed.TryRemove(new KeyValuePair<string, Lazy<Task<object>>>(key, lazy));
            throw;
        }
    }
}
