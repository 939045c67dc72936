using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Adapters.Core.Generation;
using Adapters.Core.Models.Llama;
using Adapters.Core.Peft;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Training;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// <c>ratio peft [rounds] [forward|generate|training] [new_tokens] [batch] [sequence]</c>: LoRA through the PEFT path
/// (<see cref="PeftTunerModel"/>) against the base model. forward: bert-base b8 s128, PEFT LoRA r=8 on query/value
/// unmerged, beside the <c>adapters</c> LoRA of the same shape (goal ≤ 1.05× base). generate: the TinyLlama-shaped
/// model (<see cref="GenerateRatioRun.Config"/>) with all-linear PEFT LoRA r=16, greedy tokens/s unmerged and merged
/// (goals ≥ 0.9× and 1.00 ± 0.03× base). training: a causal-LM step of that model with the same LoRA through
/// <see cref="AdapterTrainer{TBatch}"/> against full fine-tuning, with each one's gradient + AdamW memory (goals
/// ≤ 0.6× time, ≤ 2 % memory). Variants are timed in interleaved rounds; medians are compared.
/// </summary>
public sealed class PeftRatioRun : IRatioRun
{
    /// <inheritdoc />
    public string Name => "peft";

    private static PeftConfig Lora(int r, string targets) =>
        PeftConfig.Create("LORA", JsonNode.Parse($$"""{"r": {{r}}, "lora_alpha": {{2 * r}}, "target_modules": {{targets}}, "init_lora_weights": "gaussian"}""")!.AsObject());

    /// <inheritdoc />
    public Task RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var only = args.Length > 1 ? args[1] : null;
        var newTokens = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 64;
        var batch = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 4;
        var sequence = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 128;
        Core.TorchRuntime.Initialize();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"CPU threads {get_num_threads()}, {rounds} interleaved rounds (median)"));
        if (only is null or "forward") Forward(rounds);
        if (only is null or "generate") Generate(rounds, newTokens);
        if (only is null or "training") Training(rounds, batch, sequence);
        return Task.CompletedTask;
    }

    private static void Forward(int rounds)
    {
        using var model = BertBaseWorkload.CreateModel();
        using var ids = BertBaseWorkload.InputIds();
        var peft = new PeftTunerModel(model, "bert");
        peft.AddAdapter("default", Lora(8, """["query", "value"]"""));
        model.AddAdapter("lora", "lora[init_weights='bert']");
        IDisposable? disabled = null;
        var variants = new (string Name, Action Prepare, Action Finish)[]
        {
            ("base", () => { model.SetActiveAdapters(); disabled = peft.DisableAdapters(); }, () => disabled!.Dispose()),
            ("peft lora r=8 unmerged", () => model.SetActiveAdapters(), () => { }),
            ("adapters lora r=8 unmerged", () => { model.SetActiveAdapters("lora"); disabled = peft.DisableAdapters(); }, () => disabled!.Dispose()),
        };
        Console.WriteLine($"forward: bert-base, batch {BertBaseWorkload.Batch}, seq {BertBaseWorkload.Sequence}");
        Report(variants, rounds, "ms", () =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var watch = Stopwatch.StartNew();
            model.Forward(ids).LastHiddenState[0, 0, 0].item<float>();
            return watch.Elapsed.TotalMilliseconds;
        }, higherIsBetter: false);
    }

    private static void Generate(int rounds, int newTokens)
    {
        manual_seed(0);
        using var model = new LlamaForCausalLM(GenerateRatioRun.Config);
        model.eval();
        var peft = new PeftTunerModel(model, "llama");
        peft.AddAdapter("default", Lora(16, "\"all-linear\""));
        using var prompt = randint(3, GenerateRatioRun.Config.VocabSize, [1, 32], ScalarType.Int64);
        var options = new GenerationOptions { MaxNewTokens = newTokens, StopTokenIds = [] };
        IDisposable? disabled = null;
        var variants = new (string Name, Action Prepare, Action Finish)[]
        {
            ("base", () => disabled = peft.DisableAdapters(), () => disabled!.Dispose()),
            ("peft all-linear r=16 unmerged", () => { }, () => { }),
            ("peft all-linear r=16 merged", () => peft.Merge(), peft.Unmerge),
        };
        Console.WriteLine($"generate: TinyLlama-shaped, {peft.LayersOf("default").Count} LoRA layers, prompt 32, {newTokens} new tokens greedy with KV cache");
        Report(variants, rounds, "tokens/s", () =>
        {
            var clock = Stopwatch.StartNew();
            var result = TextGenerator.Generate(model, prompt, options);
            clock.Stop();
            result.Sequences.Dispose();
            return result.NewTokens[0].Count / clock.Elapsed.TotalSeconds;
        }, higherIsBetter: true);
    }

    private static void Training(int steps, int batch, int sequence)
    {
        manual_seed(0);
        using var ids = randint(3, GenerateRatioRun.Config.VocabSize, [batch, sequence], ScalarType.Int64);
        Console.WriteLine($"training: TinyLlama-shaped causal LM, batch {batch}, sequence {sequence}, {steps} timed steps each after 1 warm-up (PEFT first, then full)");

        // The trainer owns its loop, so the two run one after the other rather than interleaved.
        List<double> peftTimes;
        long peftCount;
        using (var adapted = new LlamaForCausalLM(GenerateRatioRun.Config))
        {
            var peft = new PeftTunerModel(adapted, "llama");
            peft.AddAdapter("default", Lora(16, "\"all-linear\""));
            adapted.Model.FreezeModel();
            peft.MarkOnlyAdapterTrainable("default");
            var clock = new StepClock();
            var options = new AdapterTrainerOptions { LearningRate = 1e-4, MaxSteps = steps + 1, Schedule = LearningRateSchedule.Constant, Progress = clock };
            using var trainer = new AdapterTrainer<Tensor>(adapted.Model, [], b => adapted.Forward(b, labels: b).Loss!, options);
            clock.Restart();
            trainer.Train([ids]);
            peftTimes = clock.Times.Skip(1).ToList();
            peftCount = trainer.TrainableParameterCount;
        }

        var fullTimes = new List<double>();
        long fullCount;
        using (var full = new LlamaForCausalLM(GenerateRatioRun.Config))
        {
            full.train();
            var parameters = full.parameters().ToArray();
            fullCount = parameters.Sum(p => p.numel());
            using var optimizer = optim.AdamW(parameters, 1e-5);
            for (var step = 0; step <= steps; step++)
            {
                var watch = Stopwatch.StartNew();
                using (var scope = NewDisposeScope())
                {
                    optimizer.zero_grad();
                    full.Forward(ids, labels: ids).Loss!.backward();
                    nn.utils.clip_grad_norm_(parameters, 1.0);
                    optimizer.step();
                }
                if (step > 0) fullTimes.Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        var baseline = Median(fullTimes);
        foreach (var (name, times, count) in new[] { ("full fine-tuning step", fullTimes, fullCount), ("peft all-linear r=16 trainer step", peftTimes, peftCount) })
        {
            // float32 gradient plus AdamW's exp_avg and exp_avg_sq per trainable parameter.
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {name,-34} median {Median(times),9:F1} ms  ratio {Median(times) / baseline:F3}  trainable {count:N0}  grads+AdamW {count * 12 / 1048576.0:F1} MiB ({(double)count / fullCount:P2} of full)  steps [{string.Join(", ", times.Select(v => v.ToString("F0", CultureInfo.InvariantCulture)))}]"));
        }
    }

    /// <summary>Times the trainer's optimizer steps from its progress reports (each report ends one step).</summary>
    private sealed class StepClock : IProgress<TrainingProgress>
    {
        private readonly Stopwatch _watch = new();

        public List<double> Times { get; } = [];

        public void Restart() => _watch.Restart();

        public void Report(TrainingProgress value)
        {
            Times.Add(_watch.Elapsed.TotalMilliseconds);
            _watch.Restart();
        }
    }

    // Interleaved rounds in a fresh random order, each timed pass after an untimed one; returns nothing, prints medians.
    private static void Report((string Name, Action Prepare, Action Finish)[] variants, int rounds, string unit, Func<double> measure, bool higherIsBetter)
    {
        var samples = variants.Select(_ => new List<double>()).ToArray();
        var random = new Random(12345);
        for (var round = 0; round < rounds; round++)
        {
            foreach (var i in Enumerable.Range(0, variants.Length).OrderBy(_ => random.Next()))
            {
                variants[i].Prepare();
                measure();
                samples[i].Add(measure());
                variants[i].Finish();
            }
        }
        var baseline = Median(samples[0]);
        foreach (var (variant, values) in variants.Zip(samples))
        {
            var median = Median(values);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {variant.Name,-34} median {median,9:F1} {unit}  ratio {median / baseline:F3}{(higherIsBetter ? " (of base throughput)" : "")}  rounds [{string.Join(", ", values.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}]"));
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
