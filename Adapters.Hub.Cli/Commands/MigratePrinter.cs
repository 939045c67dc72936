using System.Text.Json;
using Adapters.Hub.Legacy.Migration;

namespace Adapters.Hub.Cli.Commands;

/// <summary>Text and JSON output of <c>migrate</c>.</summary>
internal static class MigratePrinter
{
    public static async Task WritePlanAsync(TextWriter writer, IReadOnlyList<MigrationPlanItem> plan, bool asJson)
    {
        if (asJson)
        {
            var document = new
            {
                Entries = plan.Count,
                Versions = plan.Sum(p => p.Versions.Count),
                Items = plan.Select(item => new
                {
                    item.LegacyId,
                    item.ModelName,
                    item.TaskSubtask,
                    item.ConfigId,
                    item.TargetRepo,
                    item.EntryPath,
                    item.CardPath,
                    item.Versions,
                }),
            };
            await writer.WriteLineAsync(JsonSerializer.Serialize(document, CliJson.Options)).ConfigureAwait(false);
            return;
        }
        foreach (var item in plan)
        {
            var versions = string.Join("; ", item.Versions.Select(v => $"{v.Version} -> {string.Join(", ", v.Branches)}"));
            await writer.WriteLineAsync($"{item.LegacyId} ({item.ModelName}, {item.TaskSubtask}, {item.ConfigId}) -> {item.TargetRepo} [{versions}]").ConfigureAwait(false);
        }
        await writer.WriteLineAsync($"{plan.Count} entries, {plan.Sum(p => p.Versions.Count)} versions.").ConfigureAwait(false);
    }

    public static async Task WriteReportAsync(TextWriter writer, MigrationReport report, bool asJson)
    {
        if (asJson)
        {
            var document = new { report.Migrated, report.Skipped, report.Failed };
            await writer.WriteLineAsync(JsonSerializer.Serialize(document, CliJson.Options)).ConfigureAwait(false);
            return;
        }
        foreach (var outcome in report.Outcomes)
        {
            var reason = outcome.Reason is null ? "" : $": {outcome.Reason}";
            await writer.WriteLineAsync($"{outcome.Kind.ToString().ToLowerInvariant(),-8} {outcome.LegacyId}@{outcome.Version} -> {outcome.TargetRepo} ({string.Join(", ", outcome.Branches)}){reason}").ConfigureAwait(false);
        }
        await writer.WriteLineAsync($"{report.Migrated.Count} migrated, {report.Skipped.Count} skipped, {report.Failed.Count} failed.").ConfigureAwait(false);
    }
}
