using TorchSharp;

namespace Adapters.Core.Serialization;

/// <summary>
/// Element types of tensors in files. The order is the reference safetensors implementation's
/// (increasing alignment); its writer sorts tensors by this order descending, then by name.
/// </summary>
public enum TensorDType
{
    /// <summary>Boolean, one byte.</summary>
    Bool,
    /// <summary>MXFP4, 4 bits (raw bytes only).</summary>
    F4,
    /// <summary>MXFP6 E2M3, 6 bits (raw bytes only).</summary>
    F6_E2M3,
    /// <summary>MXFP6 E3M2, 6 bits (raw bytes only).</summary>
    F6_E3M2,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>FP8 E5M2 (raw bytes in TorchSharp).</summary>
    F8_E5M2,
    /// <summary>FP8 E4M3 "fn" (raw bytes in TorchSharp).</summary>
    F8_E4M3,
    /// <summary>FP8 E8M0 (raw bytes in TorchSharp).</summary>
    F8_E8M0,
    /// <summary>FP8 E4M3 FNUZ (raw bytes in TorchSharp).</summary>
    F8_E4M3FNUZ,
    /// <summary>FP8 E5M2 FNUZ (raw bytes in TorchSharp).</summary>
    F8_E5M2FNUZ,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Unsigned 16-bit integer (raw bits as Int16 in TorchSharp).</summary>
    U16,
    /// <summary>IEEE half precision.</summary>
    F16,
    /// <summary>bfloat16.</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 32-bit integer (raw bits as Int32 in TorchSharp).</summary>
    U32,
    /// <summary>IEEE single precision.</summary>
    F32,
    /// <summary>Complex with 32-bit parts.</summary>
    C64,
    /// <summary>IEEE double precision.</summary>
    F64,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 64-bit integer (raw bits as Int64 in TorchSharp).</summary>
    U64,
    /// <summary>Complex with 64-bit parts (torch pickles only; safetensors has no such type).</summary>
    C128,
}

/// <summary>Facts about each <see cref="TensorDType"/>: sizes, names in each format, TorchSharp types.</summary>
public static class TensorDTypes
{
    private sealed record Info(
        TensorDType DType, string? SafetensorsName, int Bits, string TorchName, string? LegacyStorage,
        torch.ScalarType? Scalar, torch.ScalarType Carrier);

    private static readonly Info[] s_infos =
    [
        new(TensorDType.Bool, "BOOL", 8, "bool", "BoolStorage", torch.ScalarType.Bool, torch.ScalarType.Bool),
        new(TensorDType.F4, "F4", 4, "float4_e2m1fn_x2", null, null, torch.ScalarType.Byte),
        new(TensorDType.F6_E2M3, "F6_E2M3", 6, "float6_e2m3", null, null, torch.ScalarType.Byte),
        new(TensorDType.F6_E3M2, "F6_E3M2", 6, "float6_e3m2", null, null, torch.ScalarType.Byte),
        new(TensorDType.U8, "U8", 8, "uint8", "ByteStorage", torch.ScalarType.Byte, torch.ScalarType.Byte),
        new(TensorDType.I8, "I8", 8, "int8", "CharStorage", torch.ScalarType.Int8, torch.ScalarType.Int8),
        new(TensorDType.F8_E5M2, "F8_E5M2", 8, "float8_e5m2", null, null, torch.ScalarType.Byte),
        new(TensorDType.F8_E4M3, "F8_E4M3", 8, "float8_e4m3fn", null, null, torch.ScalarType.Byte),
        new(TensorDType.F8_E8M0, "F8_E8M0", 8, "float8_e8m0fnu", null, null, torch.ScalarType.Byte),
        new(TensorDType.F8_E4M3FNUZ, "F8_E4M3FNUZ", 8, "float8_e4m3fnuz", null, null, torch.ScalarType.Byte),
        new(TensorDType.F8_E5M2FNUZ, "F8_E5M2FNUZ", 8, "float8_e5m2fnuz", null, null, torch.ScalarType.Byte),
        new(TensorDType.I16, "I16", 16, "int16", "ShortStorage", torch.ScalarType.Int16, torch.ScalarType.Int16),
        new(TensorDType.U16, "U16", 16, "uint16", null, null, torch.ScalarType.Int16),
        new(TensorDType.F16, "F16", 16, "float16", "HalfStorage", torch.ScalarType.Float16, torch.ScalarType.Float16),
        new(TensorDType.BF16, "BF16", 16, "bfloat16", "BFloat16Storage", torch.ScalarType.BFloat16, torch.ScalarType.BFloat16),
        new(TensorDType.I32, "I32", 32, "int32", "IntStorage", torch.ScalarType.Int32, torch.ScalarType.Int32),
        new(TensorDType.U32, "U32", 32, "uint32", null, null, torch.ScalarType.Int32),
        new(TensorDType.F32, "F32", 32, "float32", "FloatStorage", torch.ScalarType.Float32, torch.ScalarType.Float32),
        new(TensorDType.C64, "C64", 64, "complex64", "ComplexFloatStorage", torch.ScalarType.ComplexFloat32, torch.ScalarType.ComplexFloat32),
        new(TensorDType.F64, "F64", 64, "float64", "DoubleStorage", torch.ScalarType.Float64, torch.ScalarType.Float64),
        new(TensorDType.I64, "I64", 64, "int64", "LongStorage", torch.ScalarType.Int64, torch.ScalarType.Int64),
        new(TensorDType.U64, "U64", 64, "uint64", null, null, torch.ScalarType.Int64),
        new(TensorDType.C128, null, 128, "complex128", "ComplexDoubleStorage", torch.ScalarType.ComplexFloat64, torch.ScalarType.ComplexFloat64),
    ];

    private static readonly Dictionary<string, TensorDType> s_bySafetensorsName =
        s_infos.Where(i => i.SafetensorsName is not null).ToDictionary(i => i.SafetensorsName!, i => i.DType, StringComparer.Ordinal);

    private static readonly Dictionary<string, TensorDType> s_byLegacyStorage =
        s_infos.Where(i => i.LegacyStorage is not null).ToDictionary(i => i.LegacyStorage!, i => i.DType, StringComparer.Ordinal);

    private static readonly Dictionary<string, TensorDType> s_byTorchName = BuildTorchNames();

    private static Dictionary<string, TensorDType> BuildTorchNames()
    {
        var map = s_infos.ToDictionary(i => i.TorchName, i => i.DType, StringComparer.Ordinal);
        // The aliases torch also accepts as attribute names.
        map["half"] = TensorDType.F16;
        map["float"] = TensorDType.F32;
        map["double"] = TensorDType.F64;
        map["long"] = TensorDType.I64;
        map["int"] = TensorDType.I32;
        map["short"] = TensorDType.I16;
        map["cfloat"] = TensorDType.C64;
        map["cdouble"] = TensorDType.C128;
        return map;
    }

    private static Info Get(TensorDType dtype) =>
        (uint)dtype < (uint)s_infos.Length ? s_infos[(int)dtype] : throw new ArgumentOutOfRangeException(nameof(dtype));

    /// <summary>Bits per element (4 and 6 for the packed MX types).</summary>
    public static int BitSize(this TensorDType dtype) => Get(dtype).Bits;

    /// <summary>Bytes per element; 1 for the sub-byte types, which are handled as packed bytes.</summary>
    public static int ByteSize(this TensorDType dtype) => Math.Max(1, Get(dtype).Bits / 8);

    /// <summary>The safetensors header name (<c>F32</c>, <c>BF16</c>, ...), or null for types safetensors lacks.</summary>
    public static string? SafetensorsName(this TensorDType dtype) => Get(dtype).SafetensorsName;

    /// <summary>The torch name (<c>float32</c>, <c>float8_e4m3fn</c>, ...).</summary>
    public static string TorchName(this TensorDType dtype) => Get(dtype).TorchName;

    /// <summary>The legacy typed storage class (<c>FloatStorage</c>), or null for dtypes torch saves with <c>UntypedStorage</c>.</summary>
    public static string? LegacyStorageName(this TensorDType dtype) => Get(dtype).LegacyStorage;

    /// <summary>The TorchSharp scalar type, or null where TorchSharp has none (unsigned 16-64 bit, FP8, FP4, FP6).</summary>
    public static torch.ScalarType? ScalarType(this TensorDType dtype) => Get(dtype).Scalar;

    /// <summary>
    /// The TorchSharp type that holds the raw bits: the same type where one exists, otherwise the signed type of
    /// the same width (U16/U32/U64) or bytes (FP8 and narrower).
    /// </summary>
    public static torch.ScalarType CarrierScalarType(this TensorDType dtype) => Get(dtype).Carrier;

    /// <summary>Parses a safetensors dtype name.</summary>
    public static bool TryParseSafetensors(string name, out TensorDType dtype) => s_bySafetensorsName.TryGetValue(name, out dtype);

    /// <summary>Parses a torch dtype name such as <c>float32</c> or <c>half</c>.</summary>
    public static bool TryParseTorchName(string name, out TensorDType dtype) => s_byTorchName.TryGetValue(name, out dtype);

    /// <summary>Parses a typed storage class name such as <c>FloatStorage</c>.</summary>
    public static bool TryParseLegacyStorage(string name, out TensorDType dtype) => s_byLegacyStorage.TryGetValue(name, out dtype);

    /// <summary>The file dtype for a TorchSharp scalar type.</summary>
    public static TensorDType FromScalarType(torch.ScalarType scalarType) => scalarType switch
    {
        torch.ScalarType.Bool => TensorDType.Bool,
        torch.ScalarType.Byte => TensorDType.U8,
        torch.ScalarType.Int8 => TensorDType.I8,
        torch.ScalarType.Int16 => TensorDType.I16,
        torch.ScalarType.Int32 => TensorDType.I32,
        torch.ScalarType.Int64 => TensorDType.I64,
        torch.ScalarType.Float16 => TensorDType.F16,
        torch.ScalarType.BFloat16 => TensorDType.BF16,
        torch.ScalarType.Float32 => TensorDType.F32,
        torch.ScalarType.Float64 => TensorDType.F64,
        torch.ScalarType.ComplexFloat32 => TensorDType.C64,
        torch.ScalarType.ComplexFloat64 => TensorDType.C128,
        _ => throw new NotSupportedException($"TorchSharp type {scalarType} cannot be stored in a tensor file."),
    };
}
