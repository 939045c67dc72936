namespace Adapters.Hub.Download;

/// <summary>What the metadata <c>HEAD</c> on <c>/resolve/</c> says about one file.</summary>
/// <param name="CommitHash">The commit the revision resolved to (<c>X-Repo-Commit</c>).</param>
/// <param name="Etag">The normalized etag: SHA-256 of the content for LFS files, git blob SHA-1 otherwise.</param>
/// <param name="Size">The size in bytes (<c>X-Linked-Size</c>, else <c>Content-Length</c>).</param>
/// <param name="Location">The URL to GET: the CDN redirect target for LFS files, else the resolve URL.</param>
public sealed record HubFileMetadata(string CommitHash, string Etag, long Size, Uri Location)
{
    /// <summary>The Xet file hash (<c>X-Xet-Hash</c>) when the Hub stores the file in Xet; null otherwise.</summary>
    public Xet.XetHash? XetFileHash { get; init; }

    /// <summary>Where to get a Xet read token for the file (<c>Link: &lt;…&gt;; rel="xet-auth"</c> or <c>X-Xet-Refresh-Route</c>).</summary>
    public Uri? XetAuthUrl { get; init; }

    /// <summary>Whether the file can be downloaded through Xet reconstruction (both Xet headers were sent).</summary>
    public bool IsXet => XetFileHash is not null && XetAuthUrl is not null;

    /// <summary>Whether the content is stored with LFS (the etag is a SHA-256).</summary>
    public bool IsLfs => Cache.HubCache.IsSha256(Etag);

    /// <summary>
    /// Python's <c>_normalize_etag</c>, done as intended: drop a weak <c>W/</c> prefix, then the quotes.
    /// </summary>
    public static string NormalizeEtag(string etag)
    {
        ArgumentNullException.ThrowIfNull(etag);
        var value = etag.Trim();
        if (value.StartsWith("W/", StringComparison.Ordinal)) value = value[2..];
        return value.Trim('"');
    }
}
