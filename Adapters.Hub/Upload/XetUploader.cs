using System.Globalization;
using System.Net;
using Adapters.Hub.Download;
using Adapters.Hub.Http;
using Adapters.Hub.Xet;
using Adapters.Hub.Xet.Cas;
using Adapters.Hub.Xet.Dedupe;
using Adapters.Hub.Xet.Shards;
using Microsoft.Extensions.Logging;

namespace Adapters.Hub.Upload;

/// <summary>
/// Uploads LFS files through Xet when the LFS batch answered <c>transfer: "xet"</c>: chunks each file, skips chunks
/// the CAS already has (global dedupe), POSTs the xorbs of the new chunks, then one shard recording every file
/// (terms, verification hashes, SHA-256). The commit that follows names the files by SHA-256 as usual.
/// </summary>
internal sealed partial class XetUploader(HubConnection connection, XetTokenSource tokens, CasClient cas, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>
    /// Uploads <paramref name="files"/> with write tokens from <paramref name="tokenUrl"/> (seeded with
    /// <paramref name="initialToken"/> when the batch answer carried one). Returns what had to be sent.
    /// </summary>
    public async Task<XetDedupeStats> UploadAsync(IReadOnlyList<CommitOperationAdd> files, Uri tokenUrl, XetToken? initialToken,
        ProgressTracker progress, CancellationToken cancellationToken)
    {
        if (initialToken is not null) tokens.Seed(tokenUrl, initialToken);
        var dedupe = new XetDeduplicator(
            new XetChunkIndex(),
            (hash, ct) => WithTokenAsync(tokenUrl, token => cas.QueryChunkAsync(token, hash, ct), ct),
            (xorb, ct) => WithTokenAsync<bool>(tokenUrl, token => cas.UploadXorbAsync(token, xorb.Hash, xorb.Bytes, ct), ct));

        var entries = new List<XetShardFileInfo>(files.Count);
        foreach (var file in files)
        {
            var entry = await dedupe.AddFileAsync(file.OpenRead, file.Fingerprint.Sha256, progress.AddBytes, cancellationToken).ConfigureAwait(false);
            if (entry.Length != file.Fingerprint.Size)
                throw new HubException($"'{file.PathInRepo}' changed while it was uploaded: {entry.Length} bytes chunked, {file.Fingerprint.Size} fingerprinted.");
            entries.Add(entry);
            progress.FileCompleted();
        }

        var shard = new XetShard(entries, dedupe.NewXorbs) { CreatedUnixSeconds = (ulong)_time.GetUtcNow().ToUnixTimeSeconds() };
        var bytes = XetShardWriter.Serialize(shard);
        await WithTokenAsync<bool>(tokenUrl, async token =>
        {
            await cas.UploadShardAsync(token, bytes, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

        var stats = dedupe.Stats;
        LogUploaded(connection.Logger, files.Count, stats.FileBytes, stats.NewChunkBytes, stats.Xorbs, stats.XorbBytes, bytes.Length,
            stats.FileBytes == 0 ? "0" : (100.0 * stats.XorbBytes / stats.FileBytes).ToString("F2", CultureInfo.InvariantCulture));
        return stats;
    }

    /// <summary>Runs a CAS call with a fresh token; a 401 (the token expired early) gets one new token.</summary>
    private async Task<T> WithTokenAsync<T>(Uri tokenUrl, Func<XetToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var token = await tokens.GetAsync(tokenUrl, cancellationToken).ConfigureAwait(false);
            try
            {
                return await call(token).ConfigureAwait(false);
            }
            catch (HubHttpException ex) when (ex.StatusCode is HttpStatusCode.Unauthorized && attempt == 1)
            {
                tokens.Invalidate(tokenUrl);
            }
        }
    }

    [LoggerMessage(EventId = 50, Level = LogLevel.Information,
        Message = "Xet upload of {Files} file(s), {Bytes} bytes: {NewBytes} bytes in new chunks, {Xorbs} xorb(s) of {XorbBytes} bytes ({Percent} %), shard of {ShardBytes} bytes")]
    private static partial void LogUploaded(ILogger logger, int files, long bytes, long newBytes, int xorbs, long xorbBytes, int shardBytes, string percent);
}
