using System.Buffers;

namespace Adapters.Registry.Endpoints;

/// <summary>
/// Reads an NDJSON body one line at a time with a cap per line, so a single huge line is refused (413)
/// after at most the cap has been buffered, whatever the body's total size. The returned line is valid
/// until the next call.
/// </summary>
internal sealed class NdjsonLineReader(Stream body, long maxLineBytes, string what)
{
    private readonly byte[] _chunk = new byte[64 * 1024];
    private readonly ArrayBufferWriter<byte> _line = new();
    private int _start;
    private int _end;
    private bool _ended;

    /// <summary>The next line without its <c>\n</c> (and <c>\r</c>), or null at the end of the body.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        _line.ResetWrittenCount();
        while (true)
        {
            if (_start == _end)
            {
                if (_ended)
                {
                    // Not a conditional expression: null would convert to an empty ReadOnlyMemory through byte[].
                    if (_line.WrittenCount == 0) return null;
                    return TrimCarriageReturn(_line.WrittenMemory);
                }
                _start = 0;
                _end = await body.ReadAsync(_chunk, cancellationToken).ConfigureAwait(false);
                if (_end == 0) _ended = true;
                continue;
            }
            var available = _chunk.AsSpan(_start, _end - _start);
            var newline = available.IndexOf((byte)'\n');
            var take = newline >= 0 ? newline : available.Length;
            if (_line.WrittenCount + (long)take > maxLineBytes) throw RegistryException.TooLarge($"A line of {what}", maxLineBytes);
            _line.Write(available[..take]);
            _start += newline >= 0 ? take + 1 : take;
            if (newline >= 0) return TrimCarriageReturn(_line.WrittenMemory);
        }
    }

    private static ReadOnlyMemory<byte> TrimCarriageReturn(ReadOnlyMemory<byte> line) =>
        line.Length > 0 && line.Span[^1] == (byte)'\r' ? line[..^1] : line;
}
