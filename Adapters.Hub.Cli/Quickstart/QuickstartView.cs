using System.Globalization;
using Spectre.Console;

namespace Adapters.Hub.Cli.Quickstart;

/// <summary>Progress of one training epoch.</summary>
internal sealed record EpochProgress(int Epoch, int MaxEpochs, double Loss, double TestAccuracy);

/// <summary>
/// How the quickstart shows its progress: Spectre.Console spinners and a progress bar on a terminal, plain lines when
/// the output is redirected, nothing at all with <c>--json</c> (which prints only the final report).
/// </summary>
internal abstract class QuickstartView
{
    /// <summary>The view for this run.</summary>
    public static QuickstartView Create(TextWriter output, bool json)
    {
        if (json) return new PlainView(TextWriter.Null);
        var terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && !Console.IsErrorRedirected;
        return terminal ? new TerminalView() : new PlainView(output);
    }

    /// <summary>Runs one step while showing that it is in progress.</summary>
    public abstract Task<T> StepAsync<T>(string title, Func<Task<T>> work);

    /// <summary>Runs training while showing a progress bar over its epochs.</summary>
    public abstract Task<T> TrainAsync<T>(int maxEpochs, Func<IProgress<EpochProgress>, Task<T>> work);

    /// <summary>Reports a finished step.</summary>
    public abstract void StepDone(QuickstartStep step);

    /// <summary>Prints a block of text (a table, the final notes).</summary>
    public abstract void Text(string text);

    /// <summary>Prints the timings of every step.</summary>
    public abstract void StepTable(IReadOnlyList<QuickstartStep> steps);

    private static string Seconds(double seconds) => seconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";

    private sealed class PlainView(TextWriter output) : QuickstartView
    {
        public override Task<T> StepAsync<T>(string title, Func<Task<T>> work)
        {
            output.WriteLine($"... {title}");
            return work();
        }

        public override Task<T> TrainAsync<T>(int maxEpochs, Func<IProgress<EpochProgress>, Task<T>> work) =>
            work(new SynchronousProgress(p => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    epoch {p.Epoch}/{p.MaxEpochs}: loss {p.Loss:0.0000}, test accuracy {p.TestAccuracy:0.000}"))));

        public override void StepDone(QuickstartStep step) => output.WriteLine($"ok  {step.Name}: {step.Detail} ({Seconds(step.Seconds)})");

        public override void Text(string text) => output.WriteLine(text);

        public override void StepTable(IReadOnlyList<QuickstartStep> steps)
        {
            var width = steps.Max(s => s.Name.Length);
            output.WriteLine();
            foreach (var step in steps) output.WriteLine($"{step.Name.PadRight(width)}  {Seconds(step.Seconds),9}");
            output.WriteLine($"{"total".PadRight(width)}  {Seconds(steps.Sum(s => s.Seconds)),9}");
        }
    }

    private sealed class TerminalView : QuickstartView
    {
        public override async Task<T> StepAsync<T>(string title, Func<Task<T>> work)
        {
            T result = default!;
            await AnsiConsole.Status().StartAsync(Markup.Escape(title), async _ => result = await work().ConfigureAwait(false)).ConfigureAwait(false);
            return result;
        }

        public override async Task<T> TrainAsync<T>(int maxEpochs, Func<IProgress<EpochProgress>, Task<T>> work)
        {
            T result = default!;
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask("training", maxValue: maxEpochs);
                    result = await work(new SynchronousProgress(p =>
                    {
                        task.Value = p.Epoch;
                        task.Description = string.Create(CultureInfo.InvariantCulture,
                            $"epoch {p.Epoch}/{p.MaxEpochs}  loss {p.Loss:0.000}  test acc {p.TestAccuracy:0.000}");
                    })).ConfigureAwait(false);
                    task.Value = task.MaxValue;
                }).ConfigureAwait(false);
            return result;
        }

        public override void StepDone(QuickstartStep step) =>
            AnsiConsole.MarkupLine($"[green]✓[/] [bold]{Markup.Escape(step.Name)}[/]: {Markup.Escape(step.Detail)} [grey]({Seconds(step.Seconds)})[/]");

        public override void Text(string text) => AnsiConsole.WriteLine(text);

        public override void StepTable(IReadOnlyList<QuickstartStep> steps)
        {
            var table = new Table().AddColumn("step").AddColumn(new TableColumn("time").RightAligned());
            foreach (var step in steps) table.AddRow(Markup.Escape(step.Name), Seconds(step.Seconds));
            table.AddRow("[bold]total[/]", $"[bold]{Seconds(steps.Sum(s => s.Seconds))}[/]");
            AnsiConsole.Write(table);
        }
    }

    /// <summary>Reports on the calling thread, so lines and bars appear in order with the work.</summary>
    private sealed class SynchronousProgress(Action<EpochProgress> report) : IProgress<EpochProgress>
    {
        public void Report(EpochProgress value) => report(value);
    }
}
