using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Text.Json;
using System.Text.Json.Nodes;
using Adapters.Core;
using Adapters.Core.Configuration;
using Adapters.Core.Models;
using Adapters.Core.Peft;
using Adapters.Core.Serialization;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// <c>adapters-hub convert-adapter IN_DIR OUT_DIR --to peft|adapters [--model CONFIG_OR_DIR] [--name NAME] [--task-type TASK] [--json]</c>:
/// converts a LoRA / IA³ adapter folder between Python adapters' format and PEFT's, building the model (encoder or
/// decoder) from its <c>config.json</c> to know the module paths and shapes.
/// </summary>
internal static class ConvertAdapterCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("in-dir") { Description = "The adapter folder to read (Python adapters' or PEFT's; the kind is detected)." };
        var output = new Argument<string>("out-dir") { Description = "The folder to write." };
        var to = new Option<string>("--to") { Description = "The format to write: peft or adapters.", Required = true };
        to.AcceptOnlyFromAmong("peft", "adapters");
        var model = new Option<string?>("--model")
        {
            Description = "The base model's config.json, or a folder holding one. Defaults to the folder named by the adapter's base_model_name_or_path / model_name when that exists locally.",
        };
        var name = new Option<string?>("--name") { Description = "The adapter name written to adapters' config (PEFT folders carry none); defaults to the input folder's name." };
        var taskType = new Option<string?>("--task-type")
        {
            Description = $"PEFT's task_type to write with --to peft ({string.Join(", ", PeftTaskTypes.All)}); SEQ_CLS and TOKEN_CLS key the modules under the task model's base prefix (bert.encoder…), as PEFT saves them.",
        };
        var json = new Option<bool>("--json") { Description = "Print a JSON summary instead of text." };
        var command = new Command("convert-adapter", """
            Convert a LoRA or IA3 adapter between Python adapters' folder format and PEFT's.

            Decoders (gpt2, llama, mistral, qwen2) use their causal-LM paths (model.layers.N.self_attn.q_proj,
            transformer.h.N.attn.c_attn with fan_in_fan_out); GPT-2's fused c_attn converts exactly both ways.

            Features with no counterpart fail naming the module: a PEFT target without an adapters slot (embeddings,
            the attention output projection), DoRA (the two libraries' math differs), per-module ranks (rank_pattern)
            or rsLoRA scales when writing adapters' format, and VeRA, gating or bottleneck modules when writing PEFT's.
            """)
        {
            input,
            output,
            to,
            model,
            name,
            taskType,
            json,
        };
        command.SetAction(parseResult => CommandErrors.Guard(parseResult, () =>
        {
            var source = parseResult.GetValue(input)!;
            var target = parseResult.GetValue(output)!;
            var format = parseResult.GetValue(to)!;
            if (!Directory.Exists(source)) throw new DirectoryNotFoundException($"{source}: adapter folder not found.");
            var sourceIsPeft = PeftFiles.IsPeftFolder(source);
            if (sourceIsPeft == (format == "peft"))
                throw new ArgumentException($"{source} is already in {(sourceIsPeft ? "PEFT" : "adapters")} format; --to {format} would not convert it.");
            var task = parseResult.GetValue(taskType);
            if (task is not null && format != "peft") throw new ArgumentException("--task-type sets PEFT's task_type; it applies only with --to peft.");
            if (task is not null && !PeftTaskTypes.IsKnown(task))
                throw new ArgumentException($"--task-type \"{task}\" is not one of PEFT's task types: {string.Join(", ", PeftTaskTypes.All)}.");
            TorchRuntime.Initialize();
            using var built = ModelFactory.FromConfigFile(ResolveModelConfig(parseResult.GetValue(model), source, sourceIsPeft));
            var encoder = built.Adapters;
            var adapterName = parseResult.GetValue(name) ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(source))).Replace('.', '_');
            string architecture;
            if (sourceIsPeft)
            {
                var loaded = encoder.LoadPeftAdapter(source, adapterName);
                encoder.EnsureAdaptersExpressible(loaded.Name);
                encoder.SaveAdapter(target, loaded.Name);
                architecture = encoder.GetAdapterConfig(loaded.Name) is LoRAConfig { CompositionMode: "scale" } ? "ia3" : "lora";
                adapterName = loaded.Name;
            }
            else
            {
                var loaded = encoder.LoadAdapter(source);
                adapterName = loaded.Name;
                architecture = encoder.SavePeftAdapter(target, adapterName, new PeftExportOptions { TaskType = task }).PeftType;
            }
            var files = Directory.GetFiles(target).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
            var tensors = encoder.GetAdapterStateDict(adapterName).Count;
            var writer = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                writer.WriteLine(JsonSerializer.Serialize(new { input = source, output = target, to = format, name = adapterName, kind = architecture, taskType = task, tensors, files }, CliJson.Options));
            }
            else
            {
                writer.WriteLine($"wrote {target}: {(format == "peft" ? "PEFT" : "adapters")} {architecture} adapter '{adapterName}', {tensors} tensors ({string.Join(", ", files)})");
            }
            return 0;
        }));
        command.WithExamples(
            "adapters-hub convert-adapter ./my-lora ./my-lora-peft --to peft --model ./bert-base-uncased",
            "adapters-hub convert-adapter ./tinyllama-lora ./peft-lora --to peft --model ./TinyLlama --task-type CAUSAL_LM",
            "adapters-hub convert-adapter ./peft-lora ./adapters-lora --to adapters --model config.json --name sst2",
            "adapters-hub convert-adapter ./peft-ia3 ./out --to adapters --model ./model --json",
            "adapters-hub convert-adapter ./tinyllama-lora ./out --to adapters --model ./TinyLlama/config.json");
        return command;
    }

    private static string ResolveModelConfig(string? model, string adapterFolder, bool peft)
    {
        if (model is null)
        {
            var document = JsonNode.Parse(File.ReadAllText(Path.Combine(adapterFolder, "adapter_config.json"))) as JsonObject;
            var named = (peft ? document?["base_model_name_or_path"] : document?["model_name"])?.GetValue<string>();
            if (named is not null && File.Exists(Path.Combine(named, "config.json"))) return Path.Combine(named, "config.json");
            throw new ArgumentException($"--model is needed to know the architecture and shapes: the adapter names base model '{named ?? "(none)"}', which is not a local folder with config.json.");
        }
        if (Directory.Exists(model))
        {
            var inside = Path.Combine(model, "config.json");
            return File.Exists(inside) ? inside : throw new FileNotFoundException($"{model} has no config.json.", inside);
        }
        return File.Exists(model) ? model : throw new FileNotFoundException($"Model config {model} does not exist; pass a config.json or a folder holding one.", model);
    }
}
