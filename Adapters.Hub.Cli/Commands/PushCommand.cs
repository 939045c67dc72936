using System.CommandLine;
using System.Net;
using Adapters.Hub.Cli.Help;
using System.Text.Json;
using Adapters.Hub.Upload;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>adapters-hub push FOLDER REPO_ID</c>: uploads an adapter folder in one commit, as Python's <c>push_adapter_to_hub</c> (or PEFT's <c>push_to_hub</c> for a PEFT folder).</summary>
internal static class PushCommand
{
    public static Command Create()
    {
        var folder = new Argument<string>("FOLDER") { Description = "Adapter folder: adapters' (adapter_config.json plus pytorch_adapter.bin and/or adapter.safetensors) or PEFT's (adapter_config.json with peft_type plus adapter_model.safetensors or .bin, pushed with PEFT's model card)." };
        var repoId = new Argument<string>("REPO_ID") { Description = "Target repository, 'org/name' or 'name'." };
        var revision = new Option<string?>("--revision") { Description = "Branch to push to (created when missing); default main." };
        var createPr = new Option<bool>("--create-pr") { Description = "Open a pull request instead of committing to the branch." };
        var isPrivate = new Option<bool>("--private") { Description = "Create the repository as private if it does not exist." };
        var message = new Option<string?>("--message", "-m") { Description = "Commit message (default: 'Upload model', as Python)." };
        var include = new Option<string[]>("--include") { Description = "Only push files matching these globs.", AllowMultipleArgumentsPerToken = true };
        var exclude = new Option<string[]>("--exclude") { Description = "Do not push files matching these globs.", AllowMultipleArgumentsPerToken = true };
        var overwriteCard = new Option<bool>("--overwrite-card") { Description = "Replace an existing README.md with a generated model card." };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object." };
        var hub = new HubConnectionOptions();

        var command = new Command("push", "Push an adapter folder to the Hub so that Python's load_adapter(\"org/name\") finds it.")
        {
            folder, repoId, revision, createPr, isPrivate, message, include, exclude, overwriteCard, json,
        };
        hub.AddTo(command, includeCache: false);

        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var asJson = parseResult.GetValue(json);
            var hubOptions = hub.Resolve(parseResult);
            using var client = new HubClient(hubOptions);
            var options = new AdapterPushOptions
            {
                Revision = parseResult.GetValue(revision),
                CreatePullRequest = parseResult.GetValue(createPr),
                Private = parseResult.GetValue(isPrivate),
                CommitMessage = parseResult.GetValue(message) ?? "Upload model",
                AllowPatterns = parseResult.GetValue(include) ?? [],
                IgnorePatterns = parseResult.GetValue(exclude) ?? [],
                OverwriteCard = parseResult.GetValue(overwriteCard),
            };
            var target = parseResult.GetValue(repoId)!;
            CommitInfo info;
            try
            {
                info = await UploadProgressView.RunAsync(UploadProgressView.IsInteractive(asJson), $"push {target}", progress =>
                    client.PushAdapterFolderAsync(parseResult.GetValue(folder)!, target, options with { Progress = progress }, cancellationToken)).ConfigureAwait(false);
            }
            catch (HubHttpException ex) when (hubOptions.Token is null && ex.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                // Without a token the Hub answers 401 "Repository Not Found"; the actionable fact is the missing token.
                throw new MissingTokenException($"Pushing to {target} needs a write token: pass --token, set HF_TOKEN or run 'adapters-hub login' (the Hub said: {ex.Message})", ex);
            }

            var output = parseResult.InvocationConfiguration.Output;
            if (asJson)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    repoId = target,
                    commitOid = info.CommitOid,
                    commitUrl = info.CommitUrl,
                    pullRequestUrl = info.PullRequestUrl,
                    empty = info.IsEmpty,
                }, CliJson.Options)).ConfigureAwait(false);
            }
            else
            {
                await output.WriteLineAsync(info.IsEmpty
                    ? $"Nothing to push: {target} already has these files at {info.CommitOid}."
                    : info.PullRequestUrl ?? info.CommitUrl ?? info.CommitOid).ConfigureAwait(false);
            }
            return 0;
        }));
        command.WithExamples("adapters-hub push ./my-adapter me/my-adapter", "adapters-hub push ./my-peft-lora me/my-peft-lora", "adapters-hub push ./my-adapter me/my-adapter --revision v2 --create-pr -m \"Retrain on more data\"", "HF_ENDPOINT=http://127.0.0.1:8787 adapters-hub push ./my-adapter me/my-adapter --json");
        return command;
    }
}
