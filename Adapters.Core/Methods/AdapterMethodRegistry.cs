using Adapters.Core.Configuration;
using Adapters.Core.Methods.Bottleneck;
using Adapters.Core.Methods.LoRA;
using Adapters.Core.Methods.PrefixTuning;
using Adapters.Core.Methods.PromptTuning;
using Adapters.Core.Methods.ReFT;
using Adapters.Core.Methods.Union;

namespace Adapters.Core.Methods;

/// <summary>
/// Every method family the port has, in the order their containers are registered on a model. Adding a method is its
/// folder under <c>Methods/</c> plus one line here.
/// </summary>
internal static class AdapterMethodRegistry
{
    /// <summary>The methods, each built once.</summary>
    public static IReadOnlyList<AdapterMethod> Methods { get; } =
    [
        new BottleneckMethod(),
        new LoRAMethod(),
        new PrefixTuningMethod(),
        new PromptTuningMethod(),
        new ReftMethod(),
        new UnionMethod(),
        new Peft.PromptLearning.PeftPromptLearningMethod(),
    ];

    /// <summary>The method that builds adapters of <paramref name="config"/>.</summary>
    /// <exception cref="AdapterConfigException">No method does.</exception>
    public static AdapterMethod For(AdapterConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        foreach (var method in Methods)
            if (method.Accepts(config)) return method;
        throw new AdapterConfigException($"Config type {config.GetType().Name} cannot be added to a model.");
    }
}
