using System.Globalization;
using System.Security.Cryptography;
using Adapters.Registry.Auth;

namespace Adapters.Registry.Storage;

/// <summary>
/// LFS uploads the batch API has handed out, kept by no process: a session id carries the object (oid, size), the
/// part size and an expiry, signed with the registry's URL key (<see cref="BlobUrlSigner"/>, shared by every replica
/// through the metadata), so any replica behind a load balancer accepts any part or the completion, and clients send
/// no token there. Parts are written under <c>tmp/uploads/</c> of the root (shared between replicas on a shared
/// folder) and, with object storage, staged in it as well (<c>uploads/NONCE/PART</c>), so the replica that
/// completes the upload fetches the parts that others received. The completion assembles and verifies them;
/// abandoned parts expire with their URLs.
/// </summary>
internal sealed class LfsUploadSessions(BlobStore blobs, BlobUrlSigner signer, string uploadsRoot)
{
    public LfsUploadSession Open(string oid, long size, long chunkSize)
    {
        SweepExpired();
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var partCount = chunkSize > 0 ? (int)((size + chunkSize - 1) / chunkSize) : 0;
        var (expires, signature) = signer.SignParts(Subject(nonce, oid, size, chunkSize));
        var id = string.Join('-', nonce, oid, size.ToString(CultureInfo.InvariantCulture), chunkSize.ToString(CultureInfo.InvariantCulture), expires, signature);
        return Session(id, nonce, oid, size, chunkSize, partCount);
    }

    /// <summary>The session an id names, when its signature holds and it has not expired; 404 otherwise, as for an unknown id.</summary>
    public LfsUploadSession Get(string id)
    {
        var fields = id.Split('-');
        if (fields.Length == 6
            && fields[0].Length == 32 && ContentHashes.IsSha256(fields[1])
            && long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            && long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var chunkSize)
            && signer.Verify(Subject(fields[0], fields[1], size, chunkSize), fields[4], fields[5]))
        {
            var partCount = chunkSize > 0 ? (int)((size + chunkSize - 1) / chunkSize) : 0;
            return Session(id, fields[0], fields[1], size, chunkSize, partCount);
        }
        throw new RegistryException(404, null, $"Upload {Adapters.Hub.Text.SafeText.Quote(id)} is unknown or has expired; ask the LFS batch API for a new one.");
    }

    /// <summary>Stores a part that was written to <see cref="LfsUploadSession.PartPath"/> where every replica finds it.</summary>
    public async Task ShareAsync(LfsUploadSession session, int partNumber, CancellationToken cancellationToken)
    {
        if (blobs.Remote is { } remote) await remote.PutAsync(RemoteKey(session, partNumber), session.PartPath(partNumber), session.PartLength(partNumber), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The local file of every part, fetching from object storage the parts another replica received; null for a part nobody has.</summary>
    public async Task<string?> FindPartAsync(LfsUploadSession session, int partNumber, CancellationToken cancellationToken)
    {
        var path = session.PartPath(partNumber);
        if (File.Exists(path)) return path;
        if (blobs.Remote is not { } remote) return null;
        Directory.CreateDirectory(session.Folder);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        if (!await remote.TryDownloadAsync(RemoteKey(session, partNumber), temp, cancellationToken).ConfigureAwait(false)) return null;
        File.Move(temp, path, overwrite: true);
        return path;
    }

    public void Close(LfsUploadSession session)
    {
        DeleteFolder(session.Folder);
        if (blobs.Remote is { } remote)
        {
            for (var part = 1; part <= session.PartCount; part++)
            {
                // Staged parts are garbage once the object is stored; a failure here only leaves garbage.
                _ = remote.DeleteAsync(RemoteKey(session, part), CancellationToken.None).ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
            }
        }
    }

    private LfsUploadSession Session(string id, string nonce, string oid, long size, long chunkSize, int partCount) =>
        new(id, oid, size, chunkSize, partCount, Path.Combine(uploadsRoot, nonce));

    private static string Subject(string nonce, string oid, long size, long chunkSize) =>
        string.Create(CultureInfo.InvariantCulture, $"lfs-upload\n{nonce}\n{oid}\n{size}\n{chunkSize}");

    private static string RemoteKey(LfsUploadSession session, int partNumber) =>
        string.Create(CultureInfo.InvariantCulture, $"uploads/{Path.GetFileName(session.Folder)}/{partNumber:D5}");

    /// <summary>Removes part folders nobody has written to for longer than an upload URL lives (their URLs have expired).</summary>
    private void SweepExpired()
    {
        if (!Directory.Exists(uploadsRoot)) return;
        foreach (var folder in Directory.EnumerateDirectories(uploadsRoot))
        {
            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) > signer.Lifetime + TimeSpan.FromMinutes(5)) DeleteFolder(folder);
        }
    }

    private static void DeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Another replica removing the same folder at once.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>One LFS upload in progress: basic when <see cref="ChunkSize"/> is 0, else multipart with <see cref="PartCount"/> parts.</summary>
internal sealed record LfsUploadSession(string Id, string Oid, long Size, long ChunkSize, int PartCount, string Folder)
{
    public long PartLength(int partNumber) => Math.Min(ChunkSize, Size - (partNumber - 1) * ChunkSize);

    public string PartPath(int partNumber) => Path.Combine(Folder, $"{partNumber:D5}.part");
}
