using static TorchSharp.torch;

namespace Adapters.Core.Composition;

/// <summary>
/// How a <see cref="MultiTask"/> block regroups a batch by task: <see cref="Order"/> lists the rows task by task
/// (Python's <c>task_ids.argsort()</c>, stable here), <see cref="Counts"/> holds the rows per child (the bincount of
/// the ids, one entry per child) and <see cref="Restore"/> puts the regrouped rows back in input order.
/// </summary>
internal sealed record TaskRows(Tensor Order, IReadOnlyList<int> Counts, Tensor Restore)
{
    /// <summary>
    /// The grouping for <paramref name="taskIds"/> (one id per row, int64) of a block with
    /// <paramref name="children"/> children; the tensors live on <paramref name="device"/>.
    /// </summary>
    /// <exception cref="AdapterCompositionException">An id is negative or names no child.</exception>
    public static TaskRows For(long[] taskIds, int children, string block, Device device)
    {
        var counts = new int[children];
        foreach (var id in taskIds)
        {
            if (id < 0 || id >= children)
                throw new AdapterCompositionException($"Task id {id} is out of range for {block}, which has {children} children (ids 0..{children - 1}).");
            counts[id]++;
        }
        var order = Enumerable.Range(0, taskIds.Length).OrderBy(i => taskIds[i]).Select(i => (long)i).ToArray();
        var restore = new long[order.Length];
        for (var i = 0; i < order.Length; i++) restore[order[i]] = i;
        return new TaskRows(tensor(order, device: device), counts, tensor(restore, device: device));
    }
}
