namespace Adapters.Hub.Cache;

/// <summary>
/// An exclusive lock on <c>.locks/&lt;repo folder&gt;/&lt;etag&gt;.lock</c>. On Unix .NET takes it with
/// <c>flock(LOCK_EX)</c> when a file is opened with <see cref="FileShare.None"/>, the same call Python's
/// <c>filelock</c> makes, so .NET and Python processes exclude each other. The lock file is kept, as Python does.
/// </summary>
public sealed class CacheLock : IDisposable
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(50);
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
            try
            {
                return new CacheLock(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException) when (File.Exists(lockPath))
            {
                // Held by another process or another download in this one: wait for it.
                await Task.Delay(s_pollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _stream.Dispose();
}
