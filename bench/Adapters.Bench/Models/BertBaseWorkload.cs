using Adapters.Core;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>The workload: a random bert-base (12 × 768), batch 8, sequence 128, on the CPU.</summary>
internal static class BertBaseWorkload
{
    public const int Batch = 8;
    public const int Sequence = 128;

    public static BertModel CreateModel()
    {
        TorchRuntime.Initialize();
        manual_seed(0);
        var model = new BertModel(new EncoderConfig());
        model.eval();
        return model;
    }

    public static Tensor InputIds()
    {
        var generator = new Generator(1);
        return randint(1000, 30000, [Batch, Sequence], ScalarType.Int64, generator: generator);
    }
}
