using System.CommandLine;
using Adapters.Hub.Cli.Help;
using System.Text.Json;
using Adapters.Hub.Legacy;
using Adapters.Hub.Legacy.Migration;

namespace Adapters.Hub.Cli.Commands;

/// <summary><c>adapters-hub migrate</c>: plan or run the move of legacy AdapterHub entries to <c>ORG/&lt;name&gt;</c> repos.</summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var registry = new Option<string?>("--registry") { Description = ResolveRegistryArgument.Help };
        var org = new Option<string>("--org") { Description = "The target org or user.", DefaultValueFactory = _ => MigrationPlanner.DefaultOrg };
        var only = new Option<string?>("--only") { Description = "A glob (* and ?) matched against org/name, @org/name, name, the model, or task/subtask." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (legacy id, model, config id, versions, target repo, branches); fetch and write nothing." };
        var state = new Option<string?>("--state") { Description = "The resumable state file: finished versions are recorded there and skipped on a re-run." };
        var output = new Option<string?>("--output") { Description = "Stage the migrated repos into this folder as ORG/NAME/BRANCH/files instead of pushing them to the Hub." };
        var isPrivate = new Option<bool>("--private") { Description = "Create new repositories as private." };
        var hub = new HubConnectionOptions();
        var concurrency = new Option<int>("--concurrency") { Description = "Entries migrated at once.", DefaultValueFactory = _ => 2 };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var command = new Command("migrate", "Migrate legacy AdapterHub registry entries: fetch each version's zip, verify its checksum, unzip safely, normalise it to today's adapters format with a model card, and publish it (default version to main and to its own branch, other versions to their own branches).")
        {
            registry, org, only, dryRun, state, output, isPrivate, concurrency, json,
        };
        hub.AddTo(command, includeCache: false);
        command.SetAction((parseResult, cancellationToken) => CommandErrors.GuardAsync(parseResult, async () =>
        {
            var legacy = ResolveRegistryArgument.Open(parseResult.GetValue(registry));
            var filter = parseResult.GetValue(only) is { } glob ? new MigrationFilter { Only = glob } : null;
            var plan = await new MigrationPlanner(legacy).PlanAsync(parseResult.GetValue(org)!, filter, cancellationToken).ConfigureAwait(false);
            var writer = parseResult.InvocationConfiguration.Output;
            var asJson = parseResult.GetValue(json);
            if (parseResult.GetValue(dryRun))
            {
                await MigratePrinter.WritePlanAsync(writer, plan, asJson).ConfigureAwait(false);
                return 0;
            }
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(30) };
            using var client = parseResult.GetValue(output) is null ? new HubClient(hub.Resolve(parseResult)) : null;
            IMigrationPublisher publisher = parseResult.GetValue(output) is { } target
                ? new FolderMigrationPublisher(target)
                : new HubMigrationPublisher(client!, parseResult.GetValue(isPrivate));
            var runner = new MigrationRunner(legacy, new HttpLegacyArchiveFetcher(http), publisher, new MigrationRunnerOptions
            {
                StateFile = parseResult.GetValue(state),
                MaxConcurrency = parseResult.GetValue(concurrency),
                WeightConverter = new TensorFilesWeightConverter(),
            });
            var report = await runner.RunAsync(plan, cancellationToken).ConfigureAwait(false);
            await MigratePrinter.WriteReportAsync(writer, report, asJson).ConfigureAwait(false);
            if (report.Failed.Count > 0)
            {
                await parseResult.InvocationConfiguration.Error.WriteLineAsync($"error: {report.Failed.Count} of {report.Outcomes.Count} versions failed (see the report).").ConfigureAwait(false);
                return CommandErrors.ExitCodeForAll(report.Failed.Select(f => f.Error));
            }
            return 0;
        }));
        command.WithExamples("adapters-hub migrate --registry ./Hub --dry-run --json", "adapters-hub migrate --registry ./Hub --only \"sentiment/*\" --output ./staged", "adapters-hub migrate --registry github --org AdapterHub --state migrate-state.json --token hf_...");
        return command;
    }
}
