using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using Adapters.Core.Configuration;
using Adapters.Core.Serialization;
using Adapters.Core.Serialization.Pickle;
using Adapters.Testing;

namespace Adapters.Core.Tests.Serialization;

/// <summary>
/// The files in <c>fixtures/hostile</c> and generated floods: each ends in a typed error (or, for a legal stride-0
/// view, is described without being materialised) within 5 s and 256 MB of allocation, executes nothing and writes
/// nothing beside the target.
/// </summary>
public sealed class HostileTensorFileTests
{
    private const long MaxAllocated = 256L << 20;
    private static readonly TimeSpan s_maxTime = TimeSpan.FromSeconds(5);

    private static string Hostile(string name) => TestPaths.Fixture("hostile", name);

    public static TheoryData<string, Type> RefusedFiles() => new()
    {
        { "D-crash-deep_nested_tuple_100k_as_dict_key__zip_.bin", typeof(TensorLimitException) },
        { "deep-tuple-key.bin", typeof(TensorLimitException) },
        { "D-crash-self_referential_list_as_dict_key__zip_.bin", typeof(TensorFormatException) },
        { "D-crash-self_referential_list_as_persistent_id__zip_.bin", typeof(TensorFormatException) },
        { "D-crash-self_referential_list_as_tensor_size__zip_.bin", typeof(TensorFormatException) },
        { "selfref-min.bin", typeof(TensorFormatException) },
        { "selfref-key.bin", typeof(TensorFormatException) },
        { "D-hang-billion_laughs_DAG_2_47_paths__ints_only__zip_.bin", typeof(TensorLimitException) },
        { "D-hang-billion_laughs_DAG_2_47_paths_with_tensor_leaf__legacy_.bin", typeof(TensorLimitException) },
        { "D-hang-billion_laughs_DAG_2_47_paths_with_tensor_leaf__zip_.bin", typeof(TensorLimitException) },
        { "laughs.bin", typeof(TensorLimitException) },
        { "D-memspike-storage_entry__1_9_GB_of_zeros_deflated__zip_bomb_.bin", typeof(TensorLimitException) },
        { "D-untyped-exit1-data_pkl_declares_2_31_inflated_bytes.bin", typeof(TensorLimitException) },
        { "ansi.bin", typeof(UnsafePickleException) },
    };

    [Theory]
    [MemberData(nameof(RefusedFiles))]
    public void Hostile_files_end_in_a_typed_error_naming_the_file_within_bounds(string name, Type expected)
    {
        var path = Hostile(name);
        var error = Bounded(() => Assert.ThrowsAny<TensorFormatException>(() =>
        {
            using var file = TensorFiles.Open(path);
            foreach (var spec in file.Tensors) file.ReadValues(spec.Name, _ => { });
        }));
        Assert.IsType(expected, error);
        Assert.StartsWith(path + ": ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\u001b', error.Message);
        if (error is TensorLimitException limit) Assert.Contains($"(limit {limit.Limit} = ", limit.Message);
    }

    [Theory]
    [InlineData("stride0.bin")]
    [InlineData("D-hang-stride_0_broadcast_2_40_elements__zip_.bin")]
    [InlineData("D-hang-stride_0_broadcast_2_40_elements__legacy_.bin")]
    [InlineData("D-hang-stride_0_broadcast_10_10_elements__zip_.bin")]
    public void Stride_0_views_are_described_without_materialising_and_never_converted(string name)
    {
        var path = Hostile(name);
        var folder = Directory.CreateTempSubdirectory("hostile-convert-").FullName;
        try
        {
            Bounded(() =>
            {
                using (var file = (TorchPickleFile)TensorFiles.Open(path))
                {
                    var spec = Assert.Single(file.Tensors);
                    var view = file.TensorRefs[spec.Name];
                    Assert.All(view.Stride, s => Assert.Equal(0, s));
                    Assert.True(spec.ElementCount >= 10_000_000_000L);
                    Assert.False(file.IsMaterializable(spec.Name));
                    Assert.Equal(spec.ByteLength - view.DType.ByteSize(), file.ExpandedViewBytes(spec.Name));
                    var refused = Assert.Throws<TensorLimitException>(() => file.ReadValues(spec.Name, _ => { }));
                    Assert.Equal("PickleLimits.MaxExpandedViewBytes", refused.Limit);
                }
                foreach (var output in new[] { "out.safetensors", "out.bin" })
                {
                    var error = Assert.Throws<TensorLimitException>(() => TensorFiles.Convert(path, Path.Combine(folder, output)));
                    Assert.StartsWith(path + ": ", error.Message);
                }
                return 0;
            });
            Assert.Empty(Directory.EnumerateFileSystemEntries(folder));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // Built inside the test: theory data is serialised for discovery, and these are tens of megabytes.
    private static byte[] Flood(string what) => what switch
    {
        // 20 MB of MEMOIZE after one list (1.3 GB before the memo was bounded).
        "memo flood" => Pickle([0x80, 4, (byte)']'], 0x94, 20_000_000),
        // 30 MB of DUP (560 MB before the stack was bounded).
        "DUP flood" => Pickle([0x80, 4, (byte)']'], (byte)'2', 30_000_000),
        // Empty dicts made and dropped: the stack stays small, the count of values does not.
        "object flood" => Pickle([0x80, 4], [(byte)'}', (byte)'0'], 3_000_000),
        // APPEND of None into one list.
        "collection flood" => Pickle([0x80, 4, (byte)']'], [(byte)'N', (byte)'a'], 1_100_000),
        // 100,000 lists each appended to the one below: the name walk must stop at its depth, not the stack's.
        "deep lists" => Pickle([0x80, 4, .. Enumerable.Repeat((byte)']', 100_000)], (byte)'a', 99_999),
        // A 2 MB integer literal.
        "huge LONG4" => [0x80, 4, 0x8b, .. Le32(2_000_000), .. new byte[2_000_000], (byte)'.'],
        _ => throw new ArgumentOutOfRangeException(nameof(what)),
    };

    [Theory]
    [InlineData("memo flood", "PickleLimits.MaxMemoEntries")]
    [InlineData("DUP flood", "PickleLimits.MaxStackDepth")]
    [InlineData("object flood", "PickleLimits.MaxObjects")]
    [InlineData("collection flood", "PickleLimits.MaxCollectionItems")]
    [InlineData("deep lists", "PickleLimits.MaxNestingDepth")]
    [InlineData("huge LONG4", "PickleLimits.MaxIntegerBytes")]
    public void Generated_floods_end_in_the_named_limit_within_bounds(string what, string limit)
    {
        var zip = TorchZip(Flood(what));
        var error = Bounded(() => Assert.Throws<TensorLimitException>(() => TorchPickleFile.FromBytes(zip, what)));
        Assert.Equal(limit, error.Limit);
        Assert.StartsWith(what + ": ", error.Message);
    }

    [Fact]
    public void One_large_tuple_key_reused_a_million_times_stays_linear()
    {
        // t = (((1, 1), (1, 1)), ...) twelve levels deep (8,191 values once expanded), then d[t] = None a million times.
        var pickle = new List<byte> { 0x80, 4, (byte)'K', 1 };
        for (var level = 0; level < 12; level++) pickle.AddRange([(byte)'2', 0x86]);
        pickle.AddRange([0x94, (byte)'0', (byte)'}']);
        for (var i = 0; i < 1_000_000; i++) pickle.AddRange([(byte)'h', 0, (byte)'N', (byte)'s']);
        pickle.Add((byte)'.');
        var zip = TorchZip([.. pickle]);
        using var file = Bounded(() => TorchPickleFile.FromBytes(zip, "reused-key.bin"));
        var dict = Assert.IsType<PyDict>(file.Root);
        Assert.Equal(1, dict.Count);
        Assert.Equal(8_191, ((PyTuple)dict.Items[0].Key!).ExpandedValues);
    }

    [Fact]
    public void A_dict_that_contains_itself_ends_in_a_typed_error()
    {
        // d = {}; d['a'] = d
        byte[] pickle = [0x80, 4, (byte)'}', 0x94, (byte)'U', 1, (byte)'a', (byte)'h', 0, (byte)'s', (byte)'.'];
        var error = Bounded(() => Assert.ThrowsAny<TensorFormatException>(() => TorchPickleFile.FromBytes(TorchZip(pickle), "selfdict.bin")));
        Assert.Contains("selfdict.bin", error.Message);
    }

    public static TheoryData<string, byte[]> SizeLies() => new()
    {
        { "BINUNICODE8 of 2^40 bytes", [0x80, 4, 0x8d, .. Le64(1L << 40), (byte)'.'] },
        { "BINBYTES of 2^32-1 bytes", [0x80, 4, (byte)'B', 0xFF, 0xFF, 0xFF, 0xFF, (byte)'.'] },
        { "LONG4 of 2^31-1 bytes", [0x80, 4, 0x8b, 0xFF, 0xFF, 0xFF, 0x7F, (byte)'.'] },
        { "FRAME of 2^63-1 bytes", [0x80, 4, 0x95, .. Le64(long.MaxValue), (byte)'.'] },
    };

    [Theory]
    [MemberData(nameof(SizeLies))]
    public void Declared_sizes_beyond_the_data_are_typed_errors(string what, byte[] pickle)
    {
        var error = Bounded(() => Assert.ThrowsAny<TensorFormatException>(() => TorchPickleFile.FromBytes(TorchZip(pickle), what)));
        Assert.StartsWith(what + ": ", error.Message);
    }

    [Fact]
    public void A_safetensors_header_declaring_2_63_bytes_is_a_typed_error()
    {
        byte[] bytes = [.. Le64(long.MaxValue), .. "{}"u8];
        var error = Bounded(() => Assert.ThrowsAny<TensorFormatException>(() => SafeTensorsFile.FromBytes(bytes, "lie.safetensors")));
        Assert.StartsWith("lie.safetensors: ", error.Message);
    }

    [Fact]
    public void A_deflated_entry_past_the_compression_ratio_is_refused_before_inflating()
    {
        byte[] emptyDict = [0x80, 2, (byte)'}', (byte)'.'];
        using (var file = TorchPickleFile.FromBytes(Zip(("archive/data.pkl", emptyDict, CompressionLevel.Optimal)), "small.bin"))
        {
            Assert.Empty(file.Tensors);
        }
        // 64 MiB of zeros deflate about 1000 to 1: refused from the declared sizes, before a byte is inflated.
        var bomb = Zip(("archive/data.pkl", [.. emptyDict, .. new byte[64 << 20]], CompressionLevel.Optimal));
        var error = Bounded(() => Assert.Throws<TensorLimitException>(() => TorchPickleFile.FromBytes(bomb, "bomb.bin")));
        Assert.Equal("ZipLimits.MaxCompressionRatio", error.Limit);
    }

    [Fact]
    public void Duplicate_keys_in_adapter_config_name_the_file()
    {
        var error = Assert.Throws<AdapterConfigException>(() => AdapterConfigFile.Parse("""{"config": {"r": 8, "r": 16}, "name": "a"}""", "/models/x/adapter_config.json"));
        Assert.StartsWith("/models/x/adapter_config.json is not valid JSON: ", error.Message);
        Assert.Contains("'r'", error.Message);
    }

    private static T Bounded<T>(Func<T> action)
    {
        var stopwatch = Stopwatch.StartNew();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = action();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(stopwatch.Elapsed < s_maxTime, $"took {stopwatch.Elapsed}");
        Assert.True(allocated < MaxAllocated, $"allocated {allocated} bytes");
        return result;
    }

    private static byte[] Pickle(byte[] prefix, byte repeated, int times) => Pickle(prefix, [repeated], times);

    private static byte[] Pickle(byte[] prefix, byte[] repeated, int times)
    {
        var bytes = new byte[prefix.Length + repeated.Length * times + 1];
        prefix.CopyTo(bytes, 0);
        for (var i = 0; i < times; i++) repeated.CopyTo(bytes, prefix.Length + i * repeated.Length);
        bytes[^1] = (byte)'.';
        return bytes;
    }

    private static byte[] Le32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Le64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>A torch zip (stored entries, as torch.save writes them) around <paramref name="pickle"/>.</summary>
    private static byte[] TorchZip(byte[] pickle) =>
        Zip(("archive/data.pkl", pickle, CompressionLevel.NoCompression), ("archive/byteorder", "little"u8.ToArray(), CompressionLevel.NoCompression));

    private static byte[] Zip(params (string Name, byte[] Data, CompressionLevel Level)[] entries)
    {
        using var stream = new MemoryStream();
        using (var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data, level) in entries)
            {
                using var entry = archive.CreateEntry(name, level).Open();
                entry.Write(data);
            }
        }
        return stream.ToArray();
    }
}
