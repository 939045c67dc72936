using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Adapters.Registry.Tests.Web;

/// <summary>
/// A decoded PNG (8-bit RGB or RGBA, not interlaced: what Chromium's screenshots are), enough to check a
/// screenshot's size and that it shows something. Refuses anything else with a message.
/// </summary>
internal sealed class PngImage
{
    private static readonly byte[] s_signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private readonly byte[] _pixels;

    private readonly int _channels;

    private PngImage(int width, int height, int channels, byte[] pixels)
    {
        Width = width;
        Height = height;
        _channels = channels;
        _pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public (byte R, byte G, byte B) Pixel(int x, int y)
    {
        var offset = (y * Width + x) * _channels;
        return (_pixels[offset], _pixels[offset + 1], _pixels[offset + 2]);
    }

    public static PngImage Decode(byte[] png)
    {
        if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(s_signature)) throw new InvalidDataException("not a PNG (bad signature)");
        int width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        var position = 8;
        while (position + 12 <= png.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position));
            var type = Encoding.ASCII.GetString(png, position + 4, 4);
            var data = png.AsSpan(position + 8, length);
            if (type == "IHDR")
            {
                width = (int)BinaryPrimitives.ReadUInt32BigEndian(data);
                height = (int)BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                var (bitDepth, colorType, interlace) = (data[8], data[9], data[12]);
                if (bitDepth != 8 || colorType is not (2 or 6) || interlace != 0)
                {
                    throw new InvalidDataException($"PNG with bit depth {bitDepth}, colour type {colorType}, interlace {interlace}: only 8-bit RGB/RGBA, not interlaced, is decoded here");
                }
                channels = colorType == 6 ? 4 : 3;
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }
            else if (type == "IEND")
            {
                break;
            }
            position += 12 + length;
        }
        if (width <= 0 || height <= 0) throw new InvalidDataException("PNG without IHDR");
        idat.Position = 0;
        using var inflater = new ZLibStream(idat, CompressionMode.Decompress);
        var stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        inflater.ReadExactly(raw);
        var pixels = new byte[stride * height];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var source = raw.AsSpan(y * (stride + 1) + 1, stride);
            var row = pixels.AsSpan(y * stride, stride);
            var above = y > 0 ? pixels.AsSpan((y - 1) * stride, stride) : new byte[stride];
            for (var i = 0; i < stride; i++)
            {
                int left = i >= channels ? row[i - channels] : 0, up = above[i], upLeft = i >= channels ? above[i - channels] : 0;
                row[i] = (byte)(source[i] + filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"PNG row {y} has unknown filter {filter}"),
                });
            }
        }
        return new PngImage(width, height, channels, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
