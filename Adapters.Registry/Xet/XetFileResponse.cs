using System.Security.Cryptography;
using Adapters.Registry.Endpoints;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Xet;

/// <summary>
/// Sends a Xet-backed file as plain bytes, rebuilt from its xorbs, for clients that do not speak Xet: the same
/// single-range rules as <see cref="RangeResponse"/>. A whole-file answer is hashed while it streams and the
/// connection is aborted if the bytes do not match the SHA-256 the file was registered with, so a client never
/// receives a complete body that is wrong.
/// </summary>
internal static class XetFileResponse
{
    public static async Task SendAsync(HttpContext context, XetStorage storage, XetFileRecord file)
    {
        if (!RangeResponse.TryBegin(context, file.Size, "application/octet-stream", out var offset, out var count)) return;
        if (count != file.Size)
        {
            await storage.CopyRangeAsync(file, offset, count, context.Response.Body, context.RequestAborted).ConfigureAwait(false);
            return;
        }
        await using var hashing = new Sha256CheckingStream(context.Response.Body);
        await storage.CopyRangeAsync(file, 0, file.Size, hashing, context.RequestAborted).ConfigureAwait(false);
        var actual = hashing.Finish();
        if (actual != file.Sha256)
        {
            context.Abort();
            throw new InvalidDataException($"Xet file {file.FileHash} rebuilt to sha256 {actual}, not {file.Sha256}; the download was aborted.");
        }
    }

    /// <summary>Passes writes through to the response while hashing them.</summary>
    private sealed class Sha256CheckingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public string Finish() => Convert.ToHexStringLower(_hash.GetHashAndReset());

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("Only asynchronous writes reach a response body.");

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
