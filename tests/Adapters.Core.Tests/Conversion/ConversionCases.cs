using Adapters.Core.Generation;
using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Models.Bert;
using Adapters.Core.Models.DistilBert;
using Adapters.Core.Tests.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Conversion;

/// <summary>A tiny model with adapters of one method family, and the forward pass whose output the conversion tests compare.</summary>
internal sealed class ConversionCase : IDisposable
{
    private readonly Func<Tensor, Tensor> _forward;

    public ConversionCase(nn.Module module, AdapterModel adapters, Func<Tensor, Tensor> forward)
    {
        Module = module;
        Adapters = adapters;
        _forward = forward;
    }

    /// <summary>The module users convert (the causal LM, the flex-head model or the encoder itself).</summary>
    public nn.Module Module { get; }

    /// <summary>The adapter-carrying model inside <see cref="Module"/>.</summary>
    public AdapterModel Adapters { get; }

    /// <summary>Logits for decoders and heads, the last hidden state for bare encoders.</summary>
    public Tensor Forward(Tensor inputIds) => _forward(inputIds);

    public void Dispose() => Module.Dispose();
}

/// <summary>Every model × method family the conversion tests run, and how to build each.</summary>
internal static class ConversionCases
{
    public static readonly string[] Encoders = ["bert", "roberta", "distilbert"];
    public static readonly string[] Decoders = ["gpt2", "llama"];

    /// <summary>Method families: config strings, plus "fusion" (two bottlenecks fused) and "heads" (flex heads).</summary>
    public static readonly string[] EncoderFamilies =
    [
        "double_seq_bn",
        "scaled_par_bn",
        "seq_bn[use_gating=True, ln_before=True, ln_after=True]",
        "compacter[reduction_factor=4]",
        "compacter++[reduction_factor=4]",
        "seq_bn_inv",
        "double_seq_bn_inv[inv_adapter='glow']",
        "lora[r=4, alpha=8, attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]",
        "lora[use_gating=True]",
        "ia3",
        "dora",
        "vera",
        "prefix_tuning",
        "prefix_tuning_flat[prefix_length=3]",
        "prompt_tuning[prompt_length=4]",
        "loreft",
        "noreft",
        "direft",
        "unipelt",
        "mam",
        "fusion",
        "heads",
    ];

    public static readonly string[] DecoderFamilies =
    [
        "double_seq_bn",
        "seq_bn[use_gating=True, ln_before=True, ln_after=True]",
        "compacter[reduction_factor=4]",
        "seq_bn_inv",
        "lora[r=4, alpha=8, attn_matrices=['q','k','v'], intermediate_lora=True, output_lora=True]",
        "ia3",
        "prefix_tuning",
        "prefix_tuning_flat[prefix_length=3]",
        "prompt_tuning[prompt_length=4]",
    ];

    /// <summary>
    /// Families that only the Llama-layout decoder supports (separate q/k/v projections; VeRA is left out because the
    /// tiny model's grouped-query k/v projections are narrower than q, and VeRA shares one A/B across layers).
    /// </summary>
    public static readonly string[] LlamaOnlyFamilies = ["lora[use_gating=True]", "dora"];

    public static TheoryData<string, string> All()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in Encoders)
        {
            foreach (var family in EncoderFamilies) data.Add(model, family);
        }
        foreach (var model in Decoders)
        {
            foreach (var family in DecoderFamilies) data.Add(model, family);
        }
        foreach (var family in LlamaOnlyFamilies) data.Add("llama", family);
        return data;
    }

    public static Tensor InputIds() => TinyModels.InputIds(batch: 2, length: 6);

    /// <summary>Max |a − b| computed in float64.</summary>
    public static double MaxDiff(Tensor a, Tensor b) => (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>();

    /// <summary>A fresh float32 model with the family's adapter(s) added, perturbed away from their init and active.</summary>
    public static ConversionCase Create(string model, string family, long seed = 5)
    {
        var built = CreateModel(model, family == "heads", seed);
        AddFamily(built, family, "a");
        built.Module.eval();
        return built;
    }

    /// <summary>The bare model (with a flex-head wrapper for "heads").</summary>
    public static ConversionCase CreateModel(string model, bool heads, long seed = 5)
    {
        TorchRuntime.Initialize();
        manual_seed(seed);
        switch (model)
        {
            case "gpt2" or "llama":
                ICausalLM lm = model == "gpt2" ? TinyDecoders.Gpt2(seed) : TinyDecoders.Llama(TinyDecoders.LlamaConfig(), seed);
                return new ConversionCase((nn.Module)lm, lm.BaseModel, ids => lm.Forward(ids).Logits);
            default:
                AdapterModel encoder = model switch
                {
                    "bert" => new BertModel(TinyModels.TinyBert()),
                    "roberta" => new RobertaModel(TinyModels.TinyBert("roberta")),
                    _ => new DistilBertModel(TinyModels.TinyBert("distilbert")),
                };
                if (!heads) return new ConversionCase(encoder, encoder, ids => ((ITextEncoder)encoder).Encode(ids).LastHiddenState);
                var flex = new FlexHeadModel(encoder);
                return new ConversionCase(flex, encoder, ids => flex.Forward(ids));
        }
    }

    /// <summary>Adds the family's adapter(s) (or head) named <paramref name="name"/>, perturbed and active.</summary>
    public static void AddFamily(ConversionCase built, string family, string name)
    {
        var model = built.Adapters;
        switch (family)
        {
            case "fusion":
                model.AddAdapter(name + "1", "seq_bn");
                model.AddAdapter(name + "2", "seq_bn");
                DecoderAdapterMethodTests.Perturb(model, name + "1");
                DecoderAdapterMethodTests.Perturb(model, name + "2", seed: 18);
                model.AddAdapterFusion([name + "1", name + "2"], name: name, setActive: true);
                PerturbFusion(model, name);
                break;
            case "heads":
                model.AddAdapter(name, "seq_bn", setActive: true);
                DecoderAdapterMethodTests.Perturb(model, name);
                var flex = (FlexHeadModel)built.Module;
                flex.AddClassificationHead(name, numLabels: 3);
                flex.AddTaggingHead(name + "_tags", numLabels: 4);
                break;
            default:
                model.AddAdapter(name, family, setActive: true);
                DecoderAdapterMethodTests.Perturb(model, name);
                break;
        }
    }

    /// <summary>The names whose parameters the family added (adapters, fusion or head).</summary>
    public static IEnumerable<(string Key, Parameter Parameter)> FamilyParameters(ConversionCase built, string family, string name)
    {
        var model = built.Adapters;
        return family switch
        {
            "fusion" => model.named_parameters().Where(p => p.name.Contains($".adapter_fusion_layer.{name}.", StringComparison.Ordinal))
                .Select(p => (p.name, p.parameter)).Concat(model.AdapterParameters(name + "1")).Concat(model.AdapterParameters(name + "2")),
            "heads" => ((FlexHeadModel)built.Module).named_parameters().Where(p => p.name.StartsWith("heads.", StringComparison.Ordinal))
                .Select(p => (p.name, p.parameter)).Concat(model.AdapterParameters(name)),
            _ => model.AdapterParameters(name),
        };
    }

    private static void PerturbFusion(AdapterModel model, string name)
    {
        manual_seed(19);
        using var _ = no_grad();
        foreach (var (key, tensor) in model.GetAdapterFusionStateDict(name))
        {
            if (tensor.is_floating_point()) tensor.add_(randn_like(tensor) * 0.2);
        }
    }
}
