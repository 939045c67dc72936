using static TorchSharp.torch;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Composition;

/// <summary>
/// What one forward pass of a model remembers across its adapter layers (the composition part of Python's
/// <c>ForwardContext</c>): whether a <see cref="Parallel"/> setup already replicated the batch, and the AdapterFusion
/// attention probabilities when they were requested.
/// </summary>
public sealed class CompositionForwardState
{
    private readonly Dictionary<string, Dictionary<int, Dictionary<string, Tensor>>> _fusionAttentions = new(StringComparer.Ordinal);

    /// <summary>Whether the batch has been replicated for a Parallel block (Python's <c>adapters_parallelized</c>).</summary>
    public bool Parallelized { get; private set; }

    /// <summary>The batch size before replication (Python's <c>original_batch_size</c>); 0 before it happened.</summary>
    public long OriginalBatchSize { get; private set; }

    /// <summary>
    /// Fusion attention probabilities recorded in the last forward pass when
    /// <see cref="Methods.ActiveAdapterSetup.OutputFusionAttentions"/> is set: fusion name → layer → location
    /// (<c>mh_adapter</c> or <c>output_adapter</c>) → probabilities of shape (B, S, N), detached.
    /// </summary>
    public IReadOnlyDictionary<string, Dictionary<int, Dictionary<string, Tensor>>> FusionAttentions => _fusionAttentions;

    /// <summary>Records that the batch of size <paramref name="originalBatchSize"/> was replicated.</summary>
    public void MarkParallelized(long originalBatchSize)
    {
        Parallelized = true;
        OriginalBatchSize = originalBatchSize;
    }

    /// <summary>Stores the attention probabilities of fusion <paramref name="fusion"/> at a layer and location.</summary>
    public void RecordFusionAttention(string fusion, int layer, string location, Tensor probabilities)
    {
        ArgumentNullException.ThrowIfNull(probabilities);
        if (!_fusionAttentions.TryGetValue(fusion, out var byLayer)) _fusionAttentions[fusion] = byLayer = [];
        if (!byLayer.TryGetValue(layer, out var byLocation)) byLayer[layer] = byLocation = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        if (byLocation.TryGetValue(location, out var previous)) previous.Dispose();
        var kept = probabilities.detach().clone();
        kept.DetachFromDisposeScope();
        byLocation[location] = kept;
    }

    /// <summary>Forgets everything; called when a new forward pass starts.</summary>
    public void Reset()
    {
        Parallelized = false;
        OriginalBatchSize = 0;
        foreach (var byLayer in _fusionAttentions.Values)
            foreach (var byLocation in byLayer.Values)
                foreach (var tensor in byLocation.Values) tensor.Dispose();
        _fusionAttentions.Clear();
    }
}
