using System.CommandLine;
using Adapters.Hub.Cli.Help;
using Adapters.Hub.Cards;
using Adapters.Hub.Upload;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>adapters-hub card FOLDER</c>: writes or refreshes an adapter folder's README.md model card.</summary>
internal static class CardCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("FOLDER") { Description = "Adapter folder (with adapter_config.json)." };
        var repoId = new Option<string?>("--repo-id") { Description = "Repository id the card refers to (default: the adapter's name)." };
        var dataset = new Option<string?>("--dataset") { Description = "Dataset id the adapter was trained on." };
        var language = new Option<string[]>("--language") { Description = "Language code(s).", AllowMultipleArgumentsPerToken = true };
        var license = new Option<string?>("--license") { Description = "License id (e.g. apache-2.0)." };
        var tags = new Option<string[]>("--tag") { Description = "Extra tag(s).", AllowMultipleArgumentsPerToken = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the text of an existing README.md (its front matter keys are kept and merged either way)." };
        var command = new Command("card", "Write or refresh the model card (README.md) of an adapter folder.")
        {
            folder, repoId, dataset, language, license, tags, overwrite,
        };
        command.SetAction(parseResult => CommandErrors.Guard(parseResult, () =>
        {
            var adapter = AdapterFolder.Open(parseResult.GetValue(folder)!);
            var fields = new AdapterCardFields
            {
                DatasetTag = parseResult.GetValue(dataset),
                Language = parseResult.GetValue(language) ?? [],
                License = parseResult.GetValue(license),
                Tags = parseResult.GetValue(tags) ?? [],
            };
            var target = parseResult.GetValue(repoId) ?? adapter.Name;
            var fresh = AdapterPushExtensions.BuildCard(adapter, target, fields);
            var path = Path.Combine(adapter.Path, "README.md");
            ModelCard card;
            if (File.Exists(path))
            {
                card = ModelCard.Load(path);
                foreach (var key in fresh.Metadata.Keys)
                {
                    var values = fresh.Metadata.GetList(key);
                    if (key is "license" or "library_name" or "base_model")
                    {
                        if (card.Metadata.GetString(key) is null) card.Metadata.SetString(key, values[0], quoted: key == "license");
                    }
                    else
                    {
                        card.Metadata.AddToList(key, values);
                    }
                }
                if (parseResult.GetValue(overwrite)) card.Body = fresh.Body;
            }
            else
            {
                card = fresh;
            }
            card.Save(path);
            parseResult.InvocationConfiguration.Output.WriteLine(path);
            return 0;
        }));
        command.WithExamples("adapters-hub card ./my-adapter", "adapters-hub card ./my-adapter --repo-id me/my-adapter --dataset glue --language en --license apache-2.0");
        return command;
    }
}
