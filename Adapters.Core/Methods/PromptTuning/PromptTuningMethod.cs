using Adapters.Core.Configuration;
using Adapters.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.PromptTuning;

/// <summary>
/// Prompt tuning: one prompt embedding per adapter in the model's <see cref="PromptTuningLayer"/> (<c>prompt_tuning</c>),
/// applied by models whose forward puts prompts after the embeddings.
/// </summary>
internal sealed class PromptTuningMethod() : AdapterMethod<PromptTuningConfig>("Prompt tuning", [".prompt_tunings."], [Container])
{
    /// <summary>Python's name of the model-level prompt holder.</summary>
    public const string Container = "prompt_tuning";

    /// <inheritdoc />
    public override IEnumerable<(string Name, nn.Module Container)> CreateContainers(AdapterModel model) =>
        [(Container, new PromptTuningLayer(model.Setup))];

    /// <inheritdoc />
    protected override void Add(AdapterModel model, string name, PromptTuningConfig prompt)
    {
        if (!model.AdapterContainersRegistered || !model.AppliesPromptTuning)
            throw new AdapterConfigException($"{model.ModelClassName} does not support prompt tuning (its forward does not apply prompts after the embeddings).");
        var (device, dtype) = model.ParameterDeviceAndType();
        if (prompt.InitWeightsSeed is { } seed && seed != 0) manual_seed(seed);
        Layer(model)!.PromptTunings.Add(name, new PromptTuningModule(prompt, model.Interface.HiddenSize, model.PromptInitEmbeddings, model.PromptTokenizer, device, dtype));
    }

    /// <inheritdoc />
    public override void Remove(AdapterModel model, string name) => Layer(model)?.PromptTunings.Remove(name);

    /// <summary>The model's prompt holder.</summary>
    public static PromptTuningLayer? Layer(AdapterModel model) => model.MethodContainer<PromptTuningLayer>(Container);
}
