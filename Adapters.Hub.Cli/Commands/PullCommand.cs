using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Text.Json;
using Adapters.Hub.Download;
using Spectre.Console;

namespace Adapters.Hub.Cli.Commands;

/// <summary>
/// <c>adapters-hub pull REPO_ID [FILE...]</c>: downloads a snapshot (or some files of it) into the shared
/// Hugging Face cache and prints the snapshot folder.
/// </summary>
internal static class PullCommand
{
    public static Command Create()
    {
        var repoId = new Argument<string>("repo-id") { Description = "Repository id: 'name' or 'org/name'." };
        var files = new Argument<string[]>("files") { Description = "Files to download (default: the whole snapshot).", Arity = ArgumentArity.ZeroOrMore };
        var revision = new Option<string>("--revision") { Description = "Branch, tag or commit (default: main)." };
        var include = new Option<string[]>("--include") { Description = "Glob of paths to download (repeatable; '*' also matches '/')." };
        var exclude = new Option<string[]>("--exclude") { Description = "Glob of paths to skip (repeatable)." };
        var repoType = new Option<string>("--repo-type") { Description = "model, dataset or space (default: model)." };
        var hubOptions = new HubConnectionOptions();
        var json = new Option<bool>("--json") { Description = "Print {path, commit, files} as JSON." };

        var command = new Command("pull", "Download a repository snapshot or files into the Hugging Face cache (verified, resumable) and print the snapshot path.")
        {
            repoId, files, revision, include, exclude, repoType, json,
        };
        hubOptions.AddTo(command);

        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var asJson = parseResult.GetValue(json);
            var type = parseResult.GetValue(repoType) is { } t ? RepoTypeExtensions.Parse(t) : RepoType.Model;
            var id = parseResult.GetValue(repoId)!;
            var requested = parseResult.GetValue(files) ?? [];
            var rev = parseResult.GetValue(revision);
            using var hub = new HubClient(hubOptions.Resolve(parseResult));

            var showProgress = !asJson && ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            Snapshot snapshot = showProgress
                ? await WithProgressAsync(id, progress => PullAsync(hub, id, requested, rev, type, parseResult.GetValue(include), parseResult.GetValue(exclude), progress, cancellationToken)).ConfigureAwait(false)
                : await PullAsync(hub, id, requested, rev, type, parseResult.GetValue(include), parseResult.GetValue(exclude), null, cancellationToken).ConfigureAwait(false);

            if (asJson)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(new { path = snapshot.Path, commit = snapshot.CommitHash, files = snapshot.Files }, CliJson.Options)).ConfigureAwait(false);
            }
            else
            {
                await output.WriteLineAsync(snapshot.Path).ConfigureAwait(false);
            }
            return 0;
        }));
        command.WithExamples("adapters-hub pull AdapterHub/bert-base-uncased-pf-sst2", "adapters-hub pull me/my-adapter adapter_config.json adapter.safetensors --revision v2", "adapters-hub pull me/my-adapter --include \"*.json\" --json", "adapters-hub -v pull me/my-adapter --offline        # from the cache only, logging cache hits");
        return command;
    }

    private static async Task<Snapshot> PullAsync(HubClient hub, string repoId, string[] files, string? revision, RepoType repoType, string[]? include, string[]? exclude, IProgress<TransferProgress>? progress, CancellationToken cancellationToken)
    {
        if (files.Length == 0)
        {
            return await hub.Files.SnapshotDownloadAsync(repoId, revision, include, exclude, repoType: repoType, progress: progress, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        if (files.Length == 1)
        {
            // One file, one HEAD (as Python's CLI, which calls hf_hub_download for a single file).
            var path = await hub.Files.DownloadFileAsync(repoId, files[0], revision, repoType, progress, cancellationToken).ConfigureAwait(false);
            var folder = path;
            foreach (var _ in files[0].Split('/')) folder = Path.GetDirectoryName(folder)!;
            return new Snapshot(folder, Path.GetFileName(folder), files);
        }
        // Several files: the revision is resolved once and every file taken from that commit, so a push
        // landing mid-pull cannot mix versions (Python's CLI uses one snapshot for the same reason).
        return await hub.Files.DownloadFilesAsync(repoId, files, revision, repoType, progress, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<Snapshot> WithProgressAsync(string repoId, Func<IProgress<TransferProgress>, Task<Snapshot>> run)
    {
        Snapshot? result = null;
        await AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(repoId, maxValue: 1);
                result = await run(new ProgressTaskReporter(task, repoId)).ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return result!;
    }

    /// <summary>Updates the Spectre task directly (Spectre's tasks are thread-safe), in report order.</summary>
    private sealed class ProgressTaskReporter(ProgressTask task, string repoId) : IProgress<TransferProgress>
    {
        public void Report(TransferProgress value)
        {
            if (value.TotalBytes is { } total && total > 0) task.MaxValue = total;
            task.Value = Math.Min(value.BytesTransferred, task.MaxValue);
            task.Description = $"{repoId} ({value.FilesCompleted}/{value.TotalFiles} files)";
        }
    }
}
