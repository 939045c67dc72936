using Adapters.Core.Configuration;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.LoRA;

/// <summary>
/// Python's <c>init_weights</c> rules for the LoRA family, shared by every module that holds <c>lora_A</c>/<c>lora_B</c>
/// (plain, fused q/k/v) or only the IA³ vector, so that seeded inits draw in the same order everywhere.
/// </summary>
internal static class LoRAInit
{
    /// <summary>
    /// Initialises a low-rank pair: "lora" A kaiming_uniform(a=√5), B zeros; "bert" both N(0, 0.02); "ia3" ones;
    /// "vera" kaiming_uniform(a=0) when <paramref name="allowVera"/>. Call without grad tracking.
    /// </summary>
    /// <exception cref="AdapterConfigException">The init is unknown here; the message names <paramref name="where"/>.</exception>
    public static void LowRank(Tensor a, Tensor b, string initWeights, bool allowVera, string where)
    {
        switch (initWeights)
        {
            case "lora":
                nn.init.kaiming_uniform_(a, Math.Sqrt(5));
                break;
            case "bert":
                nn.init.normal_(a, 0.0, 0.02);
                nn.init.normal_(b, 0.0, 0.02);
                break;
            case "ia3":
                nn.init.ones_(a);
                nn.init.ones_(b);
                break;
            case "vera" when allowVera:
                nn.init.kaiming_uniform_(a);
                nn.init.kaiming_uniform_(b);
                break;
            default:
                throw new AdapterConfigException(
                    $"Unknown init_weights \"{initWeights}\" for {where}; expected lora, bert, ia3{(allowVera ? " or vera" : "")}.");
        }
    }

    /// <summary>Initialises IA³'s scaling vector (composition_mode "scale"): "ia3" ones, "lora" zeros, "bert" N(0, 0.02).</summary>
    /// <exception cref="AdapterConfigException">Any other init.</exception>
    public static void Scale(Tensor b, string initWeights)
    {
        switch (initWeights)
        {
            case "ia3": nn.init.ones_(b); break;
            case "lora": break;
            case "bert": nn.init.normal_(b, 0.0, 0.02); break;
            default: throw new AdapterConfigException($"init_weights \"{initWeights}\" is not valid for composition_mode \"scale\".");
        }
    }
}
