using Adapters.Core.Composition;
using static TorchSharp.torch;

using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Methods;

/// <summary>
/// Everything one forward pass of a model shares across its adapter layers, Python's <c>ForwardContext</c>: the input
/// attention mask (ReFT positions), the task ids of a <see cref="MultiTask"/> setup, the prefix states computed once
/// for all layers, whether a <see cref="Parallel"/> block already replicated the batch, and the
/// <see cref="AdapterForwardOutputs"/> the sites report when the model asked for them.
/// </summary>
/// <remarks>
/// A model opens it with <see cref="ActiveAdapterSetup.BeginForward"/> (through <c>AdapterModel.BeginAdapterForward</c>)
/// at the start of its forward, returns <see cref="Outputs"/> on its output and disposes the context at the end. The
/// context is ambient while the pass runs, as Python's <c>ForwardContext.get_context()</c> is: adapter sites sit deep
/// inside modules whose signatures follow transformers and cannot carry it. It flows with the async context, so
/// concurrent forwards on different threads never see each other's state, and a forward nested in another restores the
/// outer context when it ends. Nothing is handed back through it after the pass: results travel on the model output.
/// </remarks>
public sealed class AdapterForwardContext : IDisposable
{
    private static readonly AsyncLocal<AdapterForwardContext?> s_current = new();
    private readonly AdapterForwardContext? _outer;
    private readonly Dictionary<string, Tensor> _prefixStates = new(StringComparer.Ordinal);
    private readonly TaskIdInput? _taskIds;
    private bool _disposed;

    private AdapterForwardContext(ActiveAdapterSetup? setup, Tensor? attentionMask, AdapterForwardContext? outer)
    {
        Setup = setup;
        AttentionMask = attentionMask;
        _outer = outer;
        _taskIds = setup?.TaskIdInput;
        if (setup is { OutputFusionAttentions: true } or { OutputGatingScores: true })
            Outputs = new AdapterForwardOutputs(setup.OutputFusionAttentions, setup.OutputGatingScores);
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
    /// What the sites of this pass report (fusion attentions, gating scores), or null when the model asked for neither
    /// (<see cref="ActiveAdapterSetup.OutputFusionAttentions"/>, <see cref="ActiveAdapterSetup.OutputGatingScores"/>).
    /// The model's forward returns it on its output.
    /// </summary>
    public AdapterForwardOutputs? Outputs { get; }

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

    /// <summary>The innermost open context of <paramref name="setup"/> on this flow (a context of no model counts for all), or null.</summary>
    internal static AdapterForwardContext? OpenFor(ActiveAdapterSetup setup)
    {
        for (var context = s_current.Value; context is not null; context = context._outer)
            if (context.Setup is null || ReferenceEquals(context.Setup, setup)) return context;
        return null;
    }

    /// <summary>
    /// How a <see cref="Parallel"/> block with <paramref name="channels"/> children sees a site's
    /// <paramref name="rows"/>: the first site of the pass (or one still holding the un-replicated batch, as LoRA on
    /// q/k/v does, Python's <c>allow_multi_parallelize</c>) must replicate them, and this records that; later sites
    /// split the replicated batch. Returns the original batch size, i.e. the rows per child.
    /// </summary>
    /// <exception cref="AdapterCompositionException">Replicated rows that do not divide into the channels.</exception>
    public long ParallelRows(long rows, int channels, out bool replicate)
    {
        replicate = !Parallelized || rows == OriginalBatchSize;
        if (replicate)
        {
            MarkParallelized(rows);
            return rows;
        }
        if (rows % channels != 0)
            throw new AdapterCompositionException($"The batch of {rows} rows in a Parallel block is not divisible by its {channels} channels.");
        return rows / channels;
    }

    /// <summary>Records that the batch of size <paramref name="originalBatchSize"/> was replicated.</summary>
    public void MarkParallelized(long originalBatchSize)
    {
        Parallelized = true;
        OriginalBatchSize = originalBatchSize;
    }

    /// <summary>
    /// How <paramref name="block"/> regroups this pass's <paramref name="rows"/> rows by task (Python reads
    /// <c>context.task_ids</c>, given to the model's forward).
    /// </summary>
    /// <exception cref="AdapterCompositionException">No task ids were given, or they do not fit the batch or the block.</exception>
    internal TaskRows TaskIds(MultiTask block, long rows)
    {
        if (_taskIds is null)
            throw new AdapterCompositionException(
                $"{block} needs one task id per row of the batch; run the forward inside AdapterModel.UseTaskIds(...) (Python's task_ids argument).");
        var ids = _taskIds.Resolve(block);
        // A Parallel block before it, or generation's replicated inputs, give whole copies of the batch; each copy keeps its task ids.
        if (ids.Length != rows)
        {
            if (ids.Length == 0 || rows % ids.Length != 0)
                throw new AdapterCompositionException($"{block} got {ids.Length} task ids for a batch of {rows} rows; give one id per row.");
            ids = Enumerable.Repeat(ids, (int)(rows / ids.Length)).SelectMany(x => x).ToArray();
        }
        return TaskRows.For(ids, block.Children.Count, block.ToString(), _taskIds.Device);
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

    /// <summary>Ends the pass: the context that was current before it becomes current again.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var states in _prefixStates.Values) states.Dispose();
        _prefixStates.Clear();
        if (ReferenceEquals(s_current.Value, this)) s_current.Value = _outer;
    }
}
