namespace Adapters.Hub.Legacy.Migration;

/// <summary>The final report of a migration run, in plan order.</summary>
public sealed class MigrationReport
{
    /// <summary>Creates the report.</summary>
    public MigrationReport(IReadOnlyList<MigrationOutcome> outcomes)
    {
        Outcomes = outcomes ?? throw new ArgumentNullException(nameof(outcomes));
    }

    /// <summary>Every outcome.</summary>
    public IReadOnlyList<MigrationOutcome> Outcomes { get; }

    /// <summary>The versions pushed in this run.</summary>
    public IReadOnlyList<MigrationOutcome> Migrated => Outcomes.Where(o => o.Kind == MigrationOutcomeKind.Migrated).ToList();

    /// <summary>The versions skipped, with reasons.</summary>
    public IReadOnlyList<MigrationOutcome> Skipped => Outcomes.Where(o => o.Kind == MigrationOutcomeKind.Skipped).ToList();

    /// <summary>The versions that failed, with reasons.</summary>
    public IReadOnlyList<MigrationOutcome> Failed => Outcomes.Where(o => o.Kind == MigrationOutcomeKind.Failed).ToList();
}
