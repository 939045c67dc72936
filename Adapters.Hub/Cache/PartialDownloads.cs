namespace Adapters.Hub.Cache;

/// <summary>
/// Partial downloads in <c>blobs/</c>, in both names Python uses: <c>&lt;etag&gt;.incomplete</c> (0.x and this
/// client, resumed across runs) and <c>&lt;etag&gt;.&lt;8 hex&gt;.incomplete</c> (1.18+, one per download).
/// Every writer holds the blob's lock while its partial grows, so a partial whose lock is free is an orphan.
/// </summary>
public static class PartialDownloads
{
    /// <summary>The suffix of every partial download.</summary>
    public const string Suffix = ".incomplete";

    /// <summary>The partial file this client resumes: <c>blobs/&lt;etag&gt;.incomplete</c>.</summary>
    public static string ResumablePath(string blobPath) => blobPath + Suffix;

    /// <summary>
    /// Whether <paramref name="fileName"/> is a partial download in either naming scheme; <paramref name="etag"/>
    /// is the blob it was meant to become.
    /// </summary>
    public static bool TryParse(string fileName, out string etag)
    {
        etag = "";
        if (!fileName.EndsWith(Suffix, StringComparison.Ordinal)) return false;
        var stem = fileName[..^Suffix.Length];
        var dot = stem.LastIndexOf('.');
        if (dot > 0 && stem.Length - dot - 1 == 8 && stem[(dot + 1)..].All(char.IsAsciiHexDigitLower)) stem = stem[..dot];
        if (stem.Length == 0 || stem.Contains('.', StringComparison.Ordinal)) return false;
        etag = stem;
        return true;
    }

    /// <summary>The partials of one blob in <paramref name="blobsFolder"/>, both schemes.</summary>
    public static IReadOnlyList<string> Find(string blobsFolder, string etag)
    {
        if (!Directory.Exists(blobsFolder)) return [];
        return Directory.EnumerateFiles(blobsFolder, etag + ".*")
            .Where(p => TryParse(Path.GetFileName(p), out var e) && e == etag)
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// Called with the blob's lock held: keeps the longest partial (a Python 1.18+ one is renamed to
    /// <see cref="ResumablePath"/>) so the download resumes from it, and deletes the others.
    /// </summary>
    /// <returns>The bytes already present in <see cref="ResumablePath"/>.</returns>
    public static long AdoptOrphans(string blobPath)
    {
        var resumable = ResumablePath(blobPath);
        var partials = Find(Path.GetDirectoryName(blobPath)!, Path.GetFileName(blobPath));
        if (partials.Count == 0) return 0;
        var longest = partials.MaxBy(p => new FileInfo(p).Length)!;
        foreach (var partial in partials)
        {
            if (partial != longest) File.Delete(partial);
        }
        if (longest != resumable) File.Move(longest, resumable, overwrite: true);
        return new FileInfo(resumable).Length;
    }
}
