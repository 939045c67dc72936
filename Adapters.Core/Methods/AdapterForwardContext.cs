using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>
/// State shared by all adapter modules during one model forward pass, in the role of Python's <c>ForwardContext</c>:
/// the input attention mask (ReFT positions) and the prefix states computed once per pass for all layers. A model opens it with <see cref="Begin"/> at the start of its forward and disposes it
/// at the end; modules read it through <see cref="Current"/>. It flows with the async context, so concurrent forwards
/// on different threads do not see each other's state.
/// </summary>
public sealed class AdapterForwardContext : IDisposable
{
    private static readonly AsyncLocal<AdapterForwardContext?> s_current = new();
    private readonly AdapterForwardContext? _outer;
    private readonly Dictionary<string, Tensor> _prefixStates = new(StringComparer.Ordinal);
    private bool _disposed;

    private AdapterForwardContext(Tensor? attentionMask, AdapterForwardContext? outer)
    {
        AttentionMask = attentionMask;
        _outer = outer;
    }

    /// <summary>The context of the forward pass running on this async flow, or null outside one.</summary>
    public static AdapterForwardContext? Current => s_current.Value;

    /// <summary>The model input's attention mask (B, S), 1 for real tokens, or null when none was given.</summary>
    public Tensor? AttentionMask { get; }

    /// <summary>Opens a context for one forward pass of a model given <paramref name="attentionMask"/>.</summary>
    public static AdapterForwardContext Begin(Tensor? attentionMask)
    {
        var context = new AdapterForwardContext(attentionMask, s_current.Value);
        s_current.Value = context;
        return context;
    }

    /// <summary>The prefix states of adapter <paramref name="name"/> for this pass, computed by <paramref name="compute"/> on first use.</summary>
    internal Tensor PrefixStates(string name, Func<Tensor> compute)
    {
        if (!_prefixStates.TryGetValue(name, out var states))
        {
            // Layers run in their own dispose scopes (decoders do); the states must outlive the first layer's scope, so
            // the context owns them until the pass ends. Autograd keeps what backward needs on its own.
            states = compute().DetachFromDisposeScope();
            _prefixStates[name] = states;
        }
        return states;
    }

    /// <summary>Closes the context and restores the one that was current before <see cref="Begin"/>.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var states in _prefixStates.Values) states.Dispose();
        _prefixStates.Clear();
        if (ReferenceEquals(s_current.Value, this)) s_current.Value = _outer;
    }
}
