namespace Adapters.Hub.Cache;

/// <summary>
/// An exclusive lock on <c>.locks/&lt;repo folder&gt;/&lt;etag&gt;.lock</c>. On Unix .NET takes it with
/// <c>flock(LOCK_EX)</c> when a file is opened with <see cref="FileShare.None"/>, the same call Python's
/// <c>filelock</c> makes, so .NET and Python processes exclude each other. The lock file is kept, as Python does,
/// with mode 0664 (Python 1.4+), so that a cache shared by a group stays lockable by every member.
/// </summary>
public sealed class CacheLock : IDisposable
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>rw-rw-r--: what Python's <c>filelock.FileLock(path, mode=0o664)</c> gives a lock file.</summary>
    public const UnixFileMode LockFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead;
    private readonly FileStream _stream;

    private CacheLock(FileStream stream) => _stream = stream;

    /// <summary>The lock file.</summary>
    public string Path => _stream.Name;

    /// <summary>Waits until the lock is free, then holds it until disposed.</summary>
    public static async Task<CacheLock> AcquireAsync(string lockPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lockPath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(lockPath)!);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryAcquire(lockPath) is { } held) return held;
            // Held by another process or another download in this one: wait for it.
            await Task.Delay(s_pollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Takes the lock if it is free; null when another download holds it.</summary>
    public static CacheLock? TryAcquire(string lockPath)
    {
        ArgumentNullException.ThrowIfNull(lockPath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(lockPath)!);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 1 };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = LockFileMode;
            var stream = new FileStream(lockPath, options);
            ApplyLockFileMode(stream);
            return new CacheLock(stream);
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            return null;
        }
    }

    /// <summary>
    /// The creation mode is narrowed by the umask, so the mode is set again on the open handle, as
    /// <c>filelock</c> does with <c>fchmod</c>; a lock file owned by another user keeps its mode.
    /// </summary>
    private static void ApplyLockFileMode(FileStream stream)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            if (File.GetUnixFileMode(stream.SafeFileHandle) != LockFileMode) File.SetUnixFileMode(stream.SafeFileHandle, LockFileMode);
        }
        catch (UnauthorizedAccessException)
        {
            // Not ours: the owner chose its mode.
        }
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();
}
