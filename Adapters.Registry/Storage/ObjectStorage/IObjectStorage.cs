namespace Adapters.Registry.Storage.ObjectStorage;

/// <summary>
/// Durable, shared storage for blobs under content-addressed keys (<c>lfs/&lt;sha256&gt;</c>, <c>git/&lt;sha1&gt;</c>).
/// <see cref="BlobStore"/> writes every verified blob through to it and fetches (and verifies) what its local
/// folder lacks, so replicas with their own folders serve one set of blobs. Implementation: <see cref="S3ObjectStorage"/>.
/// </summary>
internal interface IObjectStorage : IDisposable
{
    /// <summary>The store for messages (endpoint and bucket), never a secret.</summary>
    string Description { get; }

    /// <summary>The size of the object, or null when there is none.</summary>
    Task<long?> SizeAsync(string key, CancellationToken cancellationToken);

    /// <summary>Uploads a verified local file under <paramref name="key"/> (in parts when large).</summary>
    Task PutAsync(string key, string localPath, long size, CancellationToken cancellationToken);

    /// <summary>Removes the object; nothing happens when there is none.</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Downloads the object into <paramref name="localPath"/> (created); false when there is no such object.</summary>
    Task<bool> TryDownloadAsync(string key, string localPath, CancellationToken cancellationToken);
}
