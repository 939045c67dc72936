using Parallel = Adapters.Core.Composition.Parallel;

namespace Adapters.Core.Composition;

/// <summary>
/// Python's composition rules: which blocks may nest in which (<c>ALLOWED_NESTINGS</c>), how deep a setup may go
/// (<c>validate_composition</c> and the per-layer <c>check_composition_valid</c>), and which model types support
/// <see cref="Parallel"/> (<c>SUPPORTED_MODELS</c>).
/// </summary>
public static class CompositionRules
{
    /// <summary>Marks an adapter-name child in <see cref="AllowedChildren"/>.</summary>
    public const string AdapterChild = "str";

    private static readonly Dictionary<Type, string[]> s_allowed = new()
    {
        [typeof(Stack)] = [AdapterChild, nameof(Fuse), nameof(Split), nameof(Parallel), nameof(BatchSplit), nameof(Average), nameof(MultiTask)],
        [typeof(Fuse)] = [AdapterChild, nameof(Stack)],
        [typeof(Split)] = [AdapterChild, nameof(Split), nameof(Stack), nameof(BatchSplit), nameof(Average)],
        [typeof(Parallel)] = [AdapterChild, nameof(Stack), nameof(BatchSplit), nameof(Average)],
        [typeof(MultiTask)] = [AdapterChild, nameof(Stack), nameof(Average), nameof(Fuse)],
        [typeof(BatchSplit)] = [AdapterChild, nameof(Stack), nameof(Split), nameof(BatchSplit), nameof(Average)],
        [typeof(Average)] = [AdapterChild, nameof(Stack), nameof(Split), nameof(BatchSplit)],
    };

    private static readonly HashSet<string> s_parallelModels = new(StringComparer.Ordinal)
    {
        "albert", "bert", "roberta", "distilbert", "deberta-v2", "deberta", "bart", "mbart", "mt5", "plbart",
        "t5", "vit", "xlm-roberta", "bert-generation", "electra", "whisper", "xmod", "gpt2", "gptj", "llama", "mistral",
    };

    /// <summary>The child kinds a block of type <paramref name="parent"/> may hold (<c>"str"</c> for an adapter name).</summary>
    public static IReadOnlyList<string> AllowedChildren(Type parent) =>
        s_allowed.TryGetValue(parent, out var allowed) ? allowed : throw new ArgumentException($"{parent.Name} is not a composition block type.", nameof(parent));

    /// <summary>
    /// Python's <c>validate_composition</c>: every child's kind must be allowed in its parent, only
    /// <see cref="Stack"/> blocks (and adapter names) may sit below level 1, and <see cref="Parallel"/> needs a model
    /// type from Python's supported list when <paramref name="modelType"/> is given.
    /// </summary>
    /// <exception cref="AdapterCompositionException">The setup breaks one of these rules.</exception>
    public static void Validate(AdapterCompositionBlock setup, int level = 0, string? modelType = null)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (level > 1 && setup is not Stack)
            throw new AdapterCompositionException($"Adapter setup is too deep: {setup} sits at level {level}, where only Stack blocks and adapter names are allowed.");
        if (modelType is not null && setup is Parallel && !s_parallelModels.Contains(modelType))
            throw new AdapterCompositionException($"Models of type \"{modelType}\" do not support adapter composition with Parallel.");
        foreach (var child in setup.Children)
        {
            CheckNesting(setup, child);
            if (child.Block is { } block) Validate(block, level + 1, modelType);
        }
    }

    /// <summary>
    /// Python's per-layer <c>check_composition_valid</c>: a block below a <see cref="Stack"/> that is itself nested
    /// (<paramref name="level"/> ≥ 1) is too deep, and the child's kind must be allowed in the parent.
    /// </summary>
    /// <exception cref="AdapterCompositionException">The nesting is not allowed.</exception>
    public static void CheckChild(AdapterCompositionBlock parent, AdapterCompositionBlock child, int level)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentNullException.ThrowIfNull(child);
        if (parent is Stack && level >= 1)
            throw new AdapterCompositionException($"Specified adapter setup is too deep: cannot have {child.TypeName} at level {level} inside a nested Stack.");
        CheckNesting(parent, child);
    }

    internal static IReadOnlyList<int> CheckSizes(IReadOnlyList<int> sizes, int children, string block, string argument)
    {
        if (sizes.Count != children)
            throw new AdapterCompositionException($"{block} has {children} children but {argument} has {sizes.Count} entries; give one per child.");
        if (sizes.Any(s => s < 0))
            throw new AdapterCompositionException($"{block} {argument} must not be negative: [{string.Join(", ", sizes)}].");
        return sizes.ToArray();
    }

    private static void CheckNesting(AdapterCompositionBlock parent, CompositionChild child)
    {
        var kind = child.Block?.TypeName ?? AdapterChild;
        var allowed = AllowedChildren(parent.GetType());
        if (!allowed.Contains(kind))
            throw new AdapterCompositionException(
                $"Cannot nest {child} in {parent}: a {parent.TypeName} block may only hold {string.Join(", ", allowed.Select(a => a == AdapterChild ? "adapter names" : a))}.");
    }
}
