using Adapters.Core.Serialization.Pickle;
using static TorchSharp.torch;

namespace Adapters.Core.Serialization;

/// <summary>
/// The entry point for tensor files: open, load, save and convert safetensors, sharded safetensors and torch
/// pickles, choosing the format from the file's first bytes (reading) or its extension (writing).
/// </summary>
public static class TensorFiles
{
    /// <summary>Extensions written as a torch zip pickle.</summary>
    public static IReadOnlyList<string> TorchExtensions { get; } = [".bin", ".pt", ".pth", ".ckpt"];

    /// <summary>Opens any supported tensor file for lazy reading within the default parser limits; dispose the result.</summary>
    /// <exception cref="TensorFormatException">Missing, unrecognised, malformed, unsafe or beyond a limit.</exception>
    public static TensorFile Open(string path) => Open(path, null, null);

    /// <summary>
    /// Opens any supported tensor file for lazy reading; torch pickles are decoded within <paramref name="pickleLimits"/>
    /// and <paramref name="zipLimits"/> (null: the defaults). Dispose the result.
    /// </summary>
    /// <exception cref="TensorFormatException">Missing, unrecognised, malformed, unsafe or beyond a limit (<see cref="TensorLimitException"/>).</exception>
    public static TensorFile Open(string path, PickleLimits? pickleLimits, ZipLimits? zipLimits)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) throw new TensorFormatException(path, "is a directory, not a tensor file");
        if (!File.Exists(path)) throw new TensorFormatException(path, "file not found");
        return DetectFormat(path) switch
        {
            TensorFileFormat.SafetensorsSharded => ShardedSafeTensorsFile.Open(path),
            TensorFileFormat.Safetensors => SafeTensorsFile.Open(path),
            _ => TorchPickleFile.Open(path, pickleLimits, zipLimits),
        };
    }

    /// <summary>Loads every tensor of a file into CPU TorchSharp tensors (dispose the result to free them).</summary>
    public static StateDict Load(string path)
    {
        using var file = Open(path);
        return file.LoadAll();
    }

    /// <summary>
    /// Saves tensors by extension: <c>.safetensors</c> (with <paramref name="metadata"/>, by default
    /// <c>{"format":"pt"}</c>) or <c>.bin</c>/<c>.pt</c>/<c>.pth</c>/<c>.ckpt</c> (torch zip pickle of a dict).
    /// </summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyList<KeyValuePair<string, string>>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        IEnumerable<TensorPayload> payloads = tensors is StateDict sd
            ? sd.AsPayloads()
            : tensors.Select(kv => TensorPayload.FromTensor(kv.Key, kv.Value));
        Save(path, payloads, metadata ?? (tensors as StateDict)?.Metadata);
    }

    /// <summary>Saves payloads by extension (see <see cref="Save(string, IEnumerable{KeyValuePair{string, Tensor}}, IReadOnlyList{KeyValuePair{string, string}}?)"/>).</summary>
    public static void Save(string path, IEnumerable<TensorPayload> tensors, IReadOnlyList<KeyValuePair<string, string>>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (IsSafetensorsPath(path)) SafeTensorsWriter.Save(path, tensors, metadata ?? SafeTensorsWriter.DefaultMetadata);
        else if (IsTorchPath(path)) TorchPickleWriter.Save(path, tensors);
        else throw new ArgumentException($"{path}: unknown tensor file extension (use .safetensors, .bin, .pt or .pth)", nameof(path));
    }

    /// <summary>
    /// Converts between formats by extension, streaming tensor by tensor without TorchSharp: torch pickle ↔
    /// safetensors (or a sharded index → one file). Safetensors metadata is kept when writing safetensors from
    /// safetensors, and is <c>{"format":"pt"}</c> otherwise.
    /// </summary>
    public static void Convert(string input, string output)
    {
        if (!IsSafetensorsPath(output) && !IsTorchPath(output))
            throw new ArgumentException($"{output}: unknown output extension (use .safetensors, .bin, .pt or .pth)", nameof(output));
        using var file = Open(input);
        // Refuse views that would expand (stride 0 over a small storage) before the output exists at all.
        if (file is TorchPickleFile pickle)
        {
            foreach (var spec in pickle.Tensors) pickle.EnsureMaterializable(spec.Name);
        }
        var metadata = file.Format is TensorFileFormat.Safetensors or TensorFileFormat.SafetensorsSharded && file.Metadata is not null
            ? file.Metadata
            : SafeTensorsWriter.DefaultMetadata;
        var payloads = file.AsPayloads().ToList();
        if (IsSafetensorsPath(output))
        {
            foreach (var p in payloads)
            {
                if (p.Spec.DType.SafetensorsName() is null)
                    throw new TensorFormatException(input, $"tensor '{p.Spec.Name}' is {p.Spec.DType.TorchName()}, which safetensors cannot store");
            }
            SafeTensorsWriter.Save(output, payloads, metadata);
        }
        else
        {
            TorchPickleWriter.Save(output, payloads);
        }
    }

    /// <summary>Detects the format from the first bytes (and <c>.json</c> for a shard index).</summary>
    public static TensorFileFormat DetectFormat(string path)
    {
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return TensorFileFormat.SafetensorsSharded;
        Span<byte> head = stackalloc byte[9];
        int read;
        long length;
        try
        {
            using var stream = File.OpenRead(path);
            length = stream.Length;
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TensorFormatException(path, $"cannot open: {ex.Message}", ex);
        }
        if (read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4) return TensorFileFormat.TorchZip;
        if (read >= 9 && head[8] == (byte)'{') return TensorFileFormat.Safetensors;
        if (IsSafetensorsPath(path)) return TensorFileFormat.Safetensors;
        if (read >= 1 && (head[0] == 0x80 || IsTorchPath(path))) return TensorFileFormat.TorchLegacy;
        if (read >= 8 && length >= 8 && BitConverter.ToUInt64(head[..8]) <= (ulong)length - 8) return TensorFileFormat.Safetensors;
        return TensorFileFormat.TorchLegacy;
    }

    private static bool IsSafetensorsPath(string path) => path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);

    private static bool IsTorchPath(string path) => TorchExtensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase));
}
