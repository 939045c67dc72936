using System.Diagnostics;
using Adapters.Core.Models.Bert;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// The issue's side-by-side ratios on bert-base (batch 8, seq 128, CPU): each variant is timed in interleaved rounds
/// (in an order that rotates every round) so that load from other processes hits all of them alike, and the median of the rounds is compared with the
/// baseline. Targets: merged LoRA = 1.00× (±2 %), unmerged LoRA r=8 ≤ 1.10×, seq_bn ≤ 1.10×, adapter training step
/// ≤ 0.6× a full fine-tuning step. Entry point for a <c>ratio</c> mode: <c>AdapterRatioMode.Run(rounds)</c>.
/// </summary>
public static class AdapterRatioMode
{
    /// <summary>Runs both comparisons and prints one line per variant; returns 0.</summary>
    public static int Run(int rounds = 5, TextWriter? output = null)
    {
        output ??= Console.Out;
        output.WriteLine($"bert-base, batch {BertBaseWorkload.Batch}, seq {BertBaseWorkload.Sequence}, CPU threads {get_num_threads()}, {rounds} interleaved rounds (median)");
        Forward(rounds, output);
        Training(Math.Max(2, rounds / 2), output);
        return 0;
    }

    private static void Forward(int rounds, TextWriter output)
    {
        using var model = BertBaseWorkload.CreateModel();
        using var ids = BertBaseWorkload.InputIds();
        model.AddAdapter("lora", "lora[init_weights='bert']");
        model.AddAdapter("seq_bn", "seq_bn");
        var variants = new (string Name, Action Prepare, Action Finish)[]
        {
            ("base", () => model.SetActiveAdapters(), () => { }),
            ("lora r=8 unmerged", () => model.SetActiveAdapters("lora"), () => { }),
            ("lora r=8 merged", () => { model.SetActiveAdapters("lora"); model.MergeAdapter("lora"); }, model.ResetAdapter),
            ("seq_bn", () => model.SetActiveAdapters("seq_bn"), () => { }),
        };
        Report("forward", variants, rounds, output, () =>
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            model.Forward(ids).LastHiddenState[0, 0, 0].item<float>();
        });
    }

    private static void Training(int rounds, TextWriter output)
    {
        var setups = new[] { "full", "lora", "seq_bn" };
        var models = setups.Select(mode =>
        {
            var model = BertBaseWorkload.CreateModel();
            if (mode == "full") model.train();
            else
            {
                model.AddAdapter("task", mode);
                model.TrainAdapter("task");
            }
            return (Mode: mode, Model: model, Optimizer: optim.Adam(model.parameters().Where(p => p.requires_grad), lr: 1e-4));
        }).ToArray();
        using var ids = BertBaseWorkload.InputIds();
        using var target = randn(BertBaseWorkload.Batch, 768);
        var current = models[0];
        var variants = models.Select(m => (Name: $"train step {m.Mode}", Prepare: (Action)(() => current = m), Finish: (Action)(() => { }))).ToArray();
        Report("training", variants, rounds, output, () =>
        {
            using var scope = NewDisposeScope();
            current.Optimizer.zero_grad();
            var loss = nn.functional.mse_loss(current.Model.Forward(ids).PoolerOutput!, target);
            loss.backward();
            current.Optimizer.step();
        });
        foreach (var (_, model, optimizer) in models)
        {
            optimizer.Dispose();
            model.Dispose();
        }
    }

    private static void Report(string title, (string Name, Action Prepare, Action Finish)[] variants, int rounds, TextWriter output, Action work)
    {
        var times = variants.Select(_ => new List<double>()).ToArray();
        for (var round = -1; round < rounds; round++)
        {
            // Rotate which variant runs first: whatever runs right after another variant's allocations (or after a
            // pause) pays for it, and a fixed order would charge that to the same variant every round.
            for (var step = 0; step < variants.Length; step++)
            {
                var i = (step + Math.Max(round, 0)) % variants.Length;
                variants[i].Prepare();
                var watch = Stopwatch.StartNew();
                work();
                watch.Stop();
                variants[i].Finish();
                if (round >= 0) times[i].Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        var medians = times.Select(Median).ToArray();
        output.WriteLine($"{title}:");
        for (var i = 0; i < variants.Length; i++)
            output.WriteLine($"  {variants[i].Name,-22} median {medians[i],10:F0} ms   ratio {medians[i] / medians[0]:F3}   rounds [{string.Join(", ", times[i].Select(t => t.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}]");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
