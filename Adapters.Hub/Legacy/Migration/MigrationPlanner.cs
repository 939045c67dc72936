namespace Adapters.Hub.Legacy.Migration;

/// <summary>
/// Plans the migration of registry entries to Hugging Face repos the way the registry's own migration did:
/// repo <c>ORG/&lt;card file stem&gt;</c>, the default version on <c>main</c> and on a branch named after it,
/// every other version on its own branch.
/// </summary>
public sealed class MigrationPlanner
{
    /// <summary>The org the original migration used.</summary>
    public const string DefaultOrg = "AdapterHub";

    private readonly LegacyRegistry _registry;

    /// <summary>Plans from <paramref name="registry"/>.</summary>
    public MigrationPlanner(LegacyRegistry registry)
    {
        _registry = registry ?? throw new ArgumentNullException(nameof(registry));
    }

    /// <summary>Plans every entry that passes <paramref name="filter"/>, in card path order.</summary>
    /// <exception cref="LegacyRegistryException">A card is invalid, has no dist entry, or disagrees with it.</exception>
    public async Task<IReadOnlyList<MigrationPlanItem>> PlanAsync(string targetOrg = DefaultOrg, MigrationFilter? filter = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(targetOrg);
        if (targetOrg.Contains('/', StringComparison.Ordinal)) throw new ArgumentException($"'{targetOrg}' is not an org name.", nameof(targetOrg));
        var items = new List<MigrationPlanItem>();
        foreach (var path in await _registry.ListCardPathsAsync(cancellationToken).ConfigureAwait(false))
        {
            var card = await _registry.GetCardAsync(path, cancellationToken).ConfigureAwait(false);
            if (filter is not null && !filter.Matches(card)) continue;
            var entry = await _registry.FindEntryAsync(card.EntryPath, cancellationToken).ConfigureAwait(false)
                ?? throw new LegacyRegistryException(card.Path, null, $"no generated entry {LegacyRegistry.DistFolder}/{card.EntryPath}");
            var missing = card.Files.FirstOrDefault(f => !entry.Files.ContainsKey(f.Version));
            if (missing is not null)
            {
                throw new LegacyRegistryException(card.Path, "files", $"version '{missing.Version}' is not in {LegacyRegistry.DistFolder}/{card.EntryPath}");
            }
            var ordered = card.Files.Where(f => f.Version == card.DefaultVersion).Concat(card.Files.Where(f => f.Version != card.DefaultVersion));
            items.Add(new MigrationPlanItem
            {
                LegacyId = card.LegacyId,
                CardPath = card.Path,
                EntryPath = entry.Path,
                ModelName = card.ModelName,
                TaskSubtask = $"{card.Task}/{card.Subtask}",
                ConfigId = entry.ConfigId,
                TargetRepo = $"{targetOrg}/{card.Stem}",
                Versions = ordered.Select(f => new MigrationVersionPlan
                {
                    Version = f.Version,
                    IsDefault = f.Version == card.DefaultVersion,
                    Branches = f.Version == card.DefaultVersion ? ["main", f.Version] : [f.Version],
                    Url = f.Url,
                    Sha1 = f.Sha1,
                    Sha256 = f.Sha256,
                }).ToList(),
                Card = card,
            });
        }
        return items;
    }
}
