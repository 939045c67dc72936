using System.Diagnostics;
using Adapters.Core.Models.Bert;
using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// The issue's side-by-side ratios on bert-base (batch 8, seq 128, CPU): each variant is timed in interleaved rounds
/// (in a fresh random order every round, each timed pass preceded by an untimed one) so that load from other processes hits all of them alike, and the median of the rounds is compared with the
/// baseline. Targets: merged LoRA = 1.00× (±2 %), unmerged LoRA r=8 ≤ 1.10×, seq_bn ≤ 1.10×, adapter training step
/// ≤ 0.6× a full fine-tuning step. Entry point for a <c>ratio</c> mode: <c>AdapterRatioMode.Run(rounds)</c>.
/// </summary>
public static class AdapterRatioMode
{
    /// <summary>
    /// Runs the forward and the training comparison (or only the one named by <paramref name="only"/>:
    /// <c>forward</c> or <c>training</c>); prints one line per variant; returns 0.
    /// </summary>
    public static int Run(int rounds = 5, TextWriter? output = null, string? only = null)
    {
        output ??= Console.Out;
        output.WriteLine($"bert-base, batch {BertBaseWorkload.Batch}, seq {BertBaseWorkload.Sequence}, CPU threads {get_num_threads()}, {rounds} interleaved rounds (median and best)");
        if (only is null or "forward") Forward(rounds, output);
        if (only is null) Training(Math.Max(2, rounds / 2), output);
        else if (only == "training") Training(rounds, output);
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
        var random = new Random(12345);
        for (var round = 0; round < rounds; round++)
        {
            // A fresh random order every round: whatever runs right after another variant's switch (merging, freeing
            // its buffers) pays for page faults, and a fixed or rotated order would charge that to the same variant.
            foreach (var i in Enumerable.Range(0, variants.Length).OrderBy(_ => random.Next()))
            {
                variants[i].Prepare();
                // One untimed pass after the switch, so the timed one measures the variant's steady state.
                work();
                var watch = Stopwatch.StartNew();
                work();
                watch.Stop();
                variants[i].Finish();
                times[i].Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        var medians = times.Select(Median).ToArray();
        var best = times.Select(t => t.Min()).ToArray();
        output.WriteLine($"{title}:");
        // The best round is reported beside the median: on a shared VM the slow rounds are other tenants' noise.
        for (var i = 0; i < variants.Length; i++)
            output.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"  {variants[i].Name,-22} median {medians[i],7:F0} ms  ratio {medians[i] / medians[0]:F3}   best {best[i],7:F0} ms  ratio {best[i] / best[0]:F3}   rounds [{string.Join(", ", times[i].Select(t => t.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}]"));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
