using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Text.Json;
using Adapters.Core;
using System.Globalization;
using Adapters.Core.Models;
using Adapters.Core.Peft.Tuners;
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
            Description = "A saved adapter folder to load instead of adding one: adapters' (adapter_config.json plus adapter.safetensors or pytorch_adapter.bin) or PEFT's (adapter_config.json with peft_type plus adapter_model.safetensors or .bin; a SEQ_CLS adapter loads onto the sequence-classification model). Python's or ours; missing and unexpected keys are reported. Repeatable.",
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
            var folders = parseResult.GetValue(loadAdapters) ?? [];
            var peftFolders = folders.Where(PeftPretrainedModel.IsTunerFolder).ToArray();
            var quantization = QuantizeOption.Parse(parseResult.GetValue(quantize));
            if (quantization is not null && peftFolders.Length > 0)
                throw new ArgumentException("--quantize cannot be combined with PEFT tuner folders here: PEFT's layers are put on the unquantized weights.");
            // PEFT folders are loaded as PeftModel.from_pretrained does: the first decides the task model (SEQ_CLS: the
            // sequence-classification model with the saved head), the others join it. A folder brings its weights when it
            // has them; a config file is read as given, with random weights.
            using var peftModel = peftFolders.Length > 0 ? PeftPretrainedModel.Load(modelPath, peftFolders[0]) : null;
            using var built = peftModel is null ? ModelFactory.Load(modelPath) : null;
            var adapterModel = peftModel?.Classifier?.Backbone ?? peftModel?.Pretrained?.Adapters ?? built!.Adapters;
            var peftLoaded = new List<(string Folder, PeftLoadResult Result)>();
            if (peftModel is not null)
            {
                peftLoaded.Add((peftFolders[0], peftModel.Loaded));
                foreach (var folder in peftFolders.Skip(1))
                    peftLoaded.Add((folder, peftModel.Peft.LoadAdapter(folder, Unique(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))).Replace('.', '_'), [.. peftModel.Peft.Configs.Keys]), setActive: false)));
            }
            if (quantization is not null) adapterModel.QuantizeBaseWeights(quantization);
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var spec in parseResult.GetValue(adapters) ?? [])
            {
                var (name, config) = SplitSpec(spec);
                name = Unique(name, used);
                adapterModel.AddAdapter(name, config);
            }
            var loaded = new List<(string Folder, AdapterLoadResult Result)>();
            foreach (var folder in folders.Except(peftFolders))
            {
                loaded.Add((folder, adapterModel.LoadAdapter(folder)));
            }
            var peftRows = peftModel is null ? [] : PeftRows(peftModel.Peft);
            var totalParameters = peftModel?.Module.parameters().Sum(p => p.numel()) ?? 0;
            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(new
                {
                    modelType = adapterModel.Interface.ModelType,
                    quantization = QuantizeOption.Describe(adapterModel),
                    rows = adapterModel.AdapterSummaryRows(),
                    loaded = loaded.Select(l => new { folder = l.Folder, name = l.Result.Name, missingKeys = l.Result.MissingKeys, unexpectedKeys = l.Result.UnexpectedKeys }),
                    peft = peftLoaded.Select(l => new
                    {
                        folder = l.Folder,
                        name = l.Result.Name,
                        peftType = l.Result.PeftType,
                        taskType = peftModel!.Peft.Config(l.Result.Name).TaskType,
                        parameters = peftRows.Single(r => r.Name == l.Result.Name).Parameters,
                        targets = peftRows.Single(r => r.Name == l.Result.Name).Targets,
                        missingKeys = l.Result.MissingKeys,
                        unexpectedKeys = l.Result.UnexpectedKeys,
                        warnings = l.Result.Warnings,
                    }),
                }, CliJson.Options));
            }
            else
            {
                foreach (var (folder, result) in loaded)
                {
                    output.WriteLine($"loaded '{result.Name}' from {folder}: {result.MissingKeys.Count} missing, {result.UnexpectedKeys.Count} unexpected keys");
                    foreach (var key in result.UnexpectedKeys) output.WriteLine($"  unexpected: {key}");
                }
                foreach (var (folder, result) in peftLoaded)
                {
                    var row = peftRows.Single(r => r.Name == result.Name);
                    var task = peftModel!.Peft.Config(result.Name).TaskType;
                    output.WriteLine($"loaded PEFT {result.PeftType} adapter '{result.Name}'{(task is null ? "" : $" (task {task})")} from {folder}: {result.MissingKeys.Count} missing, {result.UnexpectedKeys.Count} unexpected keys");
                    foreach (var key in result.UnexpectedKeys) output.WriteLine($"  unexpected: {key}");
                    foreach (var warning in result.Warnings) output.WriteLine($"  warning: {warning}");
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {row.Parameters} parameters on {row.Targets.Count} modules: {string.Join(", ", row.Targets)}"));
                }
                if (QuantizeOption.Describe(adapterModel) is { } described) output.WriteLine(described);
                if (peftModel is not null)
                {
                    // PEFT's print_trainable_parameters() for the first adapter, as get_peft_model leaves the model.
                    var first = peftLoaded[0].Result.Name;
                    peftModel.Peft.MarkOnlyAdapterTrainable(first);
                    var trainable = peftModel.Peft.TrainableParameterCount();
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"trainable params: {trainable:N0} || all params: {totalParameters:N0} || trainable%: {100.0 * trainable / totalParameters:F4}"));
                }
                if (peftModel is null || loaded.Count > 0 || adapterModel.AdapterNames.Count > 0) output.WriteLine(adapterModel.AdapterSummary());
            }
            return 0;
        }));
        command.WithExamples("adapters-hub summary --model ./bert-base-uncased --adapter seq_bn", "adapters-hub summary --model ./TinyLlama --adapter lora --quantize nf4", "adapters-hub summary --model config.json --adapter \"lora[r=16, alpha=32]\" --adapter \"task=lora|par_bn\" --json", "adapters-hub summary --model ./bert-base-uncased --load-adapter ./my-adapter", "adapters-hub summary --model ./TinyLlama --load-adapter ./peft-lora", "adapters-hub summary --model ./configs/bert-large.json --adapter lora");
        return command;
    }

    // Per PEFT adapter: the parameters it saves (modules_to_save copies included) and the modules it adapts.
    private static List<(string Name, long Parameters, IReadOnlyList<string> Targets)> PeftRows(PeftTunerModel peft) =>
        peft.Configs.Keys.Select(name => (name,
            peft.SavedTensors(name).Sum(t => t.Tensor.numel()),
            (IReadOnlyList<string>)peft.LayersOf(name).Select(l => l.Base.Path).ToArray())).ToList();

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
