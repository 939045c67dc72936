using Adapters.Core.Configuration;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Peft.Tuners.Methods;

namespace Adapters.Core.Peft;

/// <summary>
/// The one place that maps PEFT's <c>peft_type</c> to the method that reads, runs and writes it. Every PEFT folder is
/// dispatched through <see cref="Get"/>.
/// </summary>
public static class PeftMethodRegistry
{
    private static readonly Dictionary<string, PeftMethod> s_methods = new(StringComparer.Ordinal);
    private static readonly Lock s_lock = new();

    static PeftMethodRegistry()
    {
        foreach (var method in new PeftMethod[]
                 {
                     new LoraMethod(), new IA3Method(), new LoHaMethod(), new LoKrMethod(), new OftMethod(), new BoftMethod(),
                     new HraMethod(), new BoneMethod(), new MissMethod(), new VeraMethod(), new AdaLoraMethod(),
                     new PromptLearning.PeftPromptLearningPeftMethod(PromptLearning.PeftPromptLearningConfig.PromptTuning),
                     new PromptLearning.PeftPromptLearningPeftMethod(PromptLearning.PeftPromptLearningConfig.PTuning),
                     new PromptLearning.PeftPromptLearningPeftMethod(PromptLearning.PeftPromptLearningConfig.PrefixTuning),
                     new PromptLearning.PeftPromptLearningPeftMethod(PromptLearning.PeftPromptLearningConfig.AdaptionPrompt),
                 })
        {
            s_methods[method.PeftType] = method;
        }
    }

    /// <summary>The <c>peft_type</c>s registered.</summary>
    public static IReadOnlyCollection<string> PeftTypes
    {
        get { lock (s_lock) return s_methods.Keys.Order(StringComparer.Ordinal).ToArray(); }
    }

    /// <summary>Registers (or replaces) the method for its <see cref="PeftMethod.PeftType"/>.</summary>
    public static void Register(PeftMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        lock (s_lock) s_methods[method.PeftType] = method;
    }

    /// <summary>The method for <paramref name="peftType"/>, or null.</summary>
    public static PeftMethod? Find(string peftType)
    {
        lock (s_lock) return s_methods.GetValueOrDefault(peftType);
    }

    /// <summary>The method for <paramref name="config"/>'s <c>peft_type</c>.</summary>
    /// <exception cref="AdapterConfigException">No method is registered for it.</exception>
    public static PeftMethod Get(PeftConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Find(config.PeftType)
            ?? throw new AdapterConfigException($"{config.Source}: peft_type \"{config.PeftType}\" is not supported here; supported: {string.Join(", ", PeftTypes)}.");
    }
}
