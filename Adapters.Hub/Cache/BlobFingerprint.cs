using Adapters.Hub.IO;
using System.Globalization;
using System.IO.Hashing;

namespace Adapters.Hub.Cache;

/// <summary>
/// A fast re-check of a blob that once passed its full SHA verification: size, modification time and
/// XxHash128 of the content, stored as <c>.locks/&lt;repo folder&gt;/&lt;etag&gt;.verified</c> next to the lock
/// file (Python ignores that folder's content, so the cache stays compatible).
/// </summary>
public static class BlobFingerprint
{
    private const string Prefix = "xxh128 ";

    /// <summary>The fingerprint file of a blob.</summary>
    public static string PathFor(HubCache cache, string repoFolder, string etag) =>
        Path.ChangeExtension(cache.LockPath(repoFolder, etag), ".verified");

    /// <summary>Records that <paramref name="blobPath"/> verified, with the content's XxHash128.</summary>
    public static void Write(string fingerprintPath, string blobPath, string xxHash128Hex)
    {
        var info = new FileInfo(blobPath);
        AtomicFile.WriteAllText(fingerprintPath, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{xxHash128Hex} {info.Length} {info.LastWriteTimeUtc.Ticks}"));
    }

    /// <summary>
    /// True when a fingerprint exists, the size and time still match, and the content's XxHash128 equals
    /// the recorded one; false when there is no usable fingerprint or it does not match.
    /// </summary>
    public static async Task<bool> MatchesAsync(string fingerprintPath, string blobPath, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(fingerprintPath)) return false;
        var parts = (await File.ReadAllTextAsync(fingerprintPath, cancellationToken).ConfigureAwait(false)).Split(' ');
        if (parts.Length != 4 || parts[0] + " " != Prefix) return false;
        var info = new FileInfo(blobPath);
        if (!info.Exists || parts[2] != info.Length.ToString(CultureInfo.InvariantCulture) || parts[3] != info.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)) return false;
        return await HashFileAsync(blobPath, cancellationToken).ConfigureAwait(false) == parts[1];
    }

    /// <summary>XxHash128 of a file, lowercase hex.</summary>
    public static async Task<string> HashFileAsync(string path, CancellationToken cancellationToken = default)
    {
        var hash = new XxHash128();
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        await hash.AppendAsync(stream, cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash.GetCurrentHash());
    }
}
