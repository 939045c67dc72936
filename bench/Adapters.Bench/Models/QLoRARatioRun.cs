using System.Diagnostics;
using System.Globalization;
using Adapters.Core.Models.Llama;
using Adapters.Core.Quantization;
using Adapters.Core.Training;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// <c>ratio qlora [rounds]</c>: the ~100M TinyLlama-shaped model (<see cref="GenerateRatioRun.Config"/>) in bf16 against
/// the same weights with NF4 + double quantization on its adaptable projections (q, k, v, up, down): bytes of the
/// quantized weights and of all parameters, forward time on a fixed 64-token prompt and the dequantization cost in it,
/// the logits difference on that prompt, and the peak resident memory of a LoRA training step on each base, each
/// measured in a child process (<c>ratio qlora-step bf16|nf4</c>) from the moment the model is ready.
/// </summary>
public sealed class QLoRARatioRun : IRatioRun
{
    /// <inheritdoc />
    public string Name => "qlora";

    /// <inheritdoc />
    public Task RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        Core.TorchRuntime.Initialize();
        set_num_threads(2);
        using var dense = Build();
        using var quantized = Build();
        long BaseBytes(LlamaForCausalLM m) => m.Model.BaseLinears().Sum(l => l.Linear.weight.numel() * l.Linear.weight.element_size() + (l.Linear.QuantState?.ByteSize ?? 0));
        long AllBytes(LlamaForCausalLM m) => m.parameters().Sum(p => p.numel() * p.element_size()) + m.Model.BaseLinears().Sum(l => l.Linear.QuantState?.ByteSize ?? 0);
        var denseBase = BaseBytes(dense);
        var denseAll = AllBytes(dense);
        quantized.Model.QuantizeBaseWeights(FourBitOptions.Nf4);
        var weights = quantized.Model.BaseLinears().Sum(l => l.Linear.QuantState!.Count);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TinyLlama-shaped {dense.parameters().Sum(p => p.numel()) / 1e6:F1}M parameters, bf16; NF4 + double quantization on q/k/v/up/down ({weights / 1e6:F1}M weights); CPU threads {get_num_threads()}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  quantized projections: {BaseBytes(quantized) / 1048576.0:F2} MiB vs {denseBase / 1048576.0:F2} MiB bf16, ratio {(double)BaseBytes(quantized) / denseBase:F3} ({BaseBytes(quantized) * 8.0 / weights:F3} bits per weight)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  all parameters:        {AllBytes(quantized) / 1048576.0:F2} MiB vs {denseAll / 1048576.0:F2} MiB bf16, ratio {(double)AllBytes(quantized) / denseAll:F3} (embeddings, lm_head, o_proj, gate_proj and norms stay bf16)"));

        using var prompt = randint(3, GenerateRatioRun.Config.VocabSize, [1, 64], ScalarType.Int64, generator: new Generator(0).manual_seed(5));
        using (no_grad())
        {
            var denseTimes = new List<double>();
            var quantTimes = new List<double>();
            for (var round = 0; round <= rounds; round++)
            {
                denseTimes.Add(Time(() => dense.Forward(prompt).Logits.Dispose()));
                quantTimes.Add(Time(() => quantized.Forward(prompt).Logits.Dispose()));
            }
            var dequant = new List<double>();
            for (var round = 0; round <= rounds; round++)
                dequant.Add(Time(() => { foreach (var (_, l) in quantized.Model.BaseLinears()) l.OutInWeight.Dispose(); }));
            double d = Median(denseTimes.Skip(1)), q = Median(quantTimes.Skip(1)), dq = Median(dequant.Skip(1));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  forward, 64 tokens:    bf16 {d:F1} ms, nf4 {q:F1} ms, ratio {q / d:F2}; dequantizing every projection once {dq:F1} ms ({dq / 64:F2} ms per token of this prompt; once per forward, so per token it shrinks with longer prompts)"));

            var a = dense.Forward(prompt).Logits.to(ScalarType.Float32);
            var b = quantized.Forward(prompt).Logits.to(ScalarType.Float32);
            var relative = ((b - a).norm() / a.norm()).item<float>();
            var maxAbs = (b - a).abs().max().item<float>();
            var top1 = a.argmax(-1).eq(b.argmax(-1)).to(ScalarType.Float32).mean().item<float>();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  logits nf4 vs bf16:    relative L2 {relative:F4}, max |diff| {maxAbs:F4} (logit scale {a.abs().max().item<float>():F3}), top-1 agreement {top1 * 100:F1}% (random weights)"));
        }
        dense.Dispose();
        quantized.Dispose();

        var bf16Peak = Child("bf16");
        var nf4Peak = Child("nf4");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  LoRA r=8 training step (batch 1, 64 tokens), peak resident memory from a ready model: bf16 base {bf16Peak:F1} MiB, nf4 base {nf4Peak:F1} MiB, ratio {nf4Peak / bf16Peak:F3}"));
        return Task.CompletedTask;
    }

    internal static LlamaForCausalLM Build()
    {
        manual_seed(0);
        var model = new LlamaForCausalLM(GenerateRatioRun.Config, dtype: ScalarType.BFloat16);
        model.eval();
        return model;
    }

    private static double Child(string variant)
    {
        var exe = Environment.ProcessPath!;
        var start = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        // A fixed mmap threshold makes glibc hand freed large blocks back at once; with its dynamic threshold the dense
        // weights freed by quantization stay resident and would count against the 4-bit step (704 vs 543 MiB).
        start.Environment["MALLOC_MMAP_THRESHOLD_"] = "65536";
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") start.ArgumentList.Add(typeof(QLoRARatioRun).Assembly.Location);
        foreach (var a in new[] { "ratio", "qlora-step", variant }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').First(l => l.StartsWith("peak-mib ", StringComparison.Ordinal));
        return double.Parse(line["peak-mib ".Length..], CultureInfo.InvariantCulture);
    }

    private static double Time(Action action)
    {
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}

/// <summary>
/// <c>ratio qlora-step bf16|nf4</c>: one process, one base: builds the bf16 model (quantized for nf4), resets the
/// kernel's resident-memory high-water mark, runs two LoRA r=8 training steps and prints <c>peak-mib N</c>.
/// </summary>
public sealed class QLoRAStepRun : IRatioRun
{
    /// <inheritdoc />
    public string Name => "qlora-step";

    /// <inheritdoc />
    public Task RunAsync(string[] args)
    {
        Core.TorchRuntime.Initialize();
        set_num_threads(2);
        using var model = QLoRARatioRun.Build();
        if (args is ["nf4", ..]) model.Model.QuantizeBaseWeights(FourBitOptions.Nf4);
        model.Model.AddAdapter("lora", "lora[r=8]");
        model.Model.TrainAdapter("lora");
        using var ids = randint(3, GenerateRatioRun.Config.VocabSize, [1, 64], ScalarType.Int64, generator: new Generator(0).manual_seed(5));
        GC.Collect();
        GC.WaitForPendingFinalizers();
        // Linux: writing 5 resets VmHWM, so the peak covers the training step, not building and quantizing.
        File.WriteAllText("/proc/self/clear_refs", "5");
        var options = new AdapterTrainerOptions { LearningRate = 1e-4, MaxSteps = 2 };
        using var trainer = new AdapterTrainer<Tensor>(model.Model, ["lora"], batch => model.Forward(batch, labels: batch).Loss!, options);
        trainer.Train([ids]);
        var hwm = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        var kib = long.Parse(hwm["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak-mib {kib / 1024.0:F1}"));
        return Task.CompletedTask;
    }
}
