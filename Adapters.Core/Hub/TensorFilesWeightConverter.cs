using Adapters.Core.Serialization;

// In Adapters.Core because it reads pickles with TorchSharp; the namespace is the migration's it plugs into.
namespace Adapters.Hub.Legacy.Migration;

/// <summary>Converts legacy <c>pytorch_adapter.bin</c> pickles to <c>adapter.safetensors</c> with the restricted reader (nothing in the pickle runs).</summary>
public sealed class TensorFilesWeightConverter : IAdapterWeightConverter
{
    /// <inheritdoc />
    public Task ConvertAsync(string pickleFile, string safetensorsFile, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TensorFiles.Convert(pickleFile, safetensorsFile);
        return Task.CompletedTask;
    }
}
