using Adapters.Hub.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Adapters.Hub.Legacy;

/// <summary>
/// Resolves legacy AdapterHub ids exactly as Python's <c>adapters.utils.find_in_index</c> and <c>pull_from_hub</c>
/// did, and maps the entry found to its Hugging Face repo <c>AdapterHub/&lt;file stem&gt;</c> and revision.
/// </summary>
public sealed partial class AdapterResolver
{
    private readonly LegacyRegistry _registry;

    /// <summary>Resolves against <paramref name="registry"/>.</summary>
    public AdapterResolver(LegacyRegistry registry)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
    }

    /// <summary>
    /// With a config that is not in the node, Python's default (<c>strict=False</c>) falls back to the node's
    /// default entry; when true, that case fails instead.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Resolves <paramref name="identifier"/>.</summary>
    /// <param name="identifier"><c>task/subtask@org</c>, <c>task/subtask</c>, <c>task@org</c>, a bare task or subtask, or <c>@org/file</c>.</param>
    /// <param name="modelName">The base model (selects the index); required except for <c>@org/file</c>.</param>
    /// <param name="config">
    /// An architecture name (<c>pfeiffer</c>, <c>houlsby</c>, <c>pfeiffer+inv</c>, …, or the library's <c>seq_bn</c>,
    /// <c>double_seq_bn</c>, …) or a JSON config object (a saved <c>adapter_config.json</c> is unwrapped to its <c>config</c>).
    /// </param>
    /// <param name="version">A legacy version label; it becomes the revision. Null means the default version on <c>main</c>.</param>
    /// <param name="cancellationToken">Cancels the registry reads.</param>
    /// <exception cref="LegacyAdapterNotFoundException">Nothing matches.</exception>
    /// <exception cref="AmbiguousLegacyAdapterException">Several nodes or adapters match.</exception>
    /// <exception cref="LegacyResolutionException">The model name is missing, the config is unknown, or the version does not exist.</exception>
    public async Task<LegacyResolution> ResolveAsync(string identifier, string? modelName = null, string? config = null, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        JsonObject? configObject = config is null ? null : await ResolveConfigAsync(identifier, config, cancellationToken).ConfigureAwait(false);
        return await ResolveAsync(identifier, modelName, configObject, version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resolves <paramref name="identifier"/> with an already-built config object (see the string overload).</summary>
    public async Task<LegacyResolution> ResolveAsync(string identifier, string? modelName, JsonObject? config, string? version = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var entryPath = await FindInIndexAsync(identifier, modelName, config, cancellationToken).ConfigureAwait(false)
            ?? throw new LegacyAdapterNotFoundException(identifier, $"No adapter with name '{identifier}' was found in the adapter index.");

        LegacyIndexEntry? entry;
        try
        {
            entry = await _registry.FindEntryAsync(entryPath, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException ex)
        {
            throw new LegacyAdapterNotFoundException(identifier, $"No adapter with name '{identifier}' was found in the adapter index: '{entryPath}' is not a registry path ({ex.Message}).");
        }
        if (entry is null)
        {
            throw new LegacyAdapterNotFoundException(identifier, $"No adapter with name '{identifier}' was found in the adapter index: {LegacyRegistry.DistFolder}/{entryPath} does not exist in {_registry.Source.Description}.");
        }

        var selectedVersion = version ?? entry.DefaultVersion;
        if (!entry.Files.TryGetValue(selectedVersion, out var file))
        {
            throw new LegacyResolutionException(identifier,
                $"Version '{version}' of adapter '{identifier}' ({entry.RepoId}) does not exist; available versions: {string.Join(", ", entry.Files.Keys)}.");
        }
        return new LegacyResolution
        {
            Identifier = identifier,
            RepoId = entry.RepoId,
            Revision = version ?? "main",
            EntryPath = entry.Path,
            ConfigId = entry.ConfigId,
            Version = selectedVersion,
            DefaultVersion = entry.DefaultVersion,
            File = file,
            ModelName = entry.ModelName,
            Task = entry.Task,
            Subtask = entry.Subtask,
        };
    }

    /// <summary>
    /// Python's <c>find_in_index</c>: the entry path relative to <c>dist/v2</c>, or null where Python returns
    /// <c>None</c>. Ambiguity and config failures throw as Python raises.
    /// </summary>
    public async Task<string?> FindInIndexAsync(string identifier, string? modelName, JsonObject? config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var trimmed = identifier.Trim();
        var direct = DirectEntryPattern().Match(trimmed);
        if (direct.Success)
        {
            return $"adapters/{direct.Groups[1].Value}/{direct.Groups[2].Value}.json";
        }
        if (string.IsNullOrEmpty(modelName))
        {
            throw new LegacyResolutionException(identifier, "Unable to resolve adapter without the name of a model. Please specify model_name.");
        }

        var index = await _registry.GetModelIndexAsync(modelName, cancellationToken).ConfigureAwait(false);
        var (task, subtask, org) = SplitIdentifier(trimmed);
        var nodes = ExtractNodes(index, task, subtask).ToList();
        if (nodes.Count == 0) return null;
        if (nodes.Count > 1)
        {
            var candidates = nodes.Select(n => n.ToString()).ToList();
            throw new AmbiguousLegacyAdapterException(identifier,
                $"Found multiple possible adapters matching '{trimmed}' for model '{modelName}': {string.Join(", ", candidates)}. Use task/subtask to pick one.",
                candidates);
        }
        var node = nodes[0];

        if (config is not null && PythonJson.IsTruthy(config))
        {
            var configId = AdapterConfigHash.Compute(config);
            var match = node.Configs.FirstOrDefault(c => c.ConfigId == configId);
            if (match is not null)
            {
                if (org is not null)
                {
                    return match.Versions.FirstOrDefault(v => v.Key == org).Value;
                }
                if (match.Versions.Count == 1) return match.Versions[0].Value;
                if (match.Default is not null) return match.Default;
                throw new AmbiguousLegacyAdapterException(identifier,
                    $"Multiple adapters with this name are available for this config ('{trimmed}', config id {configId}): {string.Join(", ", match.Versions.Select(v => v.Key))}.",
                    match.Versions.Select(v => v.Value).ToList());
            }
        }
        if (config is null || !PythonJson.IsTruthy(config) || !Strict)
        {
            // As in Python, the org is not consulted on this fallback.
            if (node.Default is not null) return node.Default;
            if (node.KeyCount == 1 && node.Configs.Count == 1 && node.Configs[0].Versions.Count == 1)
            {
                return node.Configs[0].Versions[0].Value;
            }
        }
        throw new LegacyAdapterNotFoundException(identifier, $"No adapter '{trimmed}' found for the current model or configuration.");
    }

    /// <summary>Python's <c>_split_identifier</c>: <c>task[/subtask][@org]</c>.</summary>
    internal static (string Task, string? Subtask, string? Org) SplitIdentifier(string identifier)
    {
        var atParts = identifier.Split('@');
        var org = atParts.Length > 1 ? atParts[1] : null;
        var slashParts = atParts[0].Split('/');
        var subtask = slashParts.Length > 1 ? slashParts[1] : null;
        return (slashParts[0], subtask, org);
    }

    /// <summary>Python's <c>_dict_extract</c> over the index.</summary>
    private static IEnumerable<LegacyIndexNode> ExtractNodes(LegacyModelIndex index, string primary, string? secondary)
    {
        foreach (var group in index.Nodes.GroupBy(n => n.Task))
        {
            if (group.Key == primary)
            {
                foreach (var node in group)
                {
                    if (secondary is null || node.Subtask == secondary) yield return node;
                }
            }
            else if (secondary is null)
            {
                foreach (var node in group)
                {
                    if (node.Subtask == primary) yield return node;
                }
            }
        }
    }

    private async Task<JsonObject> ResolveConfigAsync(string identifier, string config, CancellationToken cancellationToken)
    {
        var text = config.Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                var parsed = JsonNode.Parse(text) as JsonObject
                    ?? throw new LegacyResolutionException(identifier, $"The config '{config}' is not a JSON object.");
                return parsed["config"] is JsonObject nested ? nested : parsed;
            }
            catch (JsonException ex)
            {
                throw new LegacyResolutionException(identifier, $"The config '{config}' is not valid JSON: {ex.Message}", ex);
            }
        }
        var architectures = await _registry.GetArchitecturesAsync(cancellationToken).ConfigureAwait(false);
        return architectures.Find(text)
            ?? throw new LegacyResolutionException(identifier,
                $"Could not identify '{config}' as a valid adapter configuration (known: {string.Join(", ", architectures.Names)}, seq_bn, double_seq_bn, seq_bn_inv, double_seq_bn_inv, or a JSON object).");
    }

    [GeneratedRegex(@"^@(\S+)/(\S+)")]
    private static partial Regex DirectEntryPattern();
}
