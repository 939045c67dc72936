namespace Adapters.Core.Composition;

/// <summary>
/// Routes each row of the batch to the child named by its task id (Python's <c>MultiTask</c>, adapters 1.2): the
/// forward pass gets one task id per row (an index into the children, or a child's name), the rows are grouped by
/// task, each group runs its child, and the rows return to their original order. Used with multi-task configs such as
/// MTL-LoRA; give the ids with <c>AdapterModel.UseTaskIds</c>.
/// </summary>
public sealed class MultiTask : AdapterCompositionBlock
{
    /// <summary>Routes rows to <paramref name="children"/> by task id.</summary>
    public MultiTask(params CompositionChild[] children) : base(children) { }

    /// <summary>Routes rows to <paramref name="children"/> by task id.</summary>
    public MultiTask(IEnumerable<CompositionChild> children) : base(children) { }
}
