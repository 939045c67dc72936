using Adapters.Core.Configuration;
using Adapters.Core.Methods;
using Adapters.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.PromptLearning;

/// <summary>
/// PEFT's prompt tuning, p-tuning, prefix tuning and Llama-Adapter as a method family of the model: one module per
/// adapter in the model-level <c>peft_prompts</c> container (an encoder, or a Llama-Adapter's per-layer prompts).
/// Models apply the first active one through <see cref="AdapterModel"/>'s PEFT hooks; nothing of it can be merged.
/// </summary>
internal sealed class PeftPromptLearningMethod() : AdapterMethod<PeftPromptLearningConfig>("PEFT prompt learning", ["." + ContainerName + "."], [ContainerName])
{
    /// <summary>The model-level container's name.</summary>
    public const string ContainerName = "peft_prompts";

    /// <inheritdoc />
    public override IEnumerable<(string Name, nn.Module Container)> CreateContainers(AdapterModel model) => [(ContainerName, new AdapterModuleDict())];

    /// <inheritdoc />
    protected override void Add(AdapterModel model, string name, PeftPromptLearningConfig config)
    {
        var container = Container(model) ?? throw new AdapterConfigException($"{model.ModelClassName} has no adapter containers for PEFT prompt learning.");
        container.Add(name, PeftPromptLearning.CreateModule(model, config));
    }

    /// <inheritdoc />
    public override void Remove(AdapterModel model, string name) => Container(model)?.Remove(name);

    /// <summary>The model's container of PEFT prompt-learning modules.</summary>
    public static AdapterModuleDict? Container(AdapterModel model) => model.MethodContainer<AdapterModuleDict>(ContainerName);
}
