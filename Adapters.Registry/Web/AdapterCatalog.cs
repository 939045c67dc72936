using System.Collections.Concurrent;
using Adapters.Registry.Endpoints;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Web;

/// <summary>One repository as the search page lists it: its id, head commit and facts.</summary>
internal sealed record CatalogEntry(RepoKey Key, RepoMetadata Metadata, CommitRecord Head, AdapterFacts Facts);

/// <summary>
/// The model repositories a caller may read, with the facts of their <c>main</c> head. Facts depend only on
/// the commit (its id hashes the manifest, whose blobs are content-addressed), so they are cached by commit id;
/// the cache is bounded and simply emptied when full.
/// </summary>
internal static class AdapterCatalog
{
    private const int MaxCachedCommits = 20_000;

    private static readonly ConcurrentDictionary<string, AdapterFacts> s_facts = new(StringComparer.Ordinal);

    /// <summary>
    /// The model repositories <paramref name="context"/>'s caller may read, ordered by id. Visibility is decided
    /// by <see cref="ServeServices.RequireRead"/>, the rule every Hub route applies, so a private repository is
    /// listed exactly when its info would be served to the same caller.
    /// </summary>
    public static IReadOnlyList<CatalogEntry> Visible(HttpContext context, ServeServices services)
    {
        var entries = new List<CatalogEntry>();
        foreach (var (key, metadata) in services.Store.ListRepos(RepoType.Model))
        {
            if (metadata.Private && !CanRead(context, services, key)) continue;
            ResolvedRevision head;
            try
            {
                head = services.Store.Resolve(key, RegistryStore.DefaultBranch);
            }
            catch (RegistryException)
            {
                continue; // no main branch (deleted): nothing to show.
            }
            entries.Add(new CatalogEntry(key, metadata, head.Commit, FactsOf(services.Store.Blobs, head.Commit)));
        }
        return entries.OrderBy(e => e.Key.Id, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>The facts of <paramref name="commit"/>, cached by its id.</summary>
    public static AdapterFacts FactsOf(BlobStore blobs, CommitRecord commit)
    {
        if (s_facts.TryGetValue(commit.Id, out var cached)) return cached;
        var facts = AdapterFacts.Read(blobs, commit);
        if (s_facts.Count >= MaxCachedCommits) s_facts.Clear();
        s_facts[commit.Id] = facts;
        return facts;
    }

    private static bool CanRead(HttpContext context, ServeServices services, RepoKey key)
    {
        try
        {
            services.RequireRead(context, key);
            return true;
        }
        catch (RegistryException)
        {
            return false;
        }
    }
}
