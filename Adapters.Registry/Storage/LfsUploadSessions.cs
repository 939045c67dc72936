using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Adapters.Registry.Storage;

/// <summary>
/// LFS uploads the batch API has handed out. A session id is 128 random bits and acts as the presigned
/// part of the upload URL (clients send no token there). Parts live under <c>tmp/</c> until the
/// completion call assembles and verifies them; an abandoned session expires and its folder is removed.
/// </summary>
internal sealed class LfsUploadSessions(BlobStore blobs, TimeSpan lifetime)
{
    private readonly ConcurrentDictionary<string, LfsUploadSession> _sessions = new(StringComparer.Ordinal);

    public LfsUploadSession Open(string oid, long size, long chunkSize)
    {
        SweepExpired();
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var partCount = chunkSize > 0 ? (int)((size + chunkSize - 1) / chunkSize) : 0;
        var session = new LfsUploadSession(id, oid, size, chunkSize, partCount, Path.Combine(blobs.TempRoot, "upload-" + id), DateTimeOffset.UtcNow.Add(lifetime));
        _sessions[id] = session;
        return session;
    }

    public LfsUploadSession Get(string id)
    {
        if (_sessions.TryGetValue(id, out var session) && session.ExpiresAt > DateTimeOffset.UtcNow) return session;
        throw new RegistryException(404, null, $"Upload {id} is unknown or has expired; ask the LFS batch API for a new one.");
    }

    public void Close(LfsUploadSession session)
    {
        _sessions.TryRemove(session.Id, out _);
        if (Directory.Exists(session.Folder)) Directory.Delete(session.Folder, recursive: true);
    }

    private void SweepExpired()
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var session in _sessions.Values.Where(s => s.ExpiresAt <= now).ToList())
        {
            Close(session);
        }
    }
}

/// <summary>One LFS upload in progress: basic when <see cref="ChunkSize"/> is 0, else multipart with <see cref="PartCount"/> parts.</summary>
internal sealed record LfsUploadSession(string Id, string Oid, long Size, long ChunkSize, int PartCount, string Folder, DateTimeOffset ExpiresAt)
{
    /// <summary>The ETag returned for each part received, by part number.</summary>
    public ConcurrentDictionary<int, string> PartEtags { get; } = new();

    public long PartLength(int partNumber) => Math.Min(ChunkSize, Size - (partNumber - 1) * ChunkSize);

    public string PartPath(int partNumber) => Path.Combine(Folder, $"{partNumber:D5}.part");
}
