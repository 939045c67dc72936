using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Adapters.Hub.Upload;

/// <summary>
/// Adds or replaces a file. The content comes from a local file or from memory and is read again for
/// each upload attempt, so a retried request sends the same bytes and a large file is never held in memory.
/// </summary>
public sealed class CommitOperationAdd : CommitOperation
{
    /// <summary>Bytes of the file start that preupload sends, so the Hub can sniff text versus binary.</summary>
    internal const int SampleSize = 512;

    /// <summary>Regular (non-LFS) files above this size are refused by the Hub, so no git SHA-1 is needed for them.</summary>
    private const long MaxRegularFileSize = 10L * 1024 * 1024;

    private readonly string? _localPath;
    private readonly byte[]? _content;
    private UploadFingerprint? _fingerprint;

    internal CommitOperationAdd(string pathInRepo, string localPath)
        : base(pathInRepo)
    {
        ArgumentException.ThrowIfNullOrEmpty(localPath);
        if (!File.Exists(localPath)) throw new FileNotFoundException($"Cannot upload '{localPath}' as '{PathInRepo}': the file does not exist.", localPath);
        _localPath = Path.GetFullPath(localPath);
    }

    internal CommitOperationAdd(string pathInRepo, byte[] content)
        : base(pathInRepo)
    {
        ArgumentNullException.ThrowIfNull(content);
        _content = content;
    }

    /// <summary>The local file the content comes from, or null for in-memory content.</summary>
    public string? LocalPath => _localPath;

    /// <summary>Size and hashes, once <see cref="ComputeFingerprintAsync"/> has run.</summary>
    public UploadFingerprint Fingerprint => _fingerprint ?? throw new InvalidOperationException($"The fingerprint of '{PathInRepo}' has not been computed yet.");

    /// <summary>Opens the content for reading from the start.</summary>
    public Stream OpenRead() => _content is not null
        ? new MemoryStream(_content, writable: false)
        : new FileStream(_localPath!, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>
    /// Reads the content once, computing its size, SHA-256 (the LFS oid), the git blob SHA-1 for files
    /// small enough to be regular files, and the preupload sample.
    /// </summary>
    public async Task<UploadFingerprint> ComputeFingerprintAsync(CancellationToken cancellationToken = default)
    {
        if (_fingerprint is not null) return _fingerprint;
        await using var stream = OpenRead();
        var length = stream.Length;
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var gitSha1 = length <= MaxRegularFileSize ? IncrementalHash.CreateHash(HashAlgorithmName.SHA1) : null;
        gitSha1?.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"blob {length}\0")));

        var sample = new byte[(int)Math.Min(SampleSize, length)];
        var buffer = new byte[1 << 20];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (total < sample.Length)
            {
                Array.Copy(buffer, 0, sample, (int)total, (int)Math.Min(read, sample.Length - total));
            }
            sha256.AppendData(buffer, 0, read);
            gitSha1?.AppendData(buffer, 0, read);
            total += read;
        }
        if (total != length)
        {
            throw new IOException($"'{_localPath ?? PathInRepo}' changed size while it was being hashed ({length} bytes expected, {total} read).");
        }
        _fingerprint = new UploadFingerprint(
            total,
            Convert.ToHexStringLower(sha256.GetHashAndReset()),
            gitSha1 is null ? null : Convert.ToHexStringLower(gitSha1.GetHashAndReset()),
            sample);
        return _fingerprint;
    }
}
