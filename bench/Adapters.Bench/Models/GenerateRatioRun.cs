using System.Diagnostics;
using System.Globalization;
using Adapters.Core.Generation;
using Adapters.Core.Models.Llama;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// <c>ratio generate [rounds] [new_tokens]</c>: greedy generation tokens/s of a ~100M-parameter TinyLlama-shaped random
/// model (GQA 12/4 heads, SiLU MLP, untied head, float32, CPU) with the KV cache, base against merged LoRA
/// (q,v + intermediate, r=8). Rounds are interleaved so machine load hits both alike; the medians are compared
/// (goal: merged within ±3 % of base). Also prints the process's peak working set.
/// </summary>
public sealed class GenerateRatioRun : IRatioRun
{
    /// <summary>The TinyLlama layout (GQA ratio, SiLU gated MLP, 32k vocabulary) scaled to about 100M parameters.</summary>
    public static LlamaConfig Config { get; } = new()
    {
        VocabSize = 32000,
        HiddenSize = 768,
        IntermediateSize = 2048,
        NumHiddenLayers = 8,
        NumAttentionHeads = 12,
        NumKeyValueHeads = 4,
        MaxPositionEmbeddings = 2048,
        EosTokenIds = [2],
    };

    /// <inheritdoc />
    public string Name => "generate";

    /// <inheritdoc />
    public Task RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var newTokens = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        Core.TorchRuntime.Initialize();
        manual_seed(0);
        using var model = new LlamaForCausalLM(Config);
        model.eval();
        var parameters = model.parameters().Sum(p => p.numel());
        model.Model.AddAdapter("lora", "lora[r=8, init_weights='bert', intermediate_lora=True]");
        using var prompt = randint(3, Config.VocabSize, [1, 32], ScalarType.Int64);
        var options = new GenerationOptions { MaxNewTokens = newTokens, StopTokenIds = [] };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TinyLlama-shaped {parameters / 1e6:F1}M parameters, prompt 32, {newTokens} new tokens greedy with KV cache, CPU threads {get_num_threads()}, {rounds} interleaved rounds (median)"));
        var variants = new (string Name, Action Prepare)[]
        {
            ("base", () => { model.Model.ResetAdapter(); model.Model.SetActiveAdapters(); }),
            ("lora r=8 merged", () => { model.Model.SetActiveAdapters("lora"); model.Model.MergeAdapter("lora"); }),
            ("lora r=8 unmerged", () => model.Model.SetActiveAdapters("lora")),
        };
        var samples = variants.Select(_ => new List<double>()).ToArray();
        // Warm-up: one short generation per variant.
        foreach (var (_, prepare) in variants)
        {
            prepare();
            using var warm = TextGenerator.Generate(model, prompt, options with { MaxNewTokens = 4 }).Sequences;
        }
        for (var round = 0; round < rounds; round++)
        {
            for (var v = 0; v < variants.Length; v++)
            {
                variants[v].Prepare();
                var clock = Stopwatch.StartNew();
                var result = TextGenerator.Generate(model, prompt, options);
                clock.Stop();
                result.Sequences.Dispose();
                samples[v].Add(result.NewTokens[0].Count / clock.Elapsed.TotalSeconds);
            }
        }
        var baseline = Median(samples[0]);
        for (var v = 0; v < variants.Length; v++)
        {
            var median = Median(samples[v]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{variants[v].Name,-20} {median,8:F1} tokens/s  ratio {median / baseline:F3}  (rounds: {string.Join(", ", samples[v].Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))})"));
        }
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak working set {process.PeakWorkingSet64 / (1024.0 * 1024):F0} MiB"));
        return Task.CompletedTask;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
