using Adapters.Hub.Download;
using Spectre.Console;

namespace Adapters.Hub.Cli.Commands;

/// <summary>A Spectre.Console progress bar for uploads, shown only on an interactive terminal.</summary>
internal static class UploadProgressView
{
    public static bool IsInteractive(bool json) => !json && !Console.IsOutputRedirected && !Console.IsErrorRedirected;

    public static async Task<T> RunAsync<T>(bool show, string label, Func<IProgress<TransferProgress>?, Task<T>> work)
    {
        if (!show) return await work(null).ConfigureAwait(false);
        T result = default!;
        await AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(label, maxValue: 1);
                var progress = new Progress<TransferProgress>(p =>
                {
                    if (p.TotalBytes is { } total && total > 0) task.MaxValue = total;
                    task.Value = Math.Min(p.BytesTransferred, task.MaxValue);
                    task.Description = $"{label} ({p.FilesCompleted}/{p.TotalFiles} files)";
                });
                result = await work(progress).ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return result;
    }
}
