using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Text.Json;
using Adapters.Core;
using Adapters.Core.Models;
using Adapters.Core.Quantization;
using Adapters.Core.Serialization;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// <c>adapters-hub summary --model MODEL_DIR_OR_CONFIG_FILE --adapter [NAME=]CONFIG_STRING [--adapter ...] [--json]</c>:
/// builds the encoder or decoder (gpt2, llama, mistral, qwen2) through <see cref="ModelFactory"/> from a model folder or a
/// config file (the file given, whatever its name), adds or loads the adapters and prints Python's
/// <c>adapter_summary()</c> table.
/// </summary>
internal static class SummaryCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model folder (config.json plus weights, if any), or a config file of any name (random weights).", Required = true };
        var adapters = new Option<string[]>("--adapter")
        {
            Description = "An adapter as [NAME=]CONFIG_STRING, e.g. seq_bn, \"lora[r=16, alpha=32]\" or \"task=lora|par_bn\". Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var loadAdapters = new Option<string[]>("--load-adapter")
        {
            Description = "A saved adapter folder (adapter_config.json plus adapter.safetensors or pytorch_adapter.bin, Python's or ours) to load instead of adding one; missing and unexpected keys are reported. Repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var json = new Option<bool>("--json") { Description = "Print the rows as JSON instead of the table." };
        var quantize = QuantizeOption.Create();
        var command = new Command("summary", "Show adapter parameter counts for a model config, as Python's adapter_summary() prints them.")
        {
            model,
            adapters,
            loadAdapters,
            quantize,
            json,
        };
        command.SetAction(parseResult => CommandErrors.Guard(parseResult, () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var modelPath = parseResult.GetValue(model)!;
            TorchRuntime.Initialize();
            // A folder brings its weights when it has them; a config file is read as given, with random weights.
            using var built = ModelFactory.Load(modelPath);
            var adapterModel = built.Adapters;
            var quantization = QuantizeOption.Parse(parseResult.GetValue(quantize));
            if (quantization is not null) adapterModel.QuantizeBaseWeights(quantization);
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var spec in parseResult.GetValue(adapters) ?? [])
            {
                var (name, config) = SplitSpec(spec);
                name = Unique(name, used);
                adapterModel.AddAdapter(name, config);
            }
            var loaded = new List<(string Folder, AdapterLoadResult Result)>();
            foreach (var folder in parseResult.GetValue(loadAdapters) ?? [])
            {
                loaded.Add((folder, adapterModel.LoadAdapter(folder)));
            }
            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    modelType = adapterModel.Interface.ModelType,
                    quantization = QuantizeOption.Describe(adapterModel),
                    rows = adapterModel.AdapterSummaryRows(),
                    loaded = loaded.Select(l => new { folder = l.Folder, name = l.Result.Name, missingKeys = l.Result.MissingKeys, unexpectedKeys = l.Result.UnexpectedKeys }),
                }, CliJson.Options));
            }
            else
            {
                foreach (var (folder, result) in loaded)
                {
                    output.WriteLine($"loaded '{result.Name}' from {folder}: {result.MissingKeys.Count} missing, {result.UnexpectedKeys.Count} unexpected keys");
                    foreach (var key in result.UnexpectedKeys) output.WriteLine($"  unexpected: {key}");
                }
                if (QuantizeOption.Describe(adapterModel) is { } described) output.WriteLine(described);
                output.WriteLine(adapterModel.AdapterSummary());
            }
            return 0;
        }));
        command.WithExamples("adapters-hub summary --model ./bert-base-uncased --adapter seq_bn", "adapters-hub summary --model ./TinyLlama --adapter lora --quantize nf4", "adapters-hub summary --model config.json --adapter \"lora[r=16, alpha=32]\" --adapter \"task=lora|par_bn\" --json", "adapters-hub summary --model ./bert-base-uncased --load-adapter ./my-adapter", "adapters-hub summary --model ./configs/bert-large.json --adapter lora");
        return command;
    }

    /// <summary>"task=lora[r=8]" names the adapter; an '=' inside the brackets belongs to the config string.</summary>
    private static (string Name, string Config) SplitSpec(string spec)
    {
        var equals = spec.IndexOf('=', StringComparison.Ordinal);
        var bracket = spec.IndexOf('[', StringComparison.Ordinal);
        if (equals > 0 && (bracket < 0 || equals < bracket)) return (spec[..equals].Trim(), spec[(equals + 1)..].Trim());
        var end = spec.IndexOfAny(['[', '|']);
        var alias = (end < 0 ? spec : spec[..end]).Trim();
        return (alias.Replace('.', '_').Replace('+', '_'), spec);
    }

    private static string Unique(string name, HashSet<string> used)
    {
        var candidate = name;
        for (var i = 2; !used.Add(candidate); i++) candidate = $"{name}_{i}";
        return candidate;
    }
}
