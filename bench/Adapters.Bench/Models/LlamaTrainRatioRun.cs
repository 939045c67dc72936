using System.Diagnostics;
using System.Globalization;
using Adapters.Core.Models.Llama;
using Adapters.Core.Training;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// <c>ratio llama-train [steps] [batch] [sequence]</c>: a causal-LM training step of the ~100M TinyLlama-shaped model
/// (<see cref="GenerateRatioRun.Config"/>, float32, CPU, 2 threads) with LoRA r=8 on q,v run by
/// <see cref="AdapterTrainer{TBatch}"/>, against a full fine-tuning step (AdamW over every parameter, by hand, since the
/// trainer refuses an unfrozen base as Python's does). Prints the median step time of each after one warm-up step, the
/// ratio, the optimizer-side memory each needs (gradients plus AdamW's two moments of the trainable parameters) and the
/// process's peak working set after each variant (LoRA runs first, so its peak is its own).
/// </summary>
public sealed class LlamaTrainRatioRun : IRatioRun
{
    /// <inheritdoc />
    public string Name => "llama-train";

    /// <inheritdoc />
    public Task RunAsync(string[] args)
    {
        var steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        var batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        var sequence = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 128;
        Core.TorchRuntime.Initialize();
        set_num_threads(2);
        manual_seed(0);
        using var ids = randint(3, GenerateRatioRun.Config.VocabSize, [batch, sequence], ScalarType.Int64);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TinyLlama-shaped causal LM, batch {batch}, sequence {sequence}, CPU threads {get_num_threads()}, {steps} timed steps (median) after 1 warm-up"));

        var (lora, loraTrainable) = LoRASteps(steps + 1, ids);
        var loraPeak = PeakMiB();
        var (full, fullTrainable) = FullSteps(steps + 1, ids);
        var fullPeak = PeakMiB();
        var baseline = Median(full.Skip(1).ToList());
        Print("full fine-tuning (hand loop)", full.Skip(1).ToList(), baseline, fullTrainable, fullPeak);
        Print("trainer lora r=8 (q,v)", lora.Skip(1).ToList(), baseline, loraTrainable, loraPeak);
        return Task.CompletedTask;
    }

    private static (List<double> Times, long Trainable) LoRASteps(int steps, Tensor ids)
    {
        using var model = new LlamaForCausalLM(GenerateRatioRun.Config);
        model.Model.AddAdapter("lora", "lora[r=8]");
        model.Model.TrainAdapter("lora");
        var clock = new StepClock();
        var options = new AdapterTrainerOptions { LearningRate = 1e-4, MaxSteps = steps, Progress = clock };
        using var trainer = new AdapterTrainer<Tensor>(model.Model, ["lora"], batch => model.Forward(batch, labels: batch).Loss!, options);
        clock.Restart();
        trainer.Train([ids]);
        return (clock.Times, trainer.TrainableParameterCount);
    }

    private static (List<double> Times, long Trainable) FullSteps(int steps, Tensor ids)
    {
        using var model = new LlamaForCausalLM(GenerateRatioRun.Config);
        model.train();
        var parameters = model.parameters().ToArray();
        using var optimizer = optim.AdamW(parameters, 1e-5);
        var times = new List<double>();
        for (var step = 0; step < steps; step++)
        {
            var watch = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                model.Forward(ids, labels: ids).Loss!.backward();
                nn.utils.clip_grad_norm_(parameters, 1.0);
                optimizer.step();
            }
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return (times, parameters.Sum(p => p.numel()));
    }

    private static void Print(string name, List<double> times, double baseline, long trainable, double peakMiB)
    {
        var median = Median(times);
        // float32 gradient plus AdamW's exp_avg and exp_avg_sq per trainable parameter.
        var optimizerMiB = trainable * 3 * 4 / (1024.0 * 1024);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-30} {median,9:F0} ms/step  ratio {median / baseline:F3}  trainable {trainable:N0}  grads+AdamW {optimizerMiB:F0} MiB  peak working set {peakMiB:F0} MiB  (steps: {string.Join(", ", times.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))})"));
    }

    private static double PeakMiB()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64 / (1024.0 * 1024);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
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
}
