using System.Buffers.Binary;
using Adapters.Core.Serialization;
using Adapters.Testing;

namespace Adapters.Core.Tests.Serialization;

/// <summary>Paths and value decoding shared by the serialization tests.</summary>
internal static class TensorTestData
{
    public static string Fixture(params string[] parts) => TestPaths.Fixture(["tensors", .. parts]);

    public static string Samples(string name) => Fixture("huggingface__safetensors", "samples", name);

    public static string Flux(params string[] parts) => Fixture(["FluxML__SafeTensors.jl", "test", .. parts]);

    public static string Candle(string name) => Fixture("huggingface__candle", "candle-core", "tests", name);

    public static string PyBridge(params string[] parts) => Fixture(["shaltielshmid__TorchSharp.PyBridge", "TorchSharp.PyBridge.Tests", .. parts]);

    public static string Generated(string name) => Fixture("generated", name);

    public static string PeftIa3 => Fixture("huggingface__peft", "examples", "conditional_generation", "bigscience", "mt0-large_IA3_SEQ_2_SEQ_LM", "adapter_model.bin");

    /// <summary>Every value as decimal (integers exact) or double, by dtype.</summary>
    public static decimal[] Integers(RawTensor raw)
    {
        var s = raw.Data.Span;
        var size = raw.DType.ByteSize();
        var n = s.Length / size;
        var result = new decimal[n];
        for (var i = 0; i < n; i++)
        {
            var e = s.Slice(i * size, size);
            result[i] = raw.DType switch
            {
                TensorDType.U8 or TensorDType.Bool or TensorDType.F8_E4M3 or TensorDType.F8_E5M2 => e[0],
                TensorDType.I8 => (sbyte)e[0],
                TensorDType.I16 => BinaryPrimitives.ReadInt16LittleEndian(e),
                TensorDType.U16 => BinaryPrimitives.ReadUInt16LittleEndian(e),
                TensorDType.I32 => BinaryPrimitives.ReadInt32LittleEndian(e),
                TensorDType.U32 => BinaryPrimitives.ReadUInt32LittleEndian(e),
                TensorDType.I64 => BinaryPrimitives.ReadInt64LittleEndian(e),
                TensorDType.U64 => BinaryPrimitives.ReadUInt64LittleEndian(e),
                _ => throw new ArgumentException($"{raw.DType} is not an integer type"),
            };
        }
        return result;
    }

    public static double[] Floats(RawTensor raw)
    {
        var s = raw.Data.Span;
        var size = raw.DType.ByteSize();
        var n = s.Length / size;
        var result = new double[n];
        for (var i = 0; i < n; i++)
        {
            var e = s.Slice(i * size, size);
            result[i] = raw.DType switch
            {
                TensorDType.F16 => (double)BinaryPrimitives.ReadHalfLittleEndian(e),
                TensorDType.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(e) << 16),
                TensorDType.F32 => BinaryPrimitives.ReadSingleLittleEndian(e),
                TensorDType.F64 => BinaryPrimitives.ReadDoubleLittleEndian(e),
                _ => (double)Integers(new RawTensor(raw.DType, [1], e.ToArray()))[0],
            };
        }
        return result;
    }

    public static bool IsFloat(TensorDType d) => d is TensorDType.F16 or TensorDType.BF16 or TensorDType.F32 or TensorDType.F64;

    /// <summary>A small deterministic tensor of any dtype (raw bytes from a seed).</summary>
    public static RawTensor Random(TensorDType dtype, long[] shape, int seed)
    {
        var spec = new TensorSpec("x", dtype, shape);
        var bytes = new byte[spec.ByteLength];
        new Random(seed).NextBytes(bytes);
        if (dtype == TensorDType.Bool) for (var i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        return new RawTensor(dtype, shape, bytes);
    }
}
