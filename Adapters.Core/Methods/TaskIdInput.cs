using Adapters.Core.Composition;
using static TorchSharp.torch;

namespace Adapters.Core.Methods;

/// <summary>
/// The task ids given for the forward passes of a <see cref="MultiTask"/> setup (Python's <c>task_ids</c> forward
/// argument): one per row, either child indices or child names, which are resolved against the block's children as
/// Python's <c>children.index(task)</c> does.
/// </summary>
internal sealed class TaskIdInput
{
    private readonly long[]? _indices;
    private readonly string[]? _names;

    private TaskIdInput(long[]? indices, string[]? names, Device device)
    {
        _indices = indices;
        _names = names;
        Device = device;
    }

    /// <summary>Where the row orderings are built (the device of the ids tensor; CPU for names).</summary>
    public Device Device { get; }

    /// <summary>Ids from a tensor of one integer per row (read once, on the CPU).</summary>
    /// <exception cref="ArgumentException">The tensor is not one-dimensional or not of an integer type.</exception>
    public static TaskIdInput FromTensor(Tensor taskIds)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        if (taskIds.dim() != 1)
            throw new ArgumentException($"task_ids must be a 1-D tensor with one id per row, got shape [{string.Join(", ", taskIds.shape)}].", nameof(taskIds));
        if (taskIds.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte))
            throw new ArgumentException($"task_ids must hold integers, got {taskIds.dtype}.", nameof(taskIds));
        return new TaskIdInput(taskIds.to(ScalarType.Int64).cpu().data<long>().ToArray(), null, taskIds.device);
    }

    /// <summary>Ids given as the children's adapter names, one per row.</summary>
    /// <exception cref="ArgumentException">The list is empty or holds an empty name.</exception>
    public static TaskIdInput FromNames(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Count == 0 || names.Any(string.IsNullOrEmpty))
            throw new ArgumentException("task_ids must name one task (a child of the MultiTask block) per row.", nameof(names));
        return new TaskIdInput(null, names.ToArray(), CPU);
    }

    /// <summary>The child index of each row for <paramref name="block"/>.</summary>
    /// <exception cref="AdapterCompositionException">A name is not one of the block's children.</exception>
    public long[] Resolve(MultiTask block)
    {
        if (_indices is not null) return _indices;
        var children = block.Children.Select(c => c.ToString()).ToList();
        return _names!.Select(name =>
        {
            var index = children.IndexOf(name);
            return index >= 0 ? index
                : throw new AdapterCompositionException($"Task \"{name}\" is not a child of {block}; task ids name its children ({string.Join(", ", children)}).");
        }).Select(i => (long)i).ToArray();
    }
}
