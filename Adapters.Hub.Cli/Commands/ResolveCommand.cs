using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Text.Json;
using Adapters.Hub.Legacy;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>adapters-hub resolve ID</c>: where a legacy AdapterHub id lives on the Hugging Face Hub.</summary>
internal static class ResolveCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("id") { Description = "A legacy id: task/subtask@org, task/subtask, a bare subtask, or @org/file." };
        var model = new Option<string?>("--model") { Description = "The base model (e.g. bert-base-uncased); selects the registry index. Not needed for @org/file." };
        var config = new Option<string?>("--config") { Description = "An architecture name (pfeiffer, houlsby, seq_bn, …) or a JSON config object." };
        var version = new Option<string?>("--version") { Description = "A legacy version label; it becomes the revision (default: the default version on main)." };
        var registry = new Option<string?>("--registry") { Description = ResolveRegistryArgument.Help };
        var strict = new Option<bool>("--strict") { Description = "Fail when the config is not in the index instead of falling back to the default entry." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text." };
        var command = new Command("resolve", "Resolve a legacy AdapterHub id (as Python's find_in_index) to its Hugging Face repo AdapterHub/<name>, revision, config id and checksums.")
        {
            id, model, config, version, registry, strict, json,
        };
        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var resolver = new AdapterResolver(ResolveRegistryArgument.Open(parseResult.GetValue(registry))) { Strict = parseResult.GetValue(strict) };
            var result = await resolver.ResolveAsync(parseResult.GetValue(id)!, parseResult.GetValue(model), parseResult.GetValue(config), parseResult.GetValue(version), cancellationToken).ConfigureAwait(false);
            var output = parseResult.InvocationConfiguration.Output;
            if (parseResult.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(ResolveReport.From(result), CliJson.Options)).ConfigureAwait(false);
            }
            else
            {
                await output.WriteLineAsync($"repo_id:    {result.RepoId}").ConfigureAwait(false);
                await output.WriteLineAsync($"revision:   {result.Revision}").ConfigureAwait(false);
                await output.WriteLineAsync($"entry:      {LegacyRegistry.DistFolder}/{result.EntryPath}").ConfigureAwait(false);
                await output.WriteLineAsync($"config_id:  {result.ConfigId}").ConfigureAwait(false);
                await output.WriteLineAsync($"version:    {result.Version} (default {result.DefaultVersion})").ConfigureAwait(false);
                await output.WriteLineAsync($"sha1:       {result.File.Sha1 ?? "-"}").ConfigureAwait(false);
                await output.WriteLineAsync($"sha256:     {result.File.Sha256 ?? "-"}").ConfigureAwait(false);
                await output.WriteLineAsync($"legacy_url: {result.File.Url}").ConfigureAwait(false);
            }
            return 0;
        }));
        command.WithExamples("adapters-hub resolve sentiment/sst-2@ukp --model bert-base-uncased --registry github", "adapters-hub resolve @ukp/bert-base-uncased_sentiment_sst-2_pfeiffer --registry ./Hub --json", "adapters-hub resolve sst-2 --model bert-base-uncased --config houlsby --strict --registry ./Hub");
        return command;
    }
}
