using System.Text;
using Adapters.Hub.Cards;

namespace Adapters.Hub.Upload;

/// <summary>Pushing saved adapters to the Hub so that Python's <c>load_adapter("org/name")</c> finds them.</summary>
public static class AdapterPushExtensions
{
    /// <summary>
    /// Pushes an adapter folder as Python's <c>push_adapter_to_hub</c> does: creates the repository if
    /// needed (and the branch), adds a model card when the folder has none (or when asked to replace it),
    /// and uploads every file in one commit. The folder itself is not modified. A PEFT folder (an
    /// <c>adapter_config.json</c> with <c>peft_type</c>) is pushed as PEFT's <c>push_to_hub</c> does, with PEFT's card.
    /// </summary>
    public static async Task<CommitInfo> PushAdapterFolderAsync(
        this HubClient hub,
        string folder,
        string repoId,
        AdapterPushOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hub);
        options ??= new AdapterPushOptions();
        ArgumentException.ThrowIfNullOrEmpty(folder);
        // A PEFT folder (its config has peft_type) gets PEFT's card, so that PeftModel.from_pretrained and the Hub see a PEFT adapter.
        var peft = PeftFolder.IsPeftFolder(folder) ? PeftFolder.Open(folder) : null;
        var adapter = peft is null ? AdapterFolder.Open(folder) : null;
        var path = peft?.Path ?? adapter!.Path;
        RepoIds.Validate(repoId);

        await hub.Repositories.CreateRepoAsync(repoId, RepoType.Model, options.Private, existOk: true, cancellationToken).ConfigureAwait(false);
        if (options.Revision is { } branch && branch != "main" && !options.CreatePullRequest)
        {
            await hub.Repositories.CreateBranchAsync(repoId, branch, existOk: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var operations = CommitsClient.FolderOperations(path, null, options.AllowPatterns, options.IgnorePatterns).ToList();
        var readmePath = Path.Combine(path, "README.md");
        if (options.OverwriteCard || !File.Exists(readmePath))
        {
            operations.RemoveAll(o => o.PathInRepo == "README.md");
            var card = peft is null ? BuildCard(adapter!, repoId, options.Card) : BuildCard(peft, repoId, options.Card);
            operations.Add(CommitOperation.AddBytes("README.md", Encoding.UTF8.GetBytes(card.ToString())));
        }

        return await hub.Commits.CreateCommitAsync(repoId, operations, options.CommitMessage, new CommitOptions
        {
            Description = options.CommitDescription,
            Revision = options.Revision,
            CreatePullRequest = options.CreatePullRequest,
            Progress = options.Progress,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The card <see cref="PushAdapterFolderAsync"/> writes for the PEFT folder <paramref name="adapter"/>: PEFT's (<see cref="PeftCard"/>).</summary>
    public static ModelCard BuildCard(PeftFolder adapter, string repoId, AdapterCardFields? fields = null)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        fields ??= new AdapterCardFields();
        return PeftCard.Create(new PeftCardOptions
        {
            RepoId = repoId,
            PeftType = adapter.PeftType,
            TaskType = adapter.TaskType,
            BaseModel = adapter.BaseModelNameOrPath,
            Tags = fields.Tags,
        });
    }

    /// <summary>The card <see cref="PushAdapterFolderAsync"/> writes for <paramref name="adapter"/>.</summary>
    public static ModelCard BuildCard(AdapterFolder adapter, string repoId, AdapterCardFields? fields = null)
    {
        ArgumentNullException.ThrowIfNull(adapter);
        fields ??= new AdapterCardFields();
        return AdapterCard.Create(new AdapterCardOptions
        {
            RepoId = repoId,
            ModelName = adapter.ModelName ?? "unknown",
            ModelType = adapter.ModelType,
            AdapterName = adapter.Name,
            HeadType = adapter.HeadType,
            Method = adapter.Method,
            DatasetTag = fields.DatasetTag,
            Tags = fields.Tags,
            Language = fields.Language,
            License = fields.License,
            Metrics = fields.Metrics,
            ParameterCount = fields.ParameterCount,
            ModelParameterCount = fields.ModelParameterCount,
            ArchitectureTraining = fields.ArchitectureTraining,
            Results = fields.Results,
            Citation = fields.Citation,
        });
    }
}
