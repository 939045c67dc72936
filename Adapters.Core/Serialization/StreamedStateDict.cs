using System.Collections;
using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace Adapters.Core.Serialization;

/// <summary>
/// A tensor file seen as a state dict that reads one tensor at a time: enumerating it loads each tensor in its stored
/// dtype and frees it when the enumeration moves on, so loading a model holds one checkpoint tensor at a time and
/// never converts a bf16/fp16 file to float32 on the way (the model's <c>copy_</c> converts straight into the target).
/// </summary>
internal sealed class StreamedStateDict : IReadOnlyDictionary<string, Tensor>
{
    private readonly TensorFile _file;
    private readonly Action<string, Tensor>? _onRead;
    private readonly IReadOnlySet<string> _skipped;

    /// <summary>
    /// Streams <paramref name="file"/>; <paramref name="onRead"/> sees every tensor as read (before use);
    /// <paramref name="skipped"/> names keys left out (already loaded another way, e.g. 4-bit weights).
    /// </summary>
    public StreamedStateDict(TensorFile file, Action<string, Tensor>? onRead = null, IReadOnlySet<string>? skipped = null)
    {
        _file = file ?? throw new ArgumentNullException(nameof(file));
        _onRead = onRead;
        _skipped = skipped ?? new HashSet<string>();
    }

    private IEnumerable<TensorSpec> Specs => _file.Tensors.Where(t => !_skipped.Contains(t.Name));

    /// <summary>Reads the tensor afresh; the caller owns (and disposes) it.</summary>
    public Tensor this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"{_file.FilePath}: no tensor named '{key}'.");

    /// <inheritdoc />
    public IEnumerable<string> Keys => Specs.Select(t => t.Name);

    /// <summary>Reads every tensor; each is disposed when the enumeration moves past it.</summary>
    public IEnumerable<Tensor> Values => this.Select(kv => kv.Value);

    /// <inheritdoc />
    public int Count => Specs.Count();

    /// <inheritdoc />
    public bool ContainsKey(string key) => _file.Contains(key) && !_skipped.Contains(key);

    /// <summary>Reads the tensor afresh when present; the caller owns (and disposes) it.</summary>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value)
    {
        value = ContainsKey(key) ? Read(key) : null;
        return value is not null;
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
    {
        foreach (var spec in Specs)
        {
            var tensor = Read(spec.Name);
            try
            {
                yield return new(spec.Name, tensor);
            }
            finally
            {
                tensor.Dispose();
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private Tensor Read(string name)
    {
        var tensor = _file.LoadTensor(name);
        _onRead?.Invoke(name, tensor);
        return tensor;
    }
}
