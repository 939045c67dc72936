using System.Collections.Concurrent;
using Adapters.Registry.Endpoints;
using Adapters.Registry.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Web;

/// <summary>
/// The model repositories a caller may read, with the facts of their <c>main</c> head. Facts depend only on
/// the commit (its id hashes the manifest, whose blobs are content-addressed), so they are cached by commit id
/// (facets and the commit's date, all the search page needs; never the card or config text);
/// the cache is bounded and simply emptied when full.
/// </summary>
internal static class AdapterCatalog
{
    private const int MaxCachedCommits = 20_000;

    private static readonly ConcurrentDictionary<string, (DateTimeOffset Date, AdapterFacts Facts)> s_facts = new(StringComparer.Ordinal);

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
            // The head's id is enough when its facts are cached: no commit manifest is read for them.
            string? headId;
            try
            {
                if (!services.Store.ReadRefs(key).TryGetValue(RegistryStore.DefaultBranch, out headId)) continue;
            }
            catch (RegistryException)
            {
                continue; // deleted since it was listed
            }
            var (updated, facts) = s_facts.TryGetValue(headId, out var cached) ? cached : Remember(services.Store.Blobs, services.Store.ReadCommit(key, headId));
            entries.Add(new CatalogEntry(key, metadata, updated, facts));
        }
        return entries.OrderBy(e => e.Key.Id, StringComparer.OrdinalIgnoreCase).ToList();
    }

    /// <summary>
    /// The full facts of <paramref name="commit"/> with its card and config text, for a repository page: read
    /// each time (one commit's two small files), and the searchable part remembered for the catalogue.
    /// </summary>
    public static AdapterFacts ReadWithDocuments(BlobStore blobs, CommitRecord commit)
    {
        try
        {
            var facts = AdapterFacts.Read(blobs, commit);
            Cache(commit, facts);
            return facts;
        }
        catch (AdapterFacts.TransientReadException error)
        {
            return Unreadable(error);
        }
    }

    private static (DateTimeOffset Date, AdapterFacts Facts) Remember(BlobStore blobs, CommitRecord commit)
    {
        try
        {
            return Cache(commit, AdapterFacts.Read(blobs, commit));
        }
        catch (AdapterFacts.TransientReadException error)
        {
            return (commit.Date, Unreadable(error));
        }
    }

    /// <summary>Keeps the facets only: cards and configs (up to a MiB each) stay out of the long-lived cache.</summary>
    private static (DateTimeOffset Date, AdapterFacts Facts) Cache(CommitRecord commit, AdapterFacts facts)
    {
        var entry = (commit.Date, facts with { CardBody = null, ConfigText = null });
        if (s_facts.Count >= MaxCachedCommits) s_facts.Clear();
        s_facts[commit.Id] = entry;
        return entry;
    }

    private static AdapterFacts Unreadable(AdapterFacts.TransientReadException error) =>
        new() { CardProblem = error.Message, ConfigProblem = error.Message };

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
