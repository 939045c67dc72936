using System.Text;
using Adapters.Core.Serialization;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Serialization;

public sealed class SafeTensorsTests
{
    [Theory]
    [InlineData("B", TensorDType.U8, new[] { 253.0, 254, 255, 0, 1, 2 })]
    [InlineData("H", TensorDType.U16, new[] { 65533.0, 65534, 65535, 0, 1, 2 })]
    [InlineData("I", TensorDType.U32, new[] { 4294967293.0, 4294967294, 4294967295, 0, 1, 2 })]
    [InlineData("b", TensorDType.I8, new[] { -3.0, -2, -1, 0, 1, 2 })]
    [InlineData("h", TensorDType.I16, new[] { -3.0, -2, -1, 0, 1, 2 })]
    [InlineData("i", TensorDType.I32, new[] { -3.0, -2, -1, 0, 1, 2 })]
    [InlineData("e", TensorDType.F16, new[] { -3.0, -2, -1, 0, 1, 2 })]
    [InlineData("f", TensorDType.F32, new[] { -3.0, -2, -1, 0, 1, 2 })]
    [InlineData("d", TensorDType.F64, new[] { -3.0, -2, -1, 0, 1, 2 })]
    public void Reference_samples_load_with_their_values(string name, TensorDType dtype, double[] expected)
    {
        foreach (var path in new[] { TensorTestData.Samples(name + ".safetensors"), TensorTestData.Samples("overall.safetensors") })
        {
            using var file = SafeTensorsFile.Open(path);
            var spec = file.GetSpec(name);
            Assert.Equal(dtype, spec.DType);
            Assert.Equal([6L], spec.Shape);
            Assert.Equal(expected, TensorTestData.Floats(file.ReadRaw(name)));
            Assert.Equal([new KeyValuePair<string, string>("test", "a")], file.Metadata);
        }
    }

    [Fact]
    public void Numpy_written_file_holds_row_major_aranges_in_every_dtype()
    {
        using var file = SafeTensorsFile.Open(TensorTestData.Flux("non_sharded", "model.numpy.safetensors"));
        Assert.Null(file.Metadata);
        Assert.Equal(27, file.Tensors.Count);
        foreach (var spec in file.Tensors)
        {
            var values = TensorTestData.Floats(file.ReadRaw(spec.Name));
            Assert.Equal(spec.ElementCount, values.Length);
            for (var i = 0; i < values.Length; i++)
            {
                var expected = spec.DType == TensorDType.Bool ? i % 2 : i;
                Assert.Equal(expected, values[i]);
            }
        }
        Assert.Equal([3L, 5, 7], file.GetSpec("int16_357").Shape);
    }

    [Fact]
    public void Torch_written_files_agree_across_plain_metadata_and_sharded_copies()
    {
        using var plain = SafeTensorsFile.Open(TensorTestData.Flux("non_sharded", "model.safetensors"));
        using var meta = SafeTensorsFile.Open(TensorTestData.Flux("non_sharded", "model.with_metadata.safetensors"));
        using var sharded = TensorFiles.Open(TensorTestData.Flux("sharded", "model.safetensors.index.json"));
        Assert.Equal(TensorFileFormat.SafetensorsSharded, sharded.Format);
        Assert.Equal(36, plain.Tensors.Count);
        Assert.Equal(36, sharded.Tensors.Count);
        Assert.Equal([new("test", "metadata"), new KeyValuePair<string, string>("version", "2.2")], meta.Metadata);
        Assert.Equal([new KeyValuePair<string, string>("format", "pt")], sharded.Metadata);
        foreach (var spec in plain.Tensors)
        {
            var a = plain.ReadRaw(spec.Name);
            Assert.Equal(a.Data.ToArray(), meta.ReadRaw(spec.Name).Data.ToArray());
            Assert.Equal(a.Data.ToArray(), sharded.ReadRaw(spec.Name).Data.ToArray());
            Assert.Equal(spec.Shape, sharded.GetSpec(spec.Name).Shape);
        }
        Assert.Equal(TensorDType.F8_E4M3, plain.GetSpec("float8_e4m3fn_357").DType);
        Assert.Equal(TensorDType.F8_E5M2, plain.GetSpec("float8_e5m2_35").DType);
        Assert.All(TensorTestData.Integers(plain.ReadRaw("bool_357")), v => Assert.Equal(0m, v));
    }

    public static TheoryData<string> PythonWrittenFiles() =>
    [
        TensorTestData.Flux("non_sharded", "model.safetensors"),
        TensorTestData.Flux("non_sharded", "model.numpy.safetensors"),
        TensorTestData.Flux("non_sharded", "model.with_metadata.safetensors"),
        .. Enumerable.Range(1, 6).Select(i => TensorTestData.Flux("sharded", $"model-0000{i}-of-00006.safetensors")),
        TensorTestData.PyBridge("pickled_tensors", "tensors.safetensors"),
        TensorTestData.PyBridge("pickled_modules", "module_load.safetensors"),
    ];

    [Theory]
    [MemberData(nameof(PythonWrittenFiles))]
    public void Rewriting_a_python_written_file_reproduces_it_byte_for_byte(string path)
    {
        using var file = SafeTensorsFile.Open(path);
        var bytes = SafeTensorsWriter.Serialize(file.AsPayloads(), file.Metadata);
        Assert.Equal(File.ReadAllBytes(path), bytes);
    }

    [Fact]
    public void Old_unpadded_samples_rewrite_to_the_current_layout_and_same_values()
    {
        var path = TensorTestData.Samples("overall.safetensors");
        using var file = SafeTensorsFile.Open(path);
        var bytes = SafeTensorsWriter.Serialize(file.AsPayloads(), file.Metadata);
        Assert.Equal(0, (bytes.Length - 8 - file.Tensors.Sum(t => t.ByteLength)) % 8);
        using var again = SafeTensorsFile.FromBytes(bytes);
        // Current writers order by dtype (largest first), then name.
        Assert.Equal(["d", "f", "I", "i", "e", "H", "h", "b", "B"], again.Tensors.Select(t => t.Name));
        foreach (var t in file.Tensors) Assert.Equal(file.ReadRaw(t.Name).Data.ToArray(), again.ReadRaw(t.Name).Data.ToArray());
    }

    [Fact]
    public void Writer_orders_by_dtype_then_utf8_name_pads_with_spaces_and_defaults_to_format_pt()
    {
        var payloads = new[]
        {
            TensorPayload.FromRaw("layer.2", TensorTestData.Random(TensorDType.F32, [2], 1)),
            TensorPayload.FromRaw("layer.10", TensorTestData.Random(TensorDType.F32, [2], 2)),
            TensorPayload.FromRaw("mask", TensorTestData.Random(TensorDType.Bool, [3], 3)),
            TensorPayload.FromRaw("ids", TensorTestData.Random(TensorDType.I64, [1], 4)),
            TensorPayload.FromRaw("é", TensorTestData.Random(TensorDType.F32, [1], 5)),
        };
        var path = Path.Combine(Path.GetTempPath(), $"st-{Guid.NewGuid():N}.safetensors");
        try
        {
            TensorFiles.Save(path, payloads);
            var bytes = File.ReadAllBytes(path);
            var n = (int)BitConverter.ToUInt64(bytes);
            Assert.Equal(0, n % 8);
            var header = Encoding.UTF8.GetString(bytes, 8, n);
            Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"},\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},\"layer.10\":", header);
            Assert.True(header.IndexOf("layer.2", StringComparison.Ordinal) < header.IndexOf("\"é\"", StringComparison.Ordinal));
            Assert.EndsWith("}", header.TrimEnd(' '));
            using var file = SafeTensorsFile.Open(path);
            Assert.Equal(["ids", "layer.10", "layer.2", "é", "mask"], file.Tensors.Select(t => t.Name));
            Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $".{Path.GetFileName(path)}*"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Every_dtype_round_trips_through_our_writer_and_reader()
    {
        var dtypes = Enum.GetValues<TensorDType>().Where(d => d.SafetensorsName() is not null).ToList();
        var originals = dtypes.Select((d, i) => (Name: "t_" + d, Raw: TensorTestData.Random(d, d.BitSize() < 8 ? [4, 2] : [2, 3], i))).ToList();
        originals.Add(("scalar", TensorTestData.Random(TensorDType.F32, [], 99)));
        originals.Add(("empty", TensorTestData.Random(TensorDType.F16, [0, 7], 98)));
        var bytes = SafeTensorsWriter.Serialize(originals.Select(o => TensorPayload.FromRaw(o.Name, o.Raw)), null);
        using var file = SafeTensorsFile.FromBytes(bytes);
        Assert.Null(file.Metadata);
        foreach (var (name, raw) in originals)
        {
            var back = file.ReadRaw(name);
            Assert.Equal(raw.DType, back.DType);
            Assert.Equal(raw.Shape, back.Shape);
            Assert.Equal(raw.Data.ToArray(), back.Data.ToArray());
        }
        Assert.Equal(bytes, SafeTensorsWriter.Serialize(file.AsPayloads(), file.Metadata));
    }

    [Fact]
    public void Tensors_load_lazily_into_torchsharp_with_their_values()
    {
        using var file = SafeTensorsFile.Open(TensorTestData.PyBridge("pickled_modules", "module_load.safetensors"));
        using var lin2 = file.LoadTensor("lin2.weight");
        Assert.Equal(ScalarType.Float32, lin2.dtype);
        Assert.Equal([2L, 2], lin2.shape);
        Assert.All(lin2.data<float>().ToArray(), v => Assert.Equal(2f, v));
        using var all = TensorFiles.Load(TensorTestData.PyBridge("pickled_tensors", "tensors.safetensors"));
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, all["arr_2d"].data<long>().ToArray());
        Assert.Equal([2L, 3], all["arr_2d"].shape);
    }

    [Fact]
    public void Types_torchsharp_lacks_load_as_carriers_and_save_back_unchanged()
    {
        using var file = SafeTensorsFile.Open(TensorTestData.Flux("non_sharded", "model.safetensors"));
        using var f8 = file.LoadTensor("float8_e4m3fn_35");
        Assert.Equal(ScalarType.Byte, f8.dtype);
        Assert.Equal([3L, 5], f8.shape);
        Assert.Equal(file.ReadRaw("float8_e4m3fn_35").Data.ToArray(), f8.data<byte>().ToArray());
        using var bf = file.LoadTensor("bfloat16_35");
        Assert.Equal(ScalarType.BFloat16, bf.dtype);

        using var dict = file.LoadAll();
        Assert.Equal(TensorDType.F8_E5M2, dict.DTypeOf("float8_e5m2_3"));
        var again = SafeTensorsWriter.Serialize(dict.AsPayloads(), dict.Metadata);
        Assert.Equal(File.ReadAllBytes(file.FilePath!), again);
    }

    [Fact]
    public void Sharded_save_splits_like_huggingface_hub_and_reads_back()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"shards-{Guid.NewGuid():N}");
        try
        {
            var payloads = Enumerable.Range(0, 5).Select(i => TensorPayload.FromRaw($"w{i}", TensorTestData.Random(TensorDType.F32, [100], i))).ToList();
            var index = SafeTensorsIndex.SaveSharded(dir, payloads, 900, SafeTensorsWriter.DefaultMetadata);
            Assert.EndsWith("model.safetensors.index.json", index);
            var parsed = SafeTensorsIndex.Read(index);
            Assert.Equal(2000, parsed.TotalSize);
            Assert.Equal(3, parsed.ShardFiles.Count);
            Assert.Equal("model-00001-of-00003.safetensors", parsed.WeightMap[0].Value);
            Assert.StartsWith("{\n  \"metadata\": {\n    \"total_size\": 2000\n  },\n  \"weight_map\": {\n    \"w0\": ", File.ReadAllText(index));
            using var file = TensorFiles.Open(index);
            foreach (var p in payloads)
            {
                var expected = new MemoryStream();
                p.WriteTo(c => expected.Write(c));
                Assert.Equal(expected.ToArray(), file.ReadRaw(p.Spec.Name).Data.ToArray());
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Index_of_the_python_checkpoint_parses_with_every_tensor()
    {
        var index = SafeTensorsIndex.Read(TensorTestData.Flux("sharded", "model.safetensors.index.json"));
        Assert.Equal(4305, index.TotalSize);
        Assert.Equal(36, index.WeightMap.Count);
        Assert.Equal(6, index.ShardFiles.Count);
    }

    public static TheoryData<string, byte[]> InvalidFiles()
    {
        static byte[] Make(string header, int dataBytes, ulong? declared = null)
        {
            var h = Encoding.UTF8.GetBytes(header);
            var bytes = new byte[8 + h.Length + dataBytes];
            BitConverter.TryWriteBytes(bytes, declared ?? (ulong)h.Length);
            h.CopyTo(bytes, 8);
            return bytes;
        }
        return new TheoryData<string, byte[]>
        {
            { "header too small", [1, 2, 3] },
            { "header too large", Make("{}", 0, 100_000_001) },
            { "invalid header length", Make("{}", 0, 50) },
            { "not valid UTF-8", [.. Make("{\"a\":1}", 0)[..8], (byte)'{', (byte)'"', 0xFF, (byte)'"', (byte)':', (byte)'1', (byte)'}'] },
            { "invalid JSON", Make("{\"a\":", 0) },
            { "unknown dtype", Make("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4) },
            { "invalid offset for tensor `b`", Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12) },
            { "invalid offset", Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", 6) },
            { "invalid shape, data type, or offset", Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4) },
            { "incomplete metadata, file not fully covered", Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8) },
            { "invalid header length", Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 0, 9999) },
            { "overflow", Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", 4) },
            { "not a non-negative integer", Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4) },
            { "`__metadata__` value", Make("{\"__metadata__\":{\"a\":1}}", 0) },
            { "duplicate key", Make("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4) },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidFiles))]
    public void Invalid_files_fail_with_the_reference_validation_message(string problem, byte[] bytes)
    {
        var ex = Assert.ThrowsAny<TensorFormatException>(() => SafeTensorsFile.FromBytes(bytes, "bad.safetensors"));
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("bad.safetensors: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_header_and_empty_tensors_are_valid()
    {
        using var none = SafeTensorsFile.FromBytes(SafeTensorsWriter.Serialize([], null));
        Assert.Empty(none.Tensors);
        var bytes = SafeTensorsWriter.Serialize([TensorPayload.FromRaw("e", new RawTensor(TensorDType.F32, [0], Array.Empty<byte>())), TensorPayload.FromRaw("s", TensorTestData.Random(TensorDType.F32, [], 1))], null);
        using var file = SafeTensorsFile.FromBytes(bytes);
        using var empty = file.LoadTensor("e");
        Assert.Equal([0L], empty.shape);
        using var scalar = file.LoadTensor("s");
        Assert.Empty(scalar.shape);
    }
}
