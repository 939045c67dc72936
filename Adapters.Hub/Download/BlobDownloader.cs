using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Adapters.Hub.Http;
using Microsoft.Extensions.Logging;

namespace Adapters.Hub.Download;

/// <summary>
/// Streams one blob into its <c>.incomplete</c> file while hashing it, resuming with <c>Range</c> after a
/// reset, truncation or stall (and across runs), then checks size and hash before the caller renames it.
/// Network reads and hashing+writing overlap: one chunk is hashed and written while the next arrives.
/// </summary>
internal sealed partial class BlobDownloader(HubConnection connection)
{
    private const int ChunkSize = 1 << 20;

    /// <summary>
    /// Downloads <paramref name="metadata"/>'s content into <paramref name="incompletePath"/> and verifies it
    /// against <paramref name="contentHash"/> (default: the etag when it is a SHA-256 or git SHA-1). After a
    /// hash mismatch the file is deleted and downloaded once more from byte 0 (the first try may have resumed
    /// a partial file that was already wrong); a second mismatch, or a size the server's answers contradict,
    /// deletes the file and throws <see cref="IntegrityException"/>. On an interruption that outlasts the
    /// retries the partial file is kept for the next run to resume.
    /// </summary>
    public async Task DownloadAsync(HubFileMetadata metadata, string incompletePath, string description, Action<long>? onBytes, CancellationToken cancellationToken, string? contentHash = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            long reported = 0;
            void Count(long bytes)
            {
                reported += bytes;
                onBytes?.Invoke(bytes);
            }
            try
            {
                await DownloadOnceAsync(metadata, incompletePath, description, Count, contentHash ?? metadata.Etag, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (IntegrityException ex) when (ex.IsHashMismatch && attempt == 1)
            {
                // The partial file is gone (DownloadOnceAsync deleted it); start over from byte 0 once.
                onBytes?.Invoke(-reported);
                LogRedownload(connection.Logger, description);
            }
        }
    }

    private async Task DownloadOnceAsync(HubFileMetadata metadata, string incompletePath, string description, Action<long> onBytes, string contentHash, CancellationToken cancellationToken)
    {
        var expected = metadata.Size;
        using var hasher = ContentHasher.ForEtag(contentHash, expected);
        using var handle = File.OpenHandle(incompletePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var written = RandomAccess.GetLength(handle);
        if (written > expected)
        {
            RandomAccess.SetLength(handle, 0);
            written = 0;
        }
        if (written > 0 && hasher is not null)
        {
            await HashExistingAsync(handle, written, hasher, cancellationToken).ConfigureAwait(false);
        }
        if (written > 0) onBytes(written);

        var attemptsWithoutProgress = 0;
        var transfer = new TransferState();
        while (written < expected)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var before = written;
            try
            {
                written = await TransferAsync(metadata, handle, written, hasher, onBytes, transfer, cancellationToken).ConfigureAwait(false);
            }
            catch (IntegrityException)
            {
                handle.Dispose();
                File.Delete(incompletePath);
                throw;
            }
            catch (TransferInterruptedException ex)
            {
                // Every received byte was hashed and written before the interruption surfaced, so the
                // file's length is where the next request resumes.
                written = RandomAccess.GetLength(handle);
                attemptsWithoutProgress = written > before ? 0 : attemptsWithoutProgress + 1;
                if (transfer.Restarts > connection.Options.Retry.MaxRetries)
                {
                    // Full bodies that end short, then ranges refused: the server never delivers the announced size.
                    Fail(handle, incompletePath,
                        $"Size mismatch for {description}: the Hub announced {expected} bytes, but {metadata.Location} restarted {transfer.Restarts} times without delivering them ({ex.Message}).",
                        expected.ToString(CultureInfo.InvariantCulture), written.ToString(CultureInfo.InvariantCulture));
                }
                if (attemptsWithoutProgress > connection.Options.Retry.MaxRetries)
                {
                    throw new HubException($"Download of {description} from {metadata.Location} stopped at {written} of {expected} bytes: {ex.Message} (the partial file is kept and the next attempt resumes from it).", ex.InnerException ?? ex);
                }
                await Task.Delay(connection.Options.Retry.BaseDelay, cancellationToken).ConfigureAwait(false);
            }
        }

        if (written != expected)
        {
            Fail(handle, incompletePath, $"Size mismatch for {description}: expected {expected} bytes, received {written}.", expected.ToString(CultureInfo.InvariantCulture), written.ToString(CultureInfo.InvariantCulture));
        }
        if (hasher is not null)
        {
            var actual = hasher.FinishHex();
            if (actual != contentHash)
            {
                LogVerificationFailed(connection.Logger, description, hasher.AlgorithmName, contentHash, actual);
                handle.Dispose();
                File.Delete(incompletePath);
                throw new IntegrityException($"Hash mismatch for {description}: expected {hasher.AlgorithmName} {contentHash}, computed {actual}. The download was discarded.", contentHash, actual)
                {
                    IsHashMismatch = true,
                };
            }
            LogVerified(connection.Logger, description, expected, hasher.AlgorithmName, actual);
        }
        else
        {
            LogSizeOnly(connection.Logger, description, expected);
        }
    }

    /// <summary>How often one download had to throw its bytes away and start from 0; bounded, so a lying server cannot loop it.</summary>
    private sealed class TransferState
    {
        public int Restarts { get; set; }
    }

    private static void Fail(Microsoft.Win32.SafeHandles.SafeFileHandle handle, string path, string message, string expected, string actual)
    {
        handle.Dispose();
        File.Delete(path);
        throw new IntegrityException(message, expected, actual);
    }

    private static async Task HashExistingAsync(Microsoft.Win32.SafeHandles.SafeFileHandle handle, long length, ContentHasher hasher, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            for (long offset = 0; offset < length;)
            {
                var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, (int)Math.Min(ChunkSize, length - offset)), offset, cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                hasher.Append(buffer.AsSpan(0, read));
                offset += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>One GET (ranged when resuming); returns the new length of the file.</summary>
    private async Task<long> TransferAsync(HubFileMetadata metadata, Microsoft.Win32.SafeHandles.SafeFileHandle handle, long written, ContentHasher? hasher, Action<long>? onBytes, TransferState transfer, CancellationToken cancellationToken)
    {
        // A request that never got an answer was already retried by the pipeline: its HubException is final
        // here (the partial file is kept). Only a body that breaks off mid-way is resumed by this class.
        var from = written;
        var response = await connection.SendAsync(HttpMethod.Get, metadata.Location, RedirectPolicy.All, request =>
        {
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
            if (from > 0) request.Headers.Range = new RangeHeaderValue(from, null);
        }, cancellationToken: cancellationToken).ConfigureAwait(false);

        using (response)
        {
            if (written > 0 && response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // "bytes */<length>" says how long the file really is.
                if (response.Content.Headers.ContentRange?.Length is { } actualLength && actualLength != metadata.Size)
                {
                    throw SizeLie(metadata, actualLength, $"refused the range starting at byte {written} with Content-Range '{response.Content.Headers.ContentRange}'");
                }
                var refused = written;
                Restart(handle, hasher, onBytes, ref written, transfer);
                throw new TransferInterruptedException($"{metadata.Location} refused the range starting at byte {refused}; restarting from 0.");
            }
            await HubErrorMap.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
            if (HubConnection.IsRedirect(response.StatusCode))
            {
                throw new HubException($"{metadata.Location} redirected without a Location header.");
            }
            if (written > 0)
            {
                if (response.StatusCode == HttpStatusCode.PartialContent)
                {
                    var range = response.Content.Headers.ContentRange;
                    if (range?.Length is { } total && total != metadata.Size)
                    {
                        throw SizeLie(metadata, total, $"answered Content-Range '{range}'");
                    }
                    if (range?.From != written)
                    {
                        var asked = written;
                        Restart(handle, hasher, onBytes, ref written, transfer);
                        throw new TransferInterruptedException($"{metadata.Location} answered Content-Range '{range}' to a request starting at byte {asked}; restarting from 0.");
                    }
                }
                else
                {
                    // A 200 to a Range request means the server sent everything again.
                    Restart(handle, hasher, onBytes, ref written, transfer);
                }
            }
            if (response.StatusCode != HttpStatusCode.PartialContent && response.Content.Headers.ContentLength is { } fullLength && fullLength != metadata.Size)
            {
                // A whole body whose own length disagrees: resuming or restarting could never end.
                throw SizeLie(metadata, fullLength, "sent a whole body with Content-Length " + fullLength.ToString(CultureInfo.InvariantCulture));
            }
            return await CopyBodyAsync(response, metadata, handle, written, hasher, onBytes, cancellationToken).ConfigureAwait(false);
        }
    }

    private static IntegrityException SizeLie(HubFileMetadata metadata, long actualSize, string what) => new(
        $"Size mismatch: the Hub announced {metadata.Size} bytes for {metadata.Location.GetLeftPart(UriPartial.Path)}, but the server {what}, so the file has {actualSize} bytes. Nothing was kept.",
        metadata.Size.ToString(CultureInfo.InvariantCulture),
        actualSize.ToString(CultureInfo.InvariantCulture));

    private static void Restart(Microsoft.Win32.SafeHandles.SafeFileHandle handle, ContentHasher? hasher, Action<long>? onBytes, ref long written, TransferState transfer)
    {
        transfer.Restarts++;
        RandomAccess.SetLength(handle, 0);
        hasher?.Reset();
        onBytes?.Invoke(-written);
        written = 0;
    }

    private async Task<long> CopyBodyAsync(HttpResponseMessage response, HubFileMetadata metadata, Microsoft.Win32.SafeHandles.SafeFileHandle handle, long written, ContentHasher? hasher, Action<long>? onBytes, CancellationToken cancellationToken)
    {
        var readTimeout = connection.Options.ReadTimeout;
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var current = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var spare = ArrayPool<byte>.Shared.Rent(ChunkSize);
        Task pending = Task.CompletedTask;
        try
        {
            Stream body;
            try
            {
                stall.CancelAfter(readTimeout);
                body = await response.Content.ReadAsStreamAsync(stall.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsInterruption(ex, cancellationToken))
            {
                throw new TransferInterruptedException($"the body of {response.RequestMessage?.RequestUri} could not be opened: {ex.Message}", ex);
            }

            await using (body.ConfigureAwait(false))
            {
                while (true)
                {
                    var filled = 0;
                    var ended = false;
                    Exception? interruption = null;
                    try
                    {
                        // Every read is handed to disk at once, so a process killed mid-body leaves all it
                        // received in the .incomplete file for the next run to resume after.
                        stall.CancelAfter(readTimeout);
                        filled = await body.ReadAsync(current.AsMemory(0, ChunkSize), stall.Token).ConfigureAwait(false);
                        ended = filled == 0;
                    }
                    catch (Exception ex) when (IsInterruption(ex, cancellationToken) || ex is OperationCanceledException)
                    {
                        // Keep what arrived (also when the caller cancels): the next attempt or run resumes after it.
                        interruption = ex;
                    }

                    await pending.ConfigureAwait(false);
                    if (written + filled > metadata.Size)
                    {
                        throw new IntegrityException($"{response.RequestMessage?.RequestUri} sent more than the {metadata.Size} bytes announced for this file.", metadata.Size.ToString(CultureInfo.InvariantCulture), (written + filled).ToString(CultureInfo.InvariantCulture));
                    }
                    if (filled > 0)
                    {
                        var chunk = current;
                        var offset = written;
                        var count = filled;
                        // Hashing and writing the same chunk run side by side, while the next chunk is received.
                        var write = Task.Run(() => RandomAccess.Write(handle, chunk.AsSpan(0, count), offset), CancellationToken.None);
                        pending = hasher is null ? write : Task.WhenAll(write, Task.Run(() => hasher.Append(chunk.AsSpan(0, count)), CancellationToken.None));
                        written += filled;
                        onBytes?.Invoke(filled);
                        (current, spare) = (spare, current);
                    }
                    if (interruption is not null)
                    {
                        await pending.ConfigureAwait(false);
                        cancellationToken.ThrowIfCancellationRequested();
                        var reason = interruption is OperationCanceledException ? $"no data for {readTimeout.TotalSeconds:0.###} s" : interruption.Message;
                        throw new TransferInterruptedException($"the body of {response.RequestMessage?.RequestUri} broke off at byte {written}: {reason}", interruption);
                    }
                    if (ended)
                    {
                        await pending.ConfigureAwait(false);
                        if (written < metadata.Size)
                        {
                            throw new TransferInterruptedException($"the body of {response.RequestMessage?.RequestUri} ended at byte {written} of {metadata.Size}");
                        }
                        return written;
                    }
                }
            }
        }
        finally
        {
            await pending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(spare);
        }
    }

    private static bool IsInterruption(Exception ex, CancellationToken cancellationToken) =>
        ex is IOException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "Verified {Description}: {Size} bytes, {Algorithm} {Hash}")]
    private static partial void LogVerified(ILogger logger, string description, long size, string algorithm, string hash);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "Checked the size of {Description}: {Size} bytes (its etag is not a content hash)")]
    private static partial void LogSizeOnly(ILogger logger, string description, long size);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning, Message = "Hash mismatch for {Description}: deleted the partial file, downloading it once more from byte 0")]
    private static partial void LogRedownload(ILogger logger, string description);

    [LoggerMessage(EventId = 22, Level = LogLevel.Error, Message = "Verification failed for {Description}: expected {Algorithm} {Expected}, computed {Actual}")]
    private static partial void LogVerificationFailed(ILogger logger, string description, string algorithm, string expected, string actual);
}
