using static TorchSharp.torch;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Methods;

/// <summary>
/// Everything one forward pass of a model shares across its adapter layers, Python's <c>ForwardContext</c>: the input
/// attention mask (ReFT positions), the prefix states computed once for all layers, whether a
/// <see cref="Parallel"/> block already replicated the batch, and the AdapterFusion attentions when requested.
/// </summary>
/// <remarks>
/// A model opens it with <see cref="ActiveAdapterSetup.BeginForward"/> (through <c>AdapterModel.BeginAdapterForward</c>)
/// at the start of its forward and disposes it at the end; adapter sites find it through
/// <see cref="ActiveAdapterSetup.OpenForward"/>. It flows with the async context, so concurrent forwards on different
/// threads never see each other's state, and a forward nested in another restores the outer context when it ends.
/// After the pass, <see cref="ActiveAdapterSetup.Forward"/> still returns it on the same flow so that recorded fusion
/// attentions can be read.
/// </remarks>
public sealed class AdapterForwardContext : IDisposable
{
    private static readonly AsyncLocal<AdapterForwardContext?> s_current = new();
    private readonly AdapterForwardContext? _outer;
    private readonly Dictionary<string, Tensor> _prefixStates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<int, Dictionary<string, Tensor>>> _fusionAttentions = new(StringComparer.Ordinal);
    private bool _disposed;

    private AdapterForwardContext(ActiveAdapterSetup? setup, Tensor? attentionMask, AdapterForwardContext? outer)
    {
        Setup = setup;
        AttentionMask = attentionMask;
        _outer = outer;
    }

    /// <summary>The innermost context open on this async flow, or null outside every forward pass.</summary>
    public static AdapterForwardContext? Current => s_current.Value;

    /// <summary>The adapter setup of the model whose forward opened this context; null for a context opened with <see cref="Begin(Tensor?)"/>.</summary>
    public ActiveAdapterSetup? Setup { get; }

    /// <summary>The model input's attention mask (B, S), 1 for real tokens, or null when none was given.</summary>
    public Tensor? AttentionMask { get; }

    /// <summary>Whether the pass is still running (the context has not been disposed).</summary>
    public bool IsOpen => !_disposed;

    /// <summary>Whether the batch has been replicated for a Parallel block (Python's <c>adapters_parallelized</c>).</summary>
    public bool Parallelized { get; private set; }

    /// <summary>The batch size before replication (Python's <c>original_batch_size</c>); 0 before it happened.</summary>
    public long OriginalBatchSize { get; private set; }

    /// <summary>
    /// Fusion attention probabilities recorded in this pass when <see cref="ActiveAdapterSetup.OutputFusionAttentions"/>
    /// is set: fusion name → layer → location (<c>mh_adapter</c> or <c>output_adapter</c>) → probabilities of shape
    /// (B, S, N), detached. They stay valid until the next pass of the same model on this flow ends.
    /// </summary>
    public IReadOnlyDictionary<string, Dictionary<int, Dictionary<string, Tensor>>> FusionAttentions => _fusionAttentions;

    /// <summary>
    /// Opens a context that belongs to no particular model, given <paramref name="attentionMask"/>; every model's
    /// adapter sites use it while it is the innermost one. Models open theirs with <see cref="ActiveAdapterSetup.BeginForward"/>.
    /// </summary>
    public static AdapterForwardContext Begin(Tensor? attentionMask) => Begin(null, attentionMask);

    internal static AdapterForwardContext Begin(ActiveAdapterSetup? setup, Tensor? attentionMask)
    {
        var context = new AdapterForwardContext(setup, attentionMask, s_current.Value);
        s_current.Value = context;
        return context;
    }

    /// <summary>A context that never ran: nothing recorded, not open.</summary>
    internal static AdapterForwardContext Closed() => new(null, null, null) { _disposed = true };

    /// <summary>The innermost open context of <paramref name="setup"/> on this flow (a context of no model counts for all), or null.</summary>
    internal static AdapterForwardContext? OpenFor(ActiveAdapterSetup setup)
    {
        for (var context = s_current.Value; context is not null; context = context._outer)
            if (context.Setup is null || ReferenceEquals(context.Setup, setup)) return context;
        return null;
    }

    /// <summary>
    /// How a <see cref="Composition.Parallel"/> block with <paramref name="channels"/> children sees a site's
    /// <paramref name="rows"/>: the first site of the pass (or one still holding the un-replicated batch, as LoRA on
    /// q/k/v does, Python's <c>allow_multi_parallelize</c>) must replicate them, and this records that; later sites
    /// split the replicated batch. Returns the original batch size, i.e. the rows per child.
    /// </summary>
    /// <exception cref="Composition.AdapterCompositionException">Replicated rows that do not divide into the channels.</exception>
    public long ParallelRows(long rows, int channels, out bool replicate)
    {
        replicate = !Parallelized || rows == OriginalBatchSize;
        if (replicate)
        {
            MarkParallelized(rows);
            return rows;
        }
        if (rows % channels != 0)
            throw new Composition.AdapterCompositionException($"The batch of {rows} rows in a Parallel block is not divisible by its {channels} channels.");
        return rows / channels;
    }

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

    /// <summary>The prefix states of key <paramref name="key"/> for this pass, computed by <paramref name="compute"/> on first use.</summary>
    internal Tensor PrefixStates(string key, Func<Tensor> compute)
    {
        if (!_prefixStates.TryGetValue(key, out var states))
        {
            // Layers run in their own dispose scopes (decoders do); the states must outlive the first layer's scope, so
            // the context owns them until the pass ends. Autograd keeps what backward needs on its own.
            states = compute().DetachFromDisposeScope();
            _prefixStates[key] = states;
        }
        return states;
    }

    /// <summary>Frees the recorded fusion attentions; called when a later pass of the same model replaces this one.</summary>
    internal void ReleaseRecords()
    {
        foreach (var byLayer in _fusionAttentions.Values)
            foreach (var byLocation in byLayer.Values)
                foreach (var tensor in byLocation.Values) tensor.Dispose();
        _fusionAttentions.Clear();
    }

    /// <summary>Ends the pass: the context that was current before it becomes current again.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var states in _prefixStates.Values) states.Dispose();
        _prefixStates.Clear();
        if (ReferenceEquals(s_current.Value, this)) s_current.Value = _outer;
        Setup?.Finished(this);
    }
}
