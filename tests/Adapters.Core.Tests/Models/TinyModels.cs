using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Models;

/// <summary>Small random encoders and inputs shared by the model and method tests.</summary>
internal static class TinyModels
{
    public static EncoderConfig TinyBert(string modelType = "bert") => new()
    {
        ModelType = modelType,
        VocabSize = 50,
        HiddenSize = 32,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        IntermediateSize = 64,
        MaxPositionEmbeddings = 40,
        TypeVocabSize = modelType == "distilbert" ? 0 : 2,
        PadTokenId = modelType is "roberta" or "xlm-roberta" ? 1 : 0,
        LayerNormEps = 1e-12,
    };

    public static BertModel Bert(long seed = 1)
    {
        Core.TorchRuntime.Initialize();
        manual_seed(seed);
        var model = new BertModel(TinyBert());
        model.eval();
        return model;
    }

    public static Tensor InputIds(long seed = 7, int batch = 2, int length = 6)
    {
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        return randint(2, 50, [batch, length], ScalarType.Int64, generator: generator);
    }

    /// <summary>Bit-identical: same shape and every element equal.</summary>
    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && eq(a, b).all().item<bool>();

    public static Dictionary<string, Tensor> CloneState(nn.Module model) =>
        model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
}
