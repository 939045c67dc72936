using Adapters.Hub.Text;
using Adapters.Hub.IO;
using System.IO.Compression;

namespace Adapters.Hub.Legacy.Migration;

/// <summary>
/// Extracts a legacy adapter zip the way Python's <c>download_cached</c> did (members flattened to their file
/// names, folders dropped), but refuses hostile archives instead of trusting them: absolute paths and <c>..</c>
/// segments are rejected, and entry count and inflated sizes are capped while the bytes are read.
/// </summary>
public static class LegacyArchiveExtractor
{
    /// <summary>Extracts <paramref name="zipPath"/> into <paramref name="destination"/> (created if needed) and returns the file names written.</summary>
    /// <exception cref="LegacyArchiveException">The zip is not a zip, holds an unsafe path, or exceeds <paramref name="limits"/>.</exception>
    public static async Task<IReadOnlyList<string>> ExtractAsync(string zipPath, string destination, ArchiveLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(zipPath);
        ArgumentException.ThrowIfNullOrEmpty(destination);
        limits ??= new ArchiveLimits();
        Directory.CreateDirectory(destination);
        var root = Path.GetFullPath(destination);

        ZipArchive archive;
        try
        {
            archive = await ZipArchive.CreateAsync(File.OpenRead(zipPath), ZipArchiveMode.Read, leaveOpen: false, entryNameEncoding: null, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw new LegacyArchiveException(zipPath, "not a zip archive", ex);
        }
        await using (archive.ConfigureAwait(false))
        {
            if (archive.Entries.Count > limits.MaxEntries)
            {
                throw new LegacyArchiveException(zipPath, $"{archive.Entries.Count} entries exceed the limit of {limits.MaxEntries}");
            }
            var written = new List<string>();
            long total = 0;
            foreach (var entry in archive.Entries)
            {
                var name = entry.FullName.Replace('\\', '/');
                var segments = name.Split('/');
                if (name.StartsWith('/') || (name.Length > 1 && name[1] == ':') || segments.Any(s => s == ".."))
                {
                    throw new LegacyArchiveException(zipPath, $"entry {SafeText.Quote(entry.FullName)} points outside the extraction folder");
                }
                if (name.EndsWith('/')) continue;
                var fileName = segments[^1];
                if (fileName.Length == 0 || fileName == ".") continue;
                var target = Path.GetFullPath(Path.Combine(root, fileName));
                if (!target.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    throw new LegacyArchiveException(zipPath, $"entry {SafeText.Quote(entry.FullName)} points outside the extraction folder");
                }
                long entryBytes = 0;
                var source = await entry.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using (source.ConfigureAwait(false))
                {
                    // As in Python, a later member with the same file name replaces an earlier one.
                    await AtomicFile.WriteAsync(target, async (output, ct) =>
                    {
                        var buffer = new byte[81920];
                        int read;
                        while ((read = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
                        {
                            entryBytes += read;
                            total += read;
                            if (entryBytes > limits.MaxEntryBytes)
                            {
                                throw new LegacyArchiveException(zipPath, $"entry {SafeText.Quote(entry.FullName)} inflates past the limit of {limits.MaxEntryBytes} bytes");
                            }
                            if (total > limits.MaxTotalBytes)
                            {
                                throw new LegacyArchiveException(zipPath, $"the archive inflates past the limit of {limits.MaxTotalBytes} bytes");
                            }
                            await output.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
                        }
                    }, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                if (!written.Contains(fileName, StringComparer.Ordinal)) written.Add(fileName);
            }
            return written;
        }
    }
}
