using Adapters.Registry.Storage;

namespace Adapters.Registry.Web;

/// <summary>One repository as the search page lists it: its id, the date of its <c>main</c> head and that commit's facts.</summary>
internal sealed record CatalogEntry(RepoKey Key, RepoMetadata Metadata, DateTimeOffset Updated, AdapterFacts Facts);
