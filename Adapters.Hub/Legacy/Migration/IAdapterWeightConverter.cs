namespace Adapters.Hub.Legacy.Migration;

/// <summary>Converts a pickled weight file (<c>pytorch_adapter.bin</c>) to safetensors; supplied by the tensor-format layer.</summary>
public interface IAdapterWeightConverter
{
    /// <summary>Reads <paramref name="pickleFile"/> and writes the same tensors to <paramref name="safetensorsFile"/>.</summary>
    Task ConvertAsync(string pickleFile, string safetensorsFile, CancellationToken cancellationToken = default);
}
