using System.Buffers;
using System.Globalization;
using System.Net;
using Adapters.Hub.Http;
using Adapters.Hub.Xet;
using Adapters.Hub.Xet.Cas;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Adapters.Hub.Download;

/// <summary>
/// Downloads a Xet-stored file through reconstruction into its <c>.incomplete</c> file: a read token from the Hub,
/// the file's terms from the CAS, the xorb byte ranges they need fetched in parallel (each range once, however many
/// terms use it), decompressed and written in file order. Every chunk is hashed and the chunk hashes must give the
/// file's Xet hash; the bytes must give its SHA-256. An interrupted download resumes after the last complete term.
/// </summary>
internal sealed partial class XetFileDownloader(HubConnection connection, XetTokenSource tokens, CasClient cas)
{
    private const int ReadBlock = 1 << 20;

    /// <summary>
    /// Downloads <paramref name="metadata"/> (which must carry Xet headers) into <paramref name="incompletePath"/>,
    /// verified against <paramref name="contentHash"/> (default: the etag) and the Xet file hash. A mismatch after
    /// resuming a partial file deletes it and downloads once more from byte 0; a second one throws
    /// <see cref="IntegrityException"/>.
    /// </summary>
    public async Task DownloadAsync(HubFileMetadata metadata, string incompletePath, string description, Action<long>? onBytes,
        CancellationToken cancellationToken, string? contentHash = null)
    {
        if (!metadata.IsXet) throw new ArgumentException("The file has no Xet hash or token URL.", nameof(metadata));
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
                onBytes?.Invoke(-reported);
                LogRedownload(connection.Logger, description);
            }
        }
    }

    private async Task DownloadOnceAsync(HubFileMetadata metadata, string incompletePath, string description, Action<long> onBytes,
        string contentHash, CancellationToken cancellationToken)
    {
        var fileHash = metadata.XetFileHash!.Value;
        var (token, reconstruction) = await ReconstructionAsync(metadata.XetAuthUrl!, fileHash, cancellationToken).ConfigureAwait(false);
        var terms = reconstruction.Terms;
        var ends = new long[terms.Count];
        long total = 0;
        for (var i = 0; i < terms.Count; i++) ends[i] = total += terms[i].UnpackedLength;
        if (reconstruction.OffsetIntoFirstRange != 0 || total != metadata.Size)
            throw new IntegrityException(
                $"Size mismatch for {description}: the Hub announced {metadata.Size} bytes, but the reconstruction of Xet file {fileHash} covers {total} bytes from offset {reconstruction.OffsetIntoFirstRange}.",
                metadata.Size.ToString(CultureInfo.InvariantCulture), total.ToString(CultureInfo.InvariantCulture));

        using var sha = ContentHasher.ForEtag(contentHash, metadata.Size);
        var chunks = new XetChunkHasher();
        using var handle = File.OpenHandle(incompletePath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        // Resume after the last term that is wholly on disk; a term cut off mid-way is fetched again.
        var existing = RandomAccess.GetLength(handle);
        var firstTerm = 0;
        while (firstTerm < terms.Count && ends[firstTerm] <= existing) firstTerm++;
        var resumeAt = firstTerm == 0 ? 0 : ends[firstTerm - 1];
        RandomAccess.SetLength(handle, resumeAt);
        if (resumeAt > 0)
        {
            // The prefix is re-read for the SHA-256 and re-chunked for the chunk hashes: content-defined chunking of
            // the file from its start cuts the prefix where the uploader did, since every term ends on a chunk end.
            await ReadPrefixAsync(handle, resumeAt, sha, chunks, cancellationToken).ConfigureAwait(false);
            onBytes(resumeAt);
            LogResumed(connection.Logger, description, resumeAt, firstTerm, terms.Count);
        }
        chunks.Complete();

        try
        {
            await FetchTermsAsync(token, reconstruction, firstTerm, ends, handle, sha, chunks.Chunks, onBytes, description, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is XetFormatException or IntegrityException)
        {
            // Bytes that contradict the protocol are not kept for a resume.
            handle.Dispose();
            File.Delete(incompletePath);
            throw;
        }

        var actualFileHash = XetHashing.FileHash(chunks.Chunks);
        if (actualFileHash != fileHash)
        {
            handle.Dispose();
            File.Delete(incompletePath);
            throw new IntegrityException(
                $"Hash mismatch for {description}: the chunks received hash to Xet file hash {actualFileHash}, expected {fileHash}. The download was discarded.",
                fileHash.ToString(), actualFileHash.ToString()) { IsHashMismatch = true };
        }
        if (sha is not null)
        {
            var actual = sha.FinishHex();
            if (actual != contentHash)
            {
                handle.Dispose();
                File.Delete(incompletePath);
                throw new IntegrityException(
                    $"Hash mismatch for {description}: expected {sha.AlgorithmName} {contentHash}, computed {actual}. The download was discarded.",
                    contentHash, actual) { IsHashMismatch = true };
            }
        }
        LogVerified(connection.Logger, description, metadata.Size, terms.Count - firstTerm, fileHash.ToString());
    }

    private async Task<(XetToken Token, XetReconstruction Reconstruction)> ReconstructionAsync(Uri tokenUrl, XetHash fileHash, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var token = await tokens.GetAsync(tokenUrl, cancellationToken).ConfigureAwait(false);
            try
            {
                return (token, await cas.GetReconstructionAsync(token, fileHash, cancellationToken).ConfigureAwait(false));
            }
            catch (HubHttpException ex) when (ex.StatusCode is HttpStatusCode.Unauthorized && attempt == 1)
            {
                // The CAS may have revoked the token early; one fresh token, then the error stands.
                tokens.Invalidate(tokenUrl);
            }
        }
    }

    private static async Task ReadPrefixAsync(SafeFileHandle handle, long length, ContentHasher? sha, XetChunkHasher chunks, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBlock);
        try
        {
            for (long offset = 0; offset < length;)
            {
                var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, (int)Math.Min(ReadBlock, length - offset)), offset, cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                sha?.Append(buffer.AsSpan(0, read));
                chunks.Append(buffer.AsSpan(0, read));
                offset += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Fetches terms from <paramref name="firstTerm"/> on, up to <see cref="HubClientOptions.MaxConcurrency"/> ahead
    /// of the one being written, and writes each in order once it is decoded and hashed.
    /// </summary>
    private async Task FetchTermsAsync(XetToken token, XetReconstruction reconstruction, int firstTerm, long[] ends, SafeFileHandle handle,
        ContentHasher? sha, List<XetChunkInfo> chunkInfos, Action<long> onBytes, string description, CancellationToken cancellationToken)
    {
        var terms = reconstruction.Terms;
        // How many of the remaining terms read each fetched range, so a range is dropped once its last reader is done.
        var readers = new Dictionary<XetFetchInfo, int>(ReferenceEqualityComparer.Instance);
        for (var i = firstTerm; i < terms.Count; i++)
        {
            var fetch = reconstruction.FetchFor(terms[i]);
            readers[fetch] = readers.GetValueOrDefault(fetch) + 1;
        }
        var ranges = new Dictionary<XetFetchInfo, Task<List<byte[]>>>(ReferenceEqualityComparer.Instance);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var window = new Queue<Task<TermData>>();
        var ahead = Math.Max(1, connection.Options.MaxConcurrency);
        var next = firstTerm;
        try
        {
            for (var i = firstTerm; i < terms.Count; i++)
            {
                while (next < terms.Count && window.Count < ahead)
                {
                    var term = terms[next];
                    var fetch = reconstruction.FetchFor(term);
                    if (!ranges.TryGetValue(fetch, out var range))
                    {
                        ranges[fetch] = range = Task.Run(() => FetchRangeAsync(token, fetch, stop.Token), stop.Token);
                    }
                    window.Enqueue(DecodeTermAsync(term, fetch, range, next, description));
                    next++;
                }
                var data = await window.Dequeue().ConfigureAwait(false);
                var termFetch = reconstruction.FetchFor(terms[i]);
                if ((readers[termFetch] -= 1) == 0) ranges.Remove(termFetch);

                var offset = i == 0 ? 0 : ends[i - 1];
                foreach (var chunk in data.Chunks)
                {
                    await RandomAccess.WriteAsync(handle, chunk, offset, cancellationToken).ConfigureAwait(false);
                    sha?.Append(chunk);
                    offset += chunk.Length;
                }
                chunkInfos.AddRange(data.Infos);
                onBytes(terms[i].UnpackedLength);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var pending in window)
            {
                try
                {
                    await pending.ConfigureAwait(false);
                }
                catch (Exception)
                {
                    // Already failing or cancelled; the first error is the one that propagates.
                }
            }
        }
    }

    private sealed record TermData(List<byte[]> Chunks, List<XetChunkInfo> Infos);

    private async Task<List<byte[]>> FetchRangeAsync(XetToken token, XetFetchInfo fetch, CancellationToken cancellationToken)
    {
        byte[] bytes;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                bytes = await cas.GetXorbRangeAsync(token, fetch, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (TransferInterruptedException ex)
            {
                // The request itself was retried by the pipeline; a body that breaks off is retried here.
                if (attempt >= connection.Options.Retry.MaxRetries)
                    throw new HubException($"{ex.Message} ({attempt + 1} attempts; the complete terms already written are kept for a resume).", ex);
                await Task.Delay(connection.Options.Retry.BaseDelay, cancellationToken).ConfigureAwait(false);
            }
        }
        var source = $"{SecretRedactor.Redact(fetch.Url)} bytes {fetch.ByteStart}-{fetch.ByteEndInclusive}";
        var chunks = XorbReader.ReadChunks(bytes, source);
        if (chunks.Count != fetch.ChunkEnd - fetch.ChunkStart)
            throw new XetFormatException($"{source}: holds {chunks.Count} chunks; the reconstruction says chunks [{fetch.ChunkStart}, {fetch.ChunkEnd}).");
        return chunks;
    }

    private static async Task<TermData> DecodeTermAsync(XetReconstructionTerm term, XetFetchInfo fetch, Task<List<byte[]>> range, int index, string description)
    {
        var all = await range.ConfigureAwait(false);
        return await Task.Run(() =>
        {
            var chunks = all.GetRange(term.ChunkStart - fetch.ChunkStart, term.ChunkEnd - term.ChunkStart);
            long length = 0;
            var infos = new List<XetChunkInfo>(chunks.Count);
            foreach (var chunk in chunks)
            {
                infos.Add(new XetChunkInfo(XetHashing.ChunkHash(chunk), chunk.Length));
                length += chunk.Length;
            }
            if (length != term.UnpackedLength)
                throw new IntegrityException(
                    $"Size mismatch for {description}: term {index} (xorb {term.XorbHash}, chunks [{term.ChunkStart}, {term.ChunkEnd})) decoded to {length} bytes, the reconstruction says {term.UnpackedLength}.",
                    term.UnpackedLength.ToString(CultureInfo.InvariantCulture), length.ToString(CultureInfo.InvariantCulture));
            return new TermData(chunks, infos);
        }).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 40, Level = LogLevel.Warning, Message = "Xet download of {File} failed verification after resuming; downloading it again from byte 0")]
    private static partial void LogRedownload(ILogger logger, string file);

    [LoggerMessage(EventId = 41, Level = LogLevel.Information, Message = "Resuming Xet download of {File} at byte {Offset} (term {Term} of {Terms})")]
    private static partial void LogResumed(ILogger logger, string file, long offset, int term, int terms);

    [LoggerMessage(EventId = 42, Level = LogLevel.Debug, Message = "Xet download of {File} verified: {Bytes} bytes, {Terms} terms fetched, file hash {FileHash}")]
    private static partial void LogVerified(ILogger logger, string file, long bytes, int terms, string fileHash);
}
