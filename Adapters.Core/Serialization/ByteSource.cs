using System.IO.MemoryMappedFiles;

namespace Adapters.Core.Serialization;

/// <summary>Random access to the bytes of a tensor file: a memory map of the file, or an array in memory.</summary>
internal abstract class ByteSource : IDisposable
{
    /// <summary>The file the bytes came from, or null.</summary>
    public string? Path { get; init; }

    /// <summary>Total length in bytes.</summary>
    public abstract long Length { get; }

    /// <summary>Copies <c>destination.Length</c> bytes starting at <paramref name="offset"/>.</summary>
    public abstract void Read(long offset, Span<byte> destination);

    /// <summary>Whether <c>[offset, offset + count)</c> lies inside the source.</summary>
    public bool Contains(long offset, long count) => offset >= 0 && count >= 0 && offset <= Length && count <= Length - offset;

    /// <summary>Reads a range into a new array, failing with a typed error when the range is outside the data.</summary>
    public byte[] ReadArray(long offset, long count, string what)
    {
        if (!Contains(offset, count))
            throw Error($"{what} at offset {offset} with {count} bytes lies outside the file ({Length} bytes)");
        if (count > Array.MaxLength)
            throw Error($"{what} is too large to read into memory ({count} bytes)");
        var result = GC.AllocateUninitializedArray<byte>((int)count);
        Read(offset, result);
        return result;
    }

    /// <summary>A format error naming this source's file.</summary>
    public TensorFormatException Error(string problem, Exception? inner = null) => new(Path, problem, inner);

    /// <summary>Maps <paramref name="path"/> read-only; an empty file becomes an empty array.</summary>
    public static ByteSource OpenFile(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TensorFormatException(path, $"cannot open: {ex.Message}", ex);
        }
        if (stream.Length == 0)
        {
            stream.Dispose();
            return new ArraySource([]) { Path = path };
        }
        try
        {
            return new MappedSource(stream) { Path = path };
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Wraps an array (not copied).</summary>
    public static ByteSource FromArray(byte[] data, string? path = null) => new ArraySource(data) { Path = path };

    /// <inheritdoc/>
    public abstract void Dispose();

    private sealed class ArraySource(byte[] data) : ByteSource
    {
        public override long Length => data.Length;

        public override void Read(long offset, Span<byte> destination)
        {
            if (!Contains(offset, destination.Length)) throw Error($"read of {destination.Length} bytes at offset {offset} lies outside the data");
            data.AsSpan((int)offset, destination.Length).CopyTo(destination);
        }

        public override void Dispose() { }
    }

    private sealed class MappedSource : ByteSource
    {
        private const int DirectReadThreshold = 256 << 10;

        private readonly FileStream _stream;
        private readonly MemoryMappedFile _map;
        private readonly MemoryMappedViewAccessor _view;
        private readonly long _length;

        public MappedSource(FileStream stream)
        {
            _stream = stream;
            _length = stream.Length;
            _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            try
            {
                _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            }
            catch
            {
                _map.Dispose();
                throw;
            }
        }

        public override long Length => _length;

        public override void Read(long offset, Span<byte> destination)
        {
            if (!Contains(offset, destination.Length)) throw Error($"read of {destination.Length} bytes at offset {offset} lies outside the file");
            if (destination.IsEmpty) return;
            if (destination.Length < DirectReadThreshold)
            {
                _view.SafeMemoryMappedViewHandle.ReadSpan((ulong)(offset + _view.PointerOffset), destination);
                return;
            }
            // Bulk reads (whole tensors) go through pread straight into the destination: one copy from the page
            // cache, without a page fault per 4 KiB of the mapping.
            while (!destination.IsEmpty)
            {
                var n = RandomAccess.Read(_stream.SafeFileHandle, destination, offset);
                if (n <= 0) throw Error($"the file ended early at offset {offset} (was it truncated while open?)");
                destination = destination[n..];
                offset += n;
            }
        }

        public override void Dispose()
        {
            _view.Dispose();
            _map.Dispose();
            _stream.Dispose();
        }
    }
}
