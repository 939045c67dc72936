using System.Runtime.InteropServices;
using System.Text;
using Adapters.Hub.Text;

namespace Adapters.Hub.IO;

/// <summary>How far a write must have reached before <see cref="AtomicFile"/> returns.</summary>
internal enum WriteDurability
{
    /// <summary>Readers see the old file or the complete new one; a power loss may still lose the new one.</summary>
    Visible,

    /// <summary>The new content is on the disk (fsync) before it is renamed into place.</summary>
    FileOnDisk,

    /// <summary>As <see cref="FileOnDisk"/>, and the rename itself is on the disk (the folder is fsynced), for files a restart must find.</summary>
    FileAndFolderOnDisk,
}

/// <summary>
/// The one way this project writes a file: the bytes go to a temporary file with a unique name in the target's
/// folder, are flushed (to the disk where <see cref="WriteDurability"/> asks for it), and are renamed over the
/// target; a reader sees the old file or the new one, never half a file, two writers never share a temporary
/// file, and a failure deletes the temporary file. The last rename wins when writers race.
/// </summary>
/// <remarks>
/// This source file is compiled into Adapters.Hub and linked into Adapters.Core and the CLI as an internal
/// type, so that every project uses the same code without making it public API.
/// </remarks>
internal static class AtomicFile
{
    private const string TempSuffix = ".tmp";

    /// <summary>Runs <paramref name="write"/> on a temporary file next to <paramref name="path"/>, then renames it over <paramref name="path"/>.</summary>
    /// <param name="path">The file to create or replace; its folder is created when missing.</param>
    /// <param name="write">Writes the whole content; an exception leaves <paramref name="path"/> as it was.</param>
    /// <param name="durability">Whether to fsync the file (and its folder) before returning.</param>
    /// <param name="unixMode">The permissions of the new file on Unix (default: 0666 less the umask).</param>
    public static void Write(string path, Action<FileStream> write, WriteDurability durability = WriteDurability.Visible, UnixFileMode? unixMode = null)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = PrepareTarget(path, out var createdFolders);
        var temp = TempPathFor(full);
        try
        {
            using (var stream = new FileStream(temp, CreateOptions(unixMode, FileOptions.None)))
            {
                write(stream);
                stream.Flush(flushToDisk: durability != WriteDurability.Visible);
            }
            Commit(temp, full, durability);
        }
        catch
        {
            DeleteQuietly(temp);
            RemoveFolders(createdFolders);
            throw;
        }
    }

    /// <summary>The asynchronous form of <see cref="Write"/>.</summary>
    public static async Task WriteAsync(
        string path,
        Func<FileStream, CancellationToken, Task> write,
        WriteDurability durability = WriteDurability.Visible,
        UnixFileMode? unixMode = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = PrepareTarget(path, out var createdFolders);
        var temp = TempPathFor(full);
        try
        {
            var stream = new FileStream(temp, CreateOptions(unixMode, FileOptions.Asynchronous));
            await using (stream.ConfigureAwait(false))
            {
                await write(stream, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (durability != WriteDurability.Visible) stream.Flush(flushToDisk: true);
            }
            Commit(temp, full, durability);
        }
        catch
        {
            DeleteQuietly(temp);
            RemoveFolders(createdFolders);
            throw;
        }
    }

    /// <summary>Writes <paramref name="content"/> as the whole file.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content, WriteDurability durability = WriteDurability.Visible, UnixFileMode? unixMode = null)
    {
        var copy = content.ToArray();
        Write(path, stream => stream.Write(copy), durability, unixMode);
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte order mark, as Python writes text files.</summary>
    public static void WriteAllText(string path, string text, WriteDurability durability = WriteDurability.Visible, UnixFileMode? unixMode = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        WriteAllBytes(path, s_utf8.GetBytes(text), durability, unixMode);
    }

    /// <summary>The asynchronous form of <see cref="WriteAllBytes"/>.</summary>
    public static Task WriteAllBytesAsync(string path, ReadOnlyMemory<byte> content, WriteDurability durability = WriteDurability.Visible, CancellationToken cancellationToken = default) =>
        WriteAsync(path, (stream, ct) => stream.WriteAsync(content, ct).AsTask(), durability, cancellationToken: cancellationToken);

    /// <summary>The asynchronous form of <see cref="WriteAllText"/>.</summary>
    public static Task WriteAllTextAsync(string path, string text, WriteDurability durability = WriteDurability.Visible, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WriteAllBytesAsync(path, s_utf8.GetBytes(text), durability, cancellationToken);
    }

    /// <summary>
    /// For writers that need a path rather than a stream (a library that saves to a file name, a download that is
    /// verified after it is complete): <paramref name="write"/> creates the file at the temporary path it is given,
    /// which is then renamed over <paramref name="path"/> as <see cref="Write"/> does.
    /// </summary>
    public static async Task WriteThroughPathAsync(
        string path,
        Func<string, CancellationToken, Task> write,
        WriteDurability durability = WriteDurability.Visible,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = PrepareTarget(path, out var createdFolders);
        var temp = TempPathFor(full);
        try
        {
            await write(temp, cancellationToken).ConfigureAwait(false);
            if (durability != WriteDurability.Visible) FlushToDisk(temp);
            Commit(temp, full, durability);
        }
        catch
        {
            DeleteQuietly(temp);
            RemoveFolders(createdFolders);
            throw;
        }
    }

    /// <summary>The synchronous form of <see cref="WriteThroughPathAsync"/>.</summary>
    public static void WriteThroughPath(string path, Action<string> write, WriteDurability durability = WriteDurability.Visible)
    {
        ArgumentNullException.ThrowIfNull(write);
        WriteThroughPathAsync(path, (temp, _) =>
        {
            write(temp);
            return Task.CompletedTask;
        }, durability).GetAwaiter().GetResult();
    }

    /// <summary>
    /// A fresh temporary name beside <paramref name="path"/>: hidden, unique per call (so concurrent writers never
    /// share one) and ending in <c>.tmp</c>, so cache and registry scans recognise and skip it.
    /// </summary>
    public static string TempPathFor(string path)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full) ?? ".";
        return Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{TempSuffix}");
    }

    /// <summary>Makes the entries of <paramref name="folder"/> (creations, renames) durable; a no-op where folders cannot be synced (Windows).</summary>
    public static void SyncFolder(string folder)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = NativeMethods.open(folder, NativeMethods.ReadOnly);
        if (fd < 0) throw new IOException($"Cannot open the folder '{folder}' to sync it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (NativeMethods.fsync(fd) != 0) throw new IOException($"Cannot sync the folder '{folder}' (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            _ = NativeMethods.close(fd);
        }
    }

    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private static string PrepareTarget(string path, out List<string> createdFolders)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        CheckLength(full);
        createdFolders = CreateFolders(Path.GetDirectoryName(full) ?? ".");
        return full;
    }

    /// <summary>
    /// Refuses, before anything is created, a path the file system would refuse half way down (a server or an
    /// archive can name one): longer than PATH_MAX, or with a name longer than NAME_MAX.
    /// </summary>
    private static void CheckLength(string full)
    {
        if (OperatingSystem.IsWindows()) return;
        var maxPath = OperatingSystem.IsMacOS() ? 1023 : 4095;
        var bytes = Encoding.UTF8.GetByteCount(full);
        var longestName = full.Split(Path.DirectorySeparatorChar).Max(Encoding.UTF8.GetByteCount);
        if (bytes > maxPath || longestName > MaxNameBytes)
        {
            throw new PathTooLongException(
                $"The path {SafeText.Quote(full)} is longer than the file system allows ({bytes} bytes, longest name {longestName}; at most {maxPath} and {MaxNameBytes}).");
        }
    }

    private const int MaxNameBytes = 255;

    /// <summary>
    /// Creates the missing folders of <paramref name="folder"/> and returns them, outermost first, so that a
    /// failure (a path the file system refuses half way down, a writer that throws) can remove them again
    /// instead of leaving a trail of empty folders.
    /// </summary>
    private static List<string> CreateFolders(string folder)
    {
        var missing = new List<string>();
        for (var current = folder; !string.IsNullOrEmpty(current) && !Directory.Exists(current); current = Path.GetDirectoryName(current))
        {
            missing.Add(current);
        }
        missing.Reverse();
        if (missing.Count == 0) return missing;
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch
        {
            RemoveFolders(missing);
            throw;
        }
        return missing;
    }

    /// <summary>Removes the folders this write created, deepest first, as long as they are empty (another writer may have filled one).</summary>
    private static void RemoveFolders(List<string> created)
    {
        for (var i = created.Count - 1; i >= 0; i--)
        {
            try
            {
                Directory.Delete(created[i], recursive: false);
            }
            catch (DirectoryNotFoundException)
            {
                // Creation stopped above this one.
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    private static FileStreamOptions CreateOptions(UnixFileMode? unixMode, FileOptions options)
    {
        var result = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 1 << 16,
            Options = options,
        };
        if (unixMode is { } mode && !OperatingSystem.IsWindows()) result.UnixCreateMode = mode;
        return result;
    }

    private static void Commit(string temp, string full, WriteDurability durability)
    {
        File.Move(temp, full, overwrite: true);
        if (durability == WriteDurability.FileAndFolderOnDisk) SyncFolder(Path.GetDirectoryName(full) ?? ".");
    }

    private static void FlushToDisk(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        stream.Flush(flushToDisk: true);
    }

    private static void DeleteQuietly(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The original failure is the one to report.
        }
    }

    private static class NativeMethods
    {
        public const int ReadOnly = 0;

#pragma warning disable SYSLIB1054 // A plain DllImport keeps this file free of source generators, so it can be linked anywhere.
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
#pragma warning restore SYSLIB1054
    }
}
