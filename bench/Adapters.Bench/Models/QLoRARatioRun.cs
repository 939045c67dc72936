using System.Diagnostics;
using System.Globalization;
using Adapters.Core.Models.Llama;
using Adapters.Core.Quantization;
using Adapters.Core.Serialization;
using Adapters.Core.Training;
using static TorchSharp.torch;

namespace Adapters.Bench.Models;

/// <summary>
/// <c>ratio qlora [rounds]</c>: the ~100M TinyLlama-shaped model (<see cref="GenerateRatioRun.Config"/>) in bf16 against
/// the same weights with NF4 + double quantization on every linear of its blocks (q, k, v, o, gate, up, down; the
/// embeddings and the LM head stay bf16, as transformers keeps them): bytes of the quantized weights and of all
/// parameters, forward time on a fixed 64-token prompt and the dequantization cost in it (interleaved rounds), the
/// logits difference on that prompt, and the peak resident memory of loading the model and of a LoRA training step on
/// each base, each measured in a child process (<c>ratio qlora-load</c>, <c>ratio qlora-step</c>).
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
        var layers = quantized.Model.QuantizeBaseWeights(FourBitOptions.Nf4);
        var weights = quantized.Model.BaseLinears().Sum(l => l.Linear.QuantState!.Count);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"TinyLlama-shaped {dense.parameters().Sum(p => p.numel()) / 1e6:F1}M parameters, bf16; NF4 + double quantization on {layers} block linears (q/k/v/o/gate/up/down, {weights / 1e6:F1}M weights); CPU threads {get_num_threads()}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  quantized linears:     {BaseBytes(quantized) / 1048576.0:F2} MiB vs {denseBase / 1048576.0:F2} MiB bf16, ratio {(double)BaseBytes(quantized) / denseBase:F3} ({BaseBytes(quantized) * 8.0 / weights:F3} bits per weight)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  all parameters:        {AllBytes(quantized) / 1048576.0:F2} MiB vs {denseAll / 1048576.0:F2} MiB bf16, ratio {(double)AllBytes(quantized) / denseAll:F3} (embed_tokens and lm_head, {(denseAll - denseBase) / 1048576.0:F1} MiB, and the norms stay bf16)"));

        using var prompt = randint(3, GenerateRatioRun.Config.VocabSize, [1, 64], ScalarType.Int64, generator: new Generator(0).manual_seed(5));
        using (no_grad())
        {
            var denseTimes = new List<double>();
            var quantTimes = new List<double>();
            var dequant = new List<double>();
            var linears = quantized.Model.BaseLinears().Select(l => l.Linear).ToArray();
            // Interleaved, so that the shared machine's load hits the three figures alike.
            for (var round = 0; round <= rounds; round++)
            {
                denseTimes.Add(Time(() => dense.Forward(prompt).Logits.Dispose()));
                quantTimes.Add(Time(() => quantized.Forward(prompt).Logits.Dispose()));
                dequant.Add(Time(() => { foreach (var l in linears) l.OutInWeight.Dispose(); }));
            }
            double d = Median(denseTimes.Skip(1)), q = Median(quantTimes.Skip(1)), dq = Median(dequant.Skip(1));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  forward, 64 tokens:    bf16 {d:F1} ms, nf4 {q:F1} ms, ratio {q / d:F2}; dequantizing every linear once {dq:F1} ms = {dq / q * 100:F0}% of the nf4 forward ({dq / 64:F2} ms per token of this prompt; once per forward, so per token it shrinks with longer prompts)"));

            var a = dense.Forward(prompt).Logits.to(ScalarType.Float32);
            var b = quantized.Forward(prompt).Logits.to(ScalarType.Float32);
            var relative = ((b - a).norm() / a.norm()).item<float>();
            var maxAbs = (b - a).abs().max().item<float>();
            var top1 = a.argmax(-1).eq(b.argmax(-1)).to(ScalarType.Float32).mean().item<float>();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  logits nf4 vs bf16:    relative L2 {relative:F4}, max |diff| {maxAbs:F4} (logit scale {a.abs().max().item<float>():F3}), top-1 agreement {top1 * 100:F1}% (random weights)"));
        }

        var folder = Path.Combine(Path.GetTempPath(), "qlora-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            PretrainedDecoders.Save(dense, folder);
            dense.Dispose();
            quantized.Dispose();
            var denseLoad = Child("qlora-load", "bf16", folder);
            var nf4Load = Child("qlora-load", "nf4", folder);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  load from safetensors, peak resident above the runtime: bf16 {denseLoad.Above:F1} MiB, nf4 (quantized per tensor while streaming) {nf4Load.Above:F1} MiB, ratio {nf4Load.Above / denseLoad.Above:F3}"));
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }

        var bf16 = Child("qlora-step", "bf16");
        var nf4 = Child("qlora-step", "nf4");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  LoRA r=8 training step (batch 1, 64 tokens), peak resident of the process from a ready model: bf16 base {bf16.Peak:F1} MiB, nf4 base {nf4.Peak:F1} MiB, ratio {nf4.Peak / bf16.Peak:F3}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    the same peaks above the runtime's own {bf16.Peak - bf16.Above:F0} MiB (libtorch + .NET, before any model): bf16 {bf16.Above:F1} MiB, nf4 {nf4.Above:F1} MiB, ratio {nf4.Above / bf16.Above:F3}"));
        return Task.CompletedTask;
    }

    internal static LlamaForCausalLM Build()
    {
        manual_seed(0);
        var model = new LlamaForCausalLM(GenerateRatioRun.Config, dtype: ScalarType.BFloat16);
        model.eval();
        return model;
    }

    /// <summary>Resident memory of this process now, in MiB (<c>VmRSS</c>).</summary>
    internal static double ResidentMiB() => StatusKiB("VmRSS:") / 1024.0;

    /// <summary>Resets the kernel's high-water mark of resident memory (Linux: writing 5 to clear_refs).</summary>
    internal static void ResetPeak()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        File.WriteAllText("/proc/self/clear_refs", "5");
    }

    /// <summary>Prints the high-water mark since <see cref="ResetPeak"/> and how far it rose above <paramref name="floorMiB"/>.</summary>
    internal static void ReportPeak(double floorMiB)
    {
        var peak = StatusKiB("VmHWM:") / 1024.0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak-mib {peak:F1} {peak - floorMiB:F1}"));
    }

    private static long StatusKiB(string field)
    {
        var line = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    private static (double Peak, double Above) Child(params string[] run)
    {
        var exe = Environment.ProcessPath!;
        var start = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
        // A fixed mmap threshold makes glibc hand freed large blocks back at once; with its dynamic threshold freed
        // dense blocks stay resident and would count against whatever the process does next.
        start.Environment["MALLOC_MMAP_THRESHOLD_"] = "65536";
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") start.ArgumentList.Add(typeof(QLoRARatioRun).Assembly.Location);
        start.ArgumentList.Add("ratio");
        foreach (var a in run) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("peak-mib ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"ratio {string.Join(' ', run)} printed no peak (exit {process.ExitCode}): {output}");
        var parts = line["peak-mib ".Length..].Split(' ');
        return (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
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
/// <c>ratio qlora-step bf16|nf4</c>: one process, one base: notes the runtime's resident floor, builds the bf16 model
/// (quantized for nf4), resets the kernel's resident-memory high-water mark, runs two LoRA r=8 training steps and
/// prints <c>peak-mib PEAK ABOVE-FLOOR</c>.
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
        using (var warm = ones(8, 8)) warm.matmul(warm).Dispose();
        var floor = QLoRARatioRun.ResidentMiB();
        using var model = QLoRARatioRun.Build();
        if (args is ["nf4", ..]) model.Model.QuantizeBaseWeights(FourBitOptions.Nf4);
        model.Model.AddAdapter("lora", "lora[r=8]");
        model.Model.TrainAdapter("lora");
        using var ids = randint(3, GenerateRatioRun.Config.VocabSize, [1, 64], ScalarType.Int64, generator: new Generator(0).manual_seed(5));
        // The peak covers the training step, not building and quantizing.
        QLoRARatioRun.ResetPeak();
        var options = new AdapterTrainerOptions { LearningRate = 1e-4, MaxSteps = 2 };
        using var trainer = new AdapterTrainer<Tensor>(model.Model, ["lora"], batch => model.Forward(batch, labels: batch).Loss!, options);
        trainer.Train([ids]);
        QLoRARatioRun.ReportPeak(floor);
        return Task.CompletedTask;
    }
}

/// <summary>
/// <c>ratio qlora-load bf16|nf4 FOLDER</c>: one process: notes the runtime's resident floor, loads the bf16 checkpoint
/// in FOLDER (for nf4 with <c>quantization:</c>, which quantizes each stored tensor as it streams it) and prints
/// <c>peak-mib PEAK ABOVE-FLOOR</c> for the load.
/// </summary>
public sealed class QLoRALoadRun : IRatioRun
{
    /// <inheritdoc />
    public string Name => "qlora-load";

    /// <inheritdoc />
    public Task RunAsync(string[] args)
    {
        Core.TorchRuntime.Initialize();
        set_num_threads(2);
        using (var warm = ones(8, 8)) warm.matmul(warm).Dispose();
        var floor = QLoRARatioRun.ResidentMiB();
        QLoRARatioRun.ResetPeak();
        using var model = (TorchSharp.torch.nn.Module)(args[0] == "nf4"
            ? PretrainedDecoders.Load(args[1], FourBitOptions.Nf4, ScalarType.BFloat16)
            : PretrainedDecoders.Load(args[1], ScalarType.BFloat16));
        QLoRARatioRun.ReportPeak(floor);
        return Task.CompletedTask;
    }
}
