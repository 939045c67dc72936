using System.Diagnostics;
using System.Globalization;
using Adapters.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// <c>ratio trainer [steps]</c>: the issue's training-step goal measured through <see cref="AdapterTrainer{TBatch}"/>:
/// a LoRA r=8 step run by the trainer (AdamW over trainable parameters, clipping, schedule) against a full
/// fine-tuning step doing the same work by hand (the trainer refuses an unfrozen base, as Python's does), on bert-base,
/// batch 8, sequence 128, 2 CPU threads. Goal: ≤ 0.6×. Median of the timed steps after one warm-up step each.
/// </summary>
public sealed class TrainerRatioRun : IRatioRun
{
    /// <inheritdoc />
    public string Name => "trainer";

    /// <inheritdoc />
    public Task RunAsync(string[] args)
    {
        var steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        set_num_threads(2);
        using var ids = BertBaseWorkload.InputIds();
        using var target = randn(BertBaseWorkload.Batch, 768);
        Console.WriteLine($"bert-base, batch {BertBaseWorkload.Batch}, seq {BertBaseWorkload.Sequence}, CPU threads {get_num_threads()}, {steps} timed steps (median) after 1 warm-up");

        var full = FullFineTuning(steps + 1, ids, target).Skip(1).ToList();
        var lora = TrainerSteps("lora", steps + 1, ids, target).Skip(1).ToList();
        var seqBn = TrainerSteps("seq_bn", steps + 1, ids, target).Skip(1).ToList();
        Print("full fine-tuning (hand loop)", full, Median(full));
        Print("trainer lora r=8", lora, Median(full));
        Print("trainer seq_bn", seqBn, Median(full));
        return Task.CompletedTask;
    }

    private static List<double> FullFineTuning(int steps, Tensor ids, Tensor target)
    {
        using var model = BertBaseWorkload.CreateModel();
        model.train();
        var parameters = model.parameters().ToArray();
        using var optimizer = optim.AdamW(parameters, 5e-5);
        var times = new List<double>();
        for (var step = 0; step < steps; step++)
        {
            var watch = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                nn.functional.mse_loss(model.Forward(ids).PoolerOutput!, target).backward();
                nn.utils.clip_grad_norm_(parameters, 1.0);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = 5e-5;
                optimizer.step();
            }
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    private static List<double> TrainerSteps(string config, int steps, Tensor ids, Tensor target)
    {
        using var model = BertBaseWorkload.CreateModel();
        model.AddAdapter("task", config);
        model.TrainAdapter("task");
        var times = new List<double>();
        var watch = Stopwatch.StartNew();
        var options = new AdapterTrainerOptions
        {
            LearningRate = 1e-4,
            MaxSteps = steps,
            Progress = new StepTimer(() => { times.Add(watch.Elapsed.TotalMilliseconds); watch.Restart(); }),
        };
        using var trainer = new AdapterTrainer<int>(model, ["task"], _ => nn.functional.mse_loss(model.Forward(ids).PoolerOutput!, target), options);
        watch.Restart();
        trainer.Train([0]);
        return times;
    }

    private static void Print(string name, List<double> times, double baseline)
    {
        var median = Median(times);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-30} median {median,8:F0} ms   ratio {median / baseline:F3}   steps [{string.Join(", ", times.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))}]"));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    // Progress<T> would post to the thread pool; the timing needs the report on the training thread.
    private sealed class StepTimer(Action tick) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => tick();
    }
}
