using System.Text.Json;
using Adapters.Core.Serialization;
using Adapters.Core.Serialization.Pickle;
using Adapters.Testing;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Serialization;

public sealed class TorchPickleTests
{
    [Fact]
    public void Candle_ordered_dict_loads_with_values()
    {
        using var file = TorchPickleFile.Open(TensorTestData.Candle("test.pt"));
        Assert.True(file.IsZip);
        Assert.Equal(2, file.Protocol);
        Assert.Equal("test", file.ArchiveRoot);
        Assert.Equal("little", file.ByteOrder);
        Assert.True(file.Root is PyDict { Ordered: true });
        Assert.Equal([1m, 2, 3, 4, 5, 6, 7, 8], TensorTestData.Integers(file.ReadRaw("test")));
        using var t = file.LoadTensor("test");
        Assert.Equal([2L, 4], t.shape);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }, t.data<long>().ToArray());
    }

    [Fact]
    public void Nested_dict_keys_join_with_dots()
    {
        using var file = TorchPickleFile.Open(TensorTestData.Candle("test_with_key.pt"));
        Assert.Equal(["model_state_dict.test"], file.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Fortran_ordered_tensor_reads_as_its_logical_values()
    {
        using var file = TorchPickleFile.Open(TensorTestData.Candle("fortran_tensor_3d.pth"));
        var t = file.TensorRefs["tensor_fortran"];
        Assert.Equal([1L, 2, 6], t.Stride);
        Assert.False(t.IsContiguous);
        Assert.Equal(Enumerable.Range(1, 24).Select(i => (decimal)i), TensorTestData.Integers(file.ReadRaw("tensor_fortran")));
        using var loaded = file.LoadTensor("tensor_fortran");
        Assert.Equal([2L, 3, 4], loaded.shape);
        using var contiguous = loaded.contiguous();
        Assert.Equal(Enumerable.Range(1, 24).Select(i => (long)i), contiguous.data<long>().ToArray());
    }

    [Fact]
    public void PyBridge_files_load_with_the_values_their_tests_state()
    {
        using (var tensors = TensorFiles.Load(TensorTestData.PyBridge("pickled_tensors", "tensors.pth")))
        {
            Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6 }, tensors["arr"].data<long>().ToArray());
            Assert.Equal([2L, 3], tensors["arr_2d"].shape);
        }
        using (var module = TorchPickleFile.Open(TensorTestData.PyBridge("pickled_modules", "module_load.pth")))
        {
            Assert.Equal("pyload_test", module.ArchiveRoot);
            Assert.Equal(["lin1.weight", "lin2.weight"], module.Tensors.Select(t => t.Name));
            Assert.All(TensorTestData.Floats(module.ReadRaw("lin1.weight")), v => Assert.Equal(1.0, v));
            var root = Assert.IsType<PyDict>(module.Root);
            Assert.NotNull(root.Attributes);
            Assert.True(root.Attributes!.TryGet("_metadata", out _));
        }
    }

    [Fact]
    public void Optimizer_state_dicts_with_python_values_and_scalars_load()
    {
        using var adam = TorchPickleFile.Open(TensorTestData.PyBridge("pickled_optimizers", "adam_load.pth"));
        Assert.Equal(14, adam.Tensors.Count);
        Assert.Empty(adam.GetSpec("state.0.step").Shape);
        Assert.Equal([1.0], TensorTestData.Floats(adam.ReadRaw("state.0.step")));
        Assert.Equal([10L], adam.GetSpec("state.3.max_exp_avg_sq").Shape);
        var groups = Assert.IsType<PyList>(((PyDict)adam.Root!).Items.Single(kv => (string)kv.Key! == "param_groups").Value);
        var g1 = Assert.IsType<PyDict>(groups[1]);
        Assert.True(g1.TryGet("betas", out var betas));
        Assert.Equal([0.7, 0.79], ((PyTuple)betas!).Items.Cast<double>());
        Assert.True(g1.TryGet("amsgrad", out var amsgrad) && amsgrad is true);
        Assert.True(g1.TryGet("lr", out var lr) && lr is 0.01);

        using var sgd = TorchPickleFile.Open(TensorTestData.PyBridge("pickled_optimizers", "sgd_load.pth"));
        Assert.Equal([10L, 10], sgd.GetSpec("state.0.momentum_buffer").Shape);
        var group = (PyDict)((PyList)((PyDict)sgd.Root!).Items[1].Value!)[0]!;
        Assert.True(group.TryGet("foreach", out var foreachValue) && foreachValue is null);
        Assert.True(group.TryGet("momentum", out var momentum) && momentum is 0.1);
    }

    [Fact]
    public void Peft_ia3_vectors_with_odd_strides_load()
    {
        using var file = TorchPickleFile.Open(TensorTestData.PeftIa3);
        Assert.Equal(192, file.Tensors.Count);
        Assert.All(file.Tensors, t => Assert.Equal(1, t.Shape[1]));
        Assert.Equal([2816L, 1], file.GetSpec("base_model.model.encoder.block.0.layer.1.DenseReluDense.wi_1.ia3_l").Shape);
        Assert.All(file.TensorRefs.Values, t => Assert.True(t.IsContiguous));
        using var dict = file.LoadAll();
        Assert.Equal(192, dict.Count);
    }

    [Theory]
    [InlineData("adapter-hub__adapters/adapter1/pytorch_adapter.bin", "bigbird.encoder.layer.{0}.output.adapters.rotten_tomatoes1.", "archive", 48)]
    [InlineData("adapter-hub__adapters/adapter1/pytorch_model_head.bin", null, "archive", 4)]
    [InlineData("AnHu2410__MD_crosslingual/adapter/pytorch_adapter.bin", "bert.encoder.layer.{0}.output.adapters.md.", "pytorch_adapter", 48)]
    [InlineData("AnHu2410__MD_crosslingual/adapter/pytorch_model_head.bin", null, "pytorch_model_head", 4)]
    public void Real_adapter_files_written_by_python_load(string relative, string? prefix, string root, int count)
    {
        var path = TestPaths.Fixture(["python-written", .. relative.Split('/')]);
        using var file = TorchPickleFile.Open(path);
        Assert.Equal(root, file.ArchiveRoot);
        Assert.Equal(count, file.Tensors.Count);
        Assert.All(file.Tensors, t => Assert.Equal(TensorDType.F32, t.DType));
        if (prefix is not null)
        {
            for (var layer = 0; layer < 12; layer++)
            {
                var p = string.Format(System.Globalization.CultureInfo.InvariantCulture, prefix, layer);
                Assert.Equal([48L, 768], file.GetSpec(p + "adapter_down.0.weight").Shape);
                Assert.Equal([48L], file.GetSpec(p + "adapter_down.0.bias").Shape);
                Assert.Equal([768L, 48], file.GetSpec(p + "adapter_up.weight").Shape);
                Assert.Equal([768L], file.GetSpec(p + "adapter_up.bias").Shape);
            }
        }
        else
        {
            Assert.Equal([768L, 768], file.Tensors[0].Shape);
            Assert.Equal([2L, 768], file.Tensors[2].Shape);
        }
        using var dict = file.LoadAll();
        Assert.All(dict.Values, t => Assert.False(t.isnan().any().item<bool>()));
    }

    public static TheoryData<string> GeneratedFiles() => ["legacy_p1.pt", "legacy_p2.pt", "legacy_p3.pt", "legacy_p4.pt", "legacy_p5.pt", "zip_dtypes.pt"];

    [Theory]
    [MemberData(nameof(GeneratedFiles))]
    public void Python_pickled_files_load_with_the_expected_values(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TensorTestData.Generated("expected.json")));
        var expected = doc.RootElement.GetProperty(name);
        using var file = TorchPickleFile.Open(TensorTestData.Generated(name));
        Assert.Equal(name.StartsWith("legacy", StringComparison.Ordinal) ? TensorFileFormat.TorchLegacy : TensorFileFormat.TorchZip, file.Format);
        if (name.StartsWith("legacy_p", StringComparison.Ordinal)) Assert.Equal(name[8] - '0', Math.Max(file.Protocol, 1));
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), file.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var p in expected.EnumerateObject())
        {
            var spec = file.GetSpec(p.Name);
            Assert.True(TensorDTypes.TryParseTorchName(p.Value.GetProperty("dtype").GetString()!, out var dtype));
            Assert.Equal(dtype, spec.DType);
            Assert.Equal(p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), spec.Shape);
            var raw = file.ReadRaw(p.Name);
            var values = p.Value.GetProperty("values").EnumerateArray().ToList();
            if (dtype == TensorDType.C64)
            {
                var parts = TensorTestData.Floats(new RawTensor(TensorDType.F32, [spec.ElementCount * 2], raw.Data));
                Assert.Equal(values.SelectMany(v => v.EnumerateArray().Select(x => x.GetDouble())), parts);
            }
            else if (TensorTestData.IsFloat(dtype))
            {
                var actual = TensorTestData.Floats(raw);
                Assert.Equal(values.Count, actual.Length);
                for (var i = 0; i < actual.Length; i++)
                {
                    var e = values[i].GetDouble();
                    Assert.True(dtype is TensorDType.F16 or TensorDType.BF16 ? Math.Abs(e - actual[i]) <= Math.Abs(e) * 1e-3 : e.Equals(actual[i]), $"{p.Name}[{i}]: {e} vs {actual[i]}");
                }
            }
            else
            {
                Assert.Equal(values.Select(v => v.GetDecimal()), TensorTestData.Integers(raw));
            }
        }
    }

    [Fact]
    public void Views_of_one_storage_share_memory_when_loaded_together()
    {
        using var file = TorchPickleFile.Open(TensorTestData.Generated("legacy_p2.pt"));
        Assert.Same(file.TensorRefs["weight"].Storage, file.TensorRefs["view"].Storage);
        Assert.Equal(2, file.TensorRefs["view"].StorageOffset);
        using var dict = file.LoadAll();
        Assert.Equal([1.0f, 1.5f, 3.0f, 3.5f], dict["view"].contiguous().data<float>().ToArray());
        dict["weight"][0, 2] = tensor(100f);
        Assert.Equal(100f, dict["view"][0, 0].item<float>());
        Assert.Equal(100f, dict["t"][2, 0].item<float>());
        Assert.Empty(dict["step"].shape);
        Assert.Equal(7L, dict["step"].item<long>());
        Assert.Equal([0L, 5], dict["empty"].shape);
    }

    [Fact]
    public void Zip_dtypes_without_torchsharp_types_load_as_carriers()
    {
        using var file = TorchPickleFile.Open(TensorTestData.Generated("zip_dtypes.pt"));
        Assert.True(file.TensorRefs["params.weight"].IsParameter);
        using var u16 = file.LoadTensor("dtypes.uint16");
        Assert.Equal(ScalarType.Int16, u16.dtype);
        Assert.Equal(unchecked((short)40000), u16[1, 0].item<short>());
        using var f8 = file.LoadTensor("dtypes.float8_e4m3fn");
        Assert.Equal(ScalarType.Byte, f8.dtype);
        using var c = file.LoadTensor("dtypes.complex64");
        Assert.Equal(ScalarType.ComplexFloat32, c.dtype);
        var misc = (PyList)((PyDict)file.Root!).Items.Single(kv => (string)kv.Key! == "misc").Value!;
        Assert.Equal(1L, misc[1]);
        Assert.Equal("text", misc[4]);
        Assert.IsType<PyTuple>(misc[5]);
    }

    [Theory]
    [InlineData("zip_unsafe.pt", "posix.system")]
    [InlineData("legacy_unsafe.pt", "__builtin__.eval")]
    public void Forbidden_globals_are_refused_by_name(string name, string global)
    {
        var ex = Assert.Throws<UnsafePickleException>(() => TorchPickleFile.Open(TensorTestData.Generated(name)));
        Assert.Equal(global, ex.Global);
        Assert.Contains(global, ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<TensorFormatException>(ex);
    }

    [Fact]
    public void Writer_reproduces_a_torch_written_file_byte_for_byte()
    {
        var original = TensorTestData.PyBridge("pickled_tensors", "tensors.pth");
        using var file = TorchPickleFile.Open(original);
        var id = System.Text.Encoding.ASCII.GetString(ReadEntry(original, "tensors/.data/serialization_id"));
        var bytes = TorchPickleWriter.Serialize(file.AsPayloads(), new TorchSaveOptions { ArchiveRoot = "tensors", SerializationId = id, OmitFormatVersion = true });
        Assert.Equal(File.ReadAllBytes(original), bytes);
    }

    [Fact]
    public void Writer_reproduces_an_ordered_dict_file_byte_for_byte()
    {
        var original = TensorTestData.Candle("test.pt");
        using var file = TorchPickleFile.Open(original);
        var id = System.Text.Encoding.ASCII.GetString(ReadEntry(original, "test/.data/serialization_id"));
        var bytes = TorchPickleWriter.Serialize(file.AsPayloads(), new TorchSaveOptions { ArchiveRoot = "test", SerializationId = id, OmitFormatVersion = true, OrderedDict = true });
        Assert.Equal(File.ReadAllBytes(original), bytes);
    }

    [Fact]
    public void Adapter_pickle_opcodes_match_the_python_written_file()
    {
        var path = TestPaths.Fixture("python-written", "adapter-hub__adapters", "adapter1", "pytorch_adapter.bin");
        using var file = TorchPickleFile.Open(path);
        var pickle = TorchPickleWriter.Serialize(file.AsPayloads(), new TorchSaveOptions { ArchiveRoot = "archive" });
        using var ours = TorchPickleFile.FromBytes(pickle);
        Assert.Equal(ReadEntry(path, "archive/data.pkl"), ReadEntry(pickle, "archive/data.pkl"));
        foreach (var t in file.Tensors) Assert.Equal(file.ReadRaw(t.Name).Data.ToArray(), ours.ReadRaw(t.Name).Data.ToArray());
    }

    [Fact]
    public void Our_zip_files_round_trip_every_dtype_and_align_data_to_64_bytes()
    {
        using var source = TorchPickleFile.Open(TensorTestData.Generated("zip_dtypes.pt"));
        var path = Path.Combine(Path.GetTempPath(), $"rt-{Guid.NewGuid():N}.bin");
        try
        {
            TorchPickleWriter.Save(path, source.AsPayloads());
            using var back = TorchPickleFile.Open(path);
            Assert.Equal(Path.GetFileNameWithoutExtension(path), back.ArchiveRoot);
            Assert.Equal("3", back.Version);
            foreach (var t in source.Tensors)
            {
                Assert.Equal(t.DType, back.GetSpec(t.Name).DType);
                Assert.Equal(t.Shape, back.GetSpec(t.Name).Shape);
                Assert.Equal(source.ReadRaw(t.Name).Data.ToArray(), back.ReadRaw(t.Name).Data.ToArray());
            }
            using var zip = System.IO.Compression.ZipFile.OpenRead(path);
            var names = zip.Entries.Select(e => e.FullName.Split('/', 2)[1]).ToList();
            Assert.Equal(["data.pkl", ".format_version", ".storage_alignment", "byteorder"], names.Take(4));
            Assert.Equal(["version", ".data/serialization_id"], names.TakeLast(2));
            foreach (var entry in zip.Entries)
            {
                using var s = entry.Open();
                s.CopyTo(Stream.Null); // checks each CRC-32
            }
            var raw = File.ReadAllBytes(path);
            foreach (var entry in zip.Entries.Where(e => e.FullName.Contains("/data/", StringComparison.Ordinal)))
            {
                var offset = LocalDataOffset(raw, entry.FullName);
                Assert.Equal(0, offset % 64);
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Legacy_files_round_trip_through_our_zip_writer()
    {
        using var legacy = TorchPickleFile.Open(TensorTestData.Generated("legacy_p1.pt"));
        var bytes = TorchPickleWriter.Serialize(legacy.AsPayloads());
        using var back = TorchPickleFile.FromBytes(bytes);
        foreach (var t in legacy.Tensors) Assert.Equal(legacy.ReadRaw(t.Name).Data.ToArray(), back.ReadRaw(t.Name).Data.ToArray());
        Assert.All(back.TensorRefs.Values, t => Assert.True(t.IsContiguous));
    }

    private static long LocalDataOffset(byte[] zip, string name)
    {
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        for (var i = 0; i + 30 < zip.Length; i++)
        {
            if (zip[i] == 'P' && zip[i + 1] == 'K' && zip[i + 2] == 3 && zip[i + 3] == 4)
            {
                var n = BitConverter.ToUInt16(zip, i + 26);
                var e = BitConverter.ToUInt16(zip, i + 28);
                if (zip.AsSpan(i + 30, n).SequenceEqual(nameBytes)) return i + 30 + n + e;
            }
        }
        throw new InvalidOperationException(name);
    }

    private static byte[] ReadEntry(string path, string name) => ReadEntry(File.ReadAllBytes(path), name);

    private static byte[] ReadEntry(byte[] zipBytes, string name)
    {
        using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(zipBytes));
        using var s = zip.GetEntry(name)!.Open();
        var m = new MemoryStream();
        s.CopyTo(m);
        return m.ToArray();
    }
}
