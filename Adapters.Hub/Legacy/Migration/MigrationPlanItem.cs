namespace Adapters.Hub.Legacy.Migration;

/// <summary>The plan for one registry entry: where it goes and which versions go to which branches.</summary>
public sealed class MigrationPlanItem
{
    /// <summary>The <c>@org/stem</c> id of the entry.</summary>
    public required string LegacyId { get; init; }

    /// <summary>The adapter card path.</summary>
    public required string CardPath { get; init; }

    /// <summary>The index entry path relative to <c>dist/v2</c>.</summary>
    public required string EntryPath { get; init; }

    /// <summary>The base model.</summary>
    public required string ModelName { get; init; }

    /// <summary><c>task/subtask</c>.</summary>
    public required string TaskSubtask { get; init; }

    /// <summary>The entry's config id.</summary>
    public required string ConfigId { get; init; }

    /// <summary>The target repository, <c>ORG/&lt;stem&gt;</c>.</summary>
    public required string TargetRepo { get; init; }

    /// <summary>The versions, default first, then in card order.</summary>
    public required IReadOnlyList<MigrationVersionPlan> Versions { get; init; }

    /// <summary>The card the plan was made from (metadata for the model card).</summary>
    public required LegacyAdapterCard Card { get; init; }
}
