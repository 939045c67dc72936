using System.Security.Cryptography;
using Adapters.Hub.Xet;
using Adapters.Hub.Xet.Shards;
using Adapters.Registry.Endpoints;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Xet;

/// <summary>
/// The shard side of the CAS API: <c>POST /v1/shards</c> registers the files a shard describes (after checking every
/// xorb it names is stored and every file rebuilds to its hashes, see <see cref="XetStorage.RegisterFile"/>), and
/// <c>GET /v1/chunks/default/{chunk}</c> answers the global dedupe query with a shard listing the xorb that holds
/// the chunk, its chunk hashes keyed with a fresh HMAC key (so only a client that has a chunk can recognise it).
/// </summary>
internal static class XetShardEndpoint
{
    public static async Task PutShardAsync(HttpContext context, ServeServices services, XetCasGrant grant)
    {
        var body = await XetCasEndpoints.ReadBodyAsync(context, XetShardLimits.Default.MaxSerializedBytes).ConfigureAwait(false);
        XetShard shard;
        try
        {
            shard = XetShardReader.Read(body, "the body of POST /v1/shards");
        }
        catch (XetFormatException ex)
        {
            throw RegistryException.BadRequest(ex.Message);
        }
        foreach (var xorb in shard.Xorbs)
        {
            var stored = services.Xet.Metadata.XorbChunkCount(xorb.XorbHash.ToString())
                ?? throw RegistryException.BadRequest($"The shard lists xorb {xorb.XorbHash}, which was never uploaded (POST /v1/xorbs/default/{xorb.XorbHash} first).");
            if (stored != xorb.Chunks.Count)
            {
                throw RegistryException.BadRequest($"The shard lists xorb {xorb.XorbHash} with {xorb.Chunks.Count} chunks; the stored xorb has {stored}.");
            }
        }
        var registered = 0;
        foreach (var file in shard.Files)
        {
            var terms = file.Segments.Select(s => new XetTermRecord(s.XorbHash.ToString(), s.ChunkIndexStart, s.ChunkIndexEnd, s.UnpackedBytes)).ToList();
            var known = services.Xet.Metadata.FindFile(file.FileHash.ToString()) is not null && services.Xet.Metadata.RepoMayRead(grant.Repo, file.FileHash.ToString());
            services.Xet.RegisterFile(file.FileHash, terms, file.VerificationHashes, file.Sha256, grant.Repo, context.RequestAborted);
            if (!known) registered++;
        }
        // The protocol's UploadShardResponse: 0 when everything was known already, 1 when the shard added something.
        await HttpIo.WriteJsonAsync(context, new { result = registered > 0 ? 1 : 0 }).ConfigureAwait(false);
    }

    /// <summary>Any valid CAS token may ask: the answer lists keyed hashes only, useful to a client that holds the chunk.</summary>
    public static async Task ChunkAsync(HttpContext context, ServeServices services, string chunkHashText)
    {
        XetCasEndpoints.Grant(context, services, Auth.AccessLevel.Read);
        if (!XetHash.TryParse(chunkHashText, out var chunkHash)) throw RegistryException.BadRequest($"'{chunkHashText}' is not a chunk hash: expected 64 hex digits.");
        var found = services.Xet.Metadata.FindChunk(chunkHash.ToString())
            ?? throw new RegistryException(404, null, $"No stored xorb holds chunk {chunkHash}.");
        var info = services.Xet.XorbChunks(found.XorbHash);
        // A fresh key per answer: the listed hashes are useless to anyone who does not already hold the chunks.
        var key = XetHash.FromBytes(RandomNumberGenerator.GetBytes(XetHash.Size));
        var keyed = info with { Chunks = info.Chunks.Select(c => c with { Hash = XetHashing.KeyedChunkHash(c.Hash, key) }).ToList() };
        var now = DateTimeOffset.UtcNow;
        var shard = new XetShard([], [keyed])
        {
            HmacKey = key,
            CreatedUnixSeconds = (ulong)now.ToUnixTimeSeconds(),
            ExpiresUnixSeconds = (ulong)now.Add(services.Options.UrlLifetime).ToUnixTimeSeconds(),
        };
        var bytes = XetShardWriter.Serialize(shard);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method)) await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }
}
