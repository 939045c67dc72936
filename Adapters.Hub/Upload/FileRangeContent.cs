using System.Buffers;
using System.Net;
using System.Net.Http.Headers;

namespace Adapters.Hub.Upload;

/// <summary>
/// A byte range of an upload's content as an HTTP body. Every serialization reopens the source, so the
/// retry pipeline can resend the same request, and only a small buffer is ever in memory.
/// </summary>
internal sealed class FileRangeContent : HttpContent
{
    private const int BufferSize = 1 << 20;

    private readonly CommitOperationAdd _file;
    private readonly long _offset;
    private readonly long _length;
    private readonly Action<long>? _onBytes;
    private long _reported;

    public FileRangeContent(CommitOperationAdd file, long offset, long length, Action<long>? onBytes)
    {
        _file = file;
        _offset = offset;
        _length = length;
        _onBytes = onBytes;
        Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        // A resend (the retry pipeline re-serializes the same request) starts the count over.
        RetractReported();
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var source = _file.OpenRead();
            source.Seek(_offset, SeekOrigin.Begin);
            long remaining = _length;
            while (remaining > 0)
            {
                var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"'{_file.LocalPath ?? _file.PathInRepo}' ended {remaining} bytes early while uploading; was it changed during the upload?");
                }
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                remaining -= read;
                _reported += read;
                _onBytes?.Invoke(read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Takes back the bytes reported so far, for an attempt that failed.</summary>
    public void RetractReported()
    {
        if (_reported == 0) return;
        _onBytes?.Invoke(-_reported);
        _reported = 0;
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
