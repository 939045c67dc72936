using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Adapters.Hub.Download;

/// <summary>
/// Hashes content the way its etag was computed: SHA-256 of the bytes for a 64-hex (LFS) etag, or the
/// git blob SHA-1 (<c>"blob &lt;size&gt;\0"</c> then the bytes) for a 40-hex etag.
/// </summary>
public sealed class ContentHasher : IDisposable
{
    private readonly IncrementalHash _hash;
    private readonly byte[]? _gitHeader;

    private ContentHasher(HashAlgorithmName algorithm, byte[]? gitHeader)
    {
        _hash = IncrementalHash.CreateHash(algorithm);
        _gitHeader = gitHeader;
        Reset();
    }

    /// <summary>The hasher for <paramref name="etag"/>, or null when the etag is neither a SHA-256 nor a SHA-1.</summary>
    public static ContentHasher? ForEtag(string etag, long size)
    {
        if (Cache.HubCache.IsSha256(etag)) return new ContentHasher(HashAlgorithmName.SHA256, null);
        if (Cache.HubCache.IsSha1(etag)) return new ContentHasher(HashAlgorithmName.SHA1, Encoding.ASCII.GetBytes("blob " + size.ToString(CultureInfo.InvariantCulture) + "\0"));
        return null;
    }

    /// <summary>Name of the algorithm, for messages (<c>sha256</c> or <c>git-sha1</c>).</summary>
    public string AlgorithmName => _gitHeader is null ? "sha256" : "git-sha1";

    /// <summary>Feeds more content.</summary>
    public void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);

    /// <summary>Starts over (the download restarted from byte 0).</summary>
    public void Reset()
    {
        _hash.GetHashAndReset();
        if (_gitHeader is not null) _hash.AppendData(_gitHeader);
    }

    /// <summary>The lowercase hex digest of everything appended; the hasher is reset afterwards.</summary>
    public string FinishHex()
    {
        var hex = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (_gitHeader is not null) _hash.AppendData(_gitHeader);
        return hex;
    }

    /// <summary>Hashes a whole file as <paramref name="etag"/> was computed; null when the etag is not a hash.</summary>
    public static async Task<string?> HashFileAsync(string path, string etag, CancellationToken cancellationToken = default)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan | FileOptions.Asynchronous);
        using var hasher = ForEtag(etag, stream.Length);
        if (hasher is null) return null;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
            }
            return hasher.FinishHex();
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _hash.Dispose();
}
