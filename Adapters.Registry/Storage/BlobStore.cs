using System.Security.Cryptography;
using Adapters.Registry.Storage.ObjectStorage;

namespace Adapters.Registry.Storage;

/// <summary>
/// Content-addressed blobs shared by every repository: <c>objects/lfs/&lt;sha256&gt;</c> and
/// <c>objects/git/&lt;sha1&gt;</c>, fanned out by their first two hex pairs. A blob only ever appears by
/// renaming a flushed temporary file whose hash and size were checked, so a present blob is a correct one.
/// With an <see cref="IObjectStorage"/> (S3) every verified blob is also written through to it before it is
/// acknowledged, and the folder becomes a cache: a blob missing here is fetched, verified and adopted on first use.
/// </summary>
internal sealed partial class BlobStore
{
    private readonly string _lfsRoot;
    private readonly string _gitRoot;
    private readonly IObjectStorage? _remote;

    public BlobStore(string objectsRoot, string tempRoot, IObjectStorage? remote = null)
    {
        _lfsRoot = Path.Combine(objectsRoot, "lfs");
        _gitRoot = Path.Combine(objectsRoot, "git");
        _remote = remote;
        TempRoot = tempRoot;
        Directory.CreateDirectory(_lfsRoot);
        Directory.CreateDirectory(_gitRoot);
        Directory.CreateDirectory(tempRoot);
    }

    /// <summary>Where uploads are written before they are verified.</summary>
    public string TempRoot { get; }

    /// <summary>The object storage blobs are written through to, if any (LFS upload parts are staged there too).</summary>
    public IObjectStorage? Remote => _remote;

    /// <summary>The object storage blobs are written through to, if any (for messages).</summary>
    public string? RemoteDescription => _remote?.Description;

    /// <summary>The local file of an LFS object, fetched from the object storage first when it is only there.</summary>
    public string LfsPath(string sha256)
    {
        var local = LocalLfsPath(sha256);
        if (_remote is not null && !File.Exists(local)) Fetch("lfs/" + sha256, local, path => Sha256Of(path) == sha256);
        return local;
    }

    /// <summary>The local file of a git blob, fetched from the object storage first when it is only there.</summary>
    public string GitPath(string sha1)
    {
        var local = LocalGitPath(sha1);
        if (_remote is not null && !File.Exists(local)) Fetch("git/" + sha1, local, path => ContentHashes.GitBlobSha1(File.ReadAllBytes(path)) == sha1);
        return local;
    }

    private string LocalLfsPath(string sha256) => Path.Combine(_lfsRoot, sha256[..2], sha256[2..4], sha256);

    private string LocalGitPath(string sha1) => Path.Combine(_gitRoot, sha1[..2], sha1[2..4], sha1);

    /// <summary>
    /// Downloads <paramref name="key"/> beside the cache and adopts it only if <paramref name="verify"/> holds, so a
    /// corrupted or foreign object never enters the cache (the caller then sees the blob as missing).
    /// </summary>
    private void Fetch(string key, string local, Func<string, bool> verify)
    {
        var temp = NewTempPath("fetch");
        try
        {
            // The endpoints that read blobs are synchronous over files; the object storage client is asynchronous only.
            if (!_remote!.TryDownloadAsync(key, temp, CancellationToken.None).GetAwaiter().GetResult()) return;
            if (!verify(temp)) throw new InvalidDataException($"{_remote.Description}: object {key} does not hash to its own name; it was not used.");
            ContentAddressedFile.Adopt(temp, local);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static string Sha256Of(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>
    /// Proves the blob store usable for <c>/healthz</c>: a probe file is written, read back and removed in the
    /// upload folder, and the object storage (if any) answers a size query. Throws what failed.
    /// </summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        var probe = NewTempPath("healthz");
        try
        {
            await File.WriteAllBytesAsync(probe, [1, 2, 3], cancellationToken).ConfigureAwait(false);
            if ((await File.ReadAllBytesAsync(probe, cancellationToken).ConfigureAwait(false)).Length != 3) throw new IOException($"The probe file {probe} did not read back.");
        }
        finally
        {
            File.Delete(probe);
        }
        if (_remote is not null) await _remote.SizeAsync("healthz-probe", cancellationToken).ConfigureAwait(false);
    }

    public string NewTempPath(string purpose) => Path.Combine(TempRoot, $"{purpose}-{Guid.NewGuid():N}");

    /// <summary>The size of a stored LFS object (here or in the object storage), or null when it is not stored.</summary>
    public long? LfsSize(string sha256)
    {
        var info = new FileInfo(LocalLfsPath(sha256));
        if (info.Exists) return info.Length;
        return _remote?.SizeAsync("lfs/" + sha256, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Stores a regular file's bytes under their git blob SHA-1 and returns it.</summary>
    public string PutGitBlob(byte[] content)
    {
        var sha1 = ContentHashes.GitBlobSha1(content);
        var target = LocalGitPath(sha1);
        if (!File.Exists(target))
        {
            var temp = NewTempPath("git");
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            ContentAddressedFile.Adopt(temp, target);
        }
        _remote?.PutAsync("git/" + sha1, target, content.Length, CancellationToken.None).GetAwaiter().GetResult();
        return sha1;
    }

    /// <summary>
    /// Streams <paramref name="source"/> into a temporary file while hashing it, then adopts it as the LFS
    /// object <paramref name="expectedSha256"/> only if the size and hash match; otherwise the temporary
    /// file is removed and nothing changes.
    /// </summary>
    public async Task PutLfsAsync(Stream source, string expectedSha256, long expectedSize, CancellationToken cancellationToken)
    {
        var temp = NewTempPath("lfs");
        try
        {
            string actual;
            long written;
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                (actual, written) = await CopyHashingAsync(source, stream, expectedSize, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            Verify(expectedSha256, expectedSize, actual, written);
            ContentAddressedFile.Adopt(temp, LocalLfsPath(expectedSha256));
            if (_remote is not null) await _remote.PutAsync("lfs/" + expectedSha256, LocalLfsPath(expectedSha256), expectedSize, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Concatenates verified parts into the LFS object <paramref name="expectedSha256"/>, checking hash and size.</summary>
    public async Task AssembleLfsAsync(IReadOnlyList<string> partFiles, string expectedSha256, long expectedSize, CancellationToken cancellationToken)
    {
        var temp = NewTempPath("lfs");
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long written = 0;
            await using (var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                foreach (var part in partFiles)
                {
                    await using var source = new FileStream(part, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
                    var (_, n) = await CopyHashingAsync(source, target, expectedSize - written, cancellationToken, hash).ConfigureAwait(false);
                    written += n;
                }
                target.Flush(flushToDisk: true);
            }
            Verify(expectedSha256, expectedSize, Convert.ToHexStringLower(hash.GetHashAndReset()), written);
            ContentAddressedFile.Adopt(temp, LocalLfsPath(expectedSha256));
            if (_remote is not null) await _remote.PutAsync("lfs/" + expectedSha256, LocalLfsPath(expectedSha256), expectedSize, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static void Verify(string expectedSha256, long expectedSize, string actualSha256, long actualSize)
    {
        if (actualSize != expectedSize)
        {
            throw RegistryException.BadRequest($"The upload of LFS object {expectedSha256} has {actualSize} bytes; the batch request announced {expectedSize}.");
        }
        if (!string.Equals(actualSha256, expectedSha256, StringComparison.Ordinal))
        {
            throw RegistryException.BadRequest($"The uploaded bytes hash to sha256 {actualSha256}, not to the announced oid {expectedSha256}.");
        }
    }

    /// <summary>Copies at most <paramref name="limit"/> + 1 bytes (one more reveals an oversized body) and hashes them.</summary>
    private static async Task<(string Sha256, long Written)> CopyHashingAsync(Stream source, Stream target, long limit, CancellationToken cancellationToken, IncrementalHash? sharedHash = null)
    {
        using var ownHash = sharedHash is null ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var hash = sharedHash ?? ownHash!;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        long written = 0;
        try
        {
            while (true)
            {
                var read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                written += read;
                if (written > limit)
                {
                    throw RegistryException.BadRequest($"The upload is larger than the {limit} bytes announced.");
                }
                hash.AppendData(buffer, 0, read);
                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
        return (ownHash is null ? "" : Convert.ToHexStringLower(ownHash.GetHashAndReset()), written);
    }
}
