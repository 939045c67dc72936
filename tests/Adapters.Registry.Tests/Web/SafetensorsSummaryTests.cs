using System.Buffers.Binary;
using System.Text;
using Adapters.Registry.Web;

namespace Adapters.Registry.Tests.Web;

/// <summary>The parameter summary reads only the header, counts what it declares, and refuses broken headers with the file's name.</summary>
public sealed class SafetensorsSummaryTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("adapters-safetensors-summary-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void The_python_written_lora_file_declares_eight_tensors_and_4096_parameters()
    {
        var path = Path.Combine(LegacyCatalogRegistry.LoraFolder, "adapter.safetensors");

        var summary = SafetensorsSummary.Read(path, new FileInfo(path).Length, "adapter.safetensors");

        Assert.Equal(8, summary.Tensors);
        Assert.Equal(4096, summary.Parameters);
        Assert.Equal(new Dictionary<string, long> { ["F32"] = 4096 }, summary.ParametersByDtype);
    }

    [Fact]
    public void Metadata_is_skipped_and_dtypes_are_counted_apart()
    {
        var path = Write("""{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[3,4],"data_offsets":[0,24]},"b":{"dtype":"BF16","shape":[5],"data_offsets":[24,34]},"scalar":{"dtype":"F16","shape":[],"data_offsets":[34,36]}}""", payload: 36);

        var summary = SafetensorsSummary.Read(path, new FileInfo(path).Length, "x.safetensors");

        Assert.Equal(3, summary.Tensors);
        Assert.Equal(18, summary.Parameters);
        Assert.Equal(new Dictionary<string, long> { ["BF16"] = 5, ["F16"] = 13 }, summary.ParametersByDtype);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("""{"a":{"dtype":"F32"}}""", "tensor 'a' needs")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1]}}""", "not a non-negative integer")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4294967296,4294967296]}}""", "more elements than fit")]
    public void A_broken_header_is_refused_naming_the_file(string header, string expected)
    {
        var path = Write(header, payload: 0);

        var error = Assert.Throws<InvalidDataException>(() => SafetensorsSummary.Read(path, new FileInfo(path).Length, "weights/x.safetensors"));

        Assert.StartsWith("weights/x.safetensors: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_length_past_the_end_or_the_limit_is_refused_before_reading_it()
    {
        var path = Path.Combine(_folder.FullName, "long.safetensors");
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue);
        File.WriteAllBytes(path, bytes);
        var truncated = Path.Combine(_folder.FullName, "short.safetensors");
        File.WriteAllBytes(truncated, [1, 2, 3]);

        Assert.Contains("exceeds the file", Assert.Throws<InvalidDataException>(() => SafetensorsSummary.Read(path, 16, "long.safetensors")).Message, StringComparison.Ordinal);
        Assert.Contains("shorter than the 8-byte", Assert.Throws<InvalidDataException>(() => SafetensorsSummary.Read(truncated, 3, "short.safetensors")).Message, StringComparison.Ordinal);
    }

    private string Write(string header, int payload)
    {
        var path = Path.Combine(_folder.FullName, Guid.NewGuid().ToString("N") + ".safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + payload];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
