using System.Text;
using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Serialization;
using Adapters.Hub.Cards;

namespace Adapters.Hub.Upload;

/// <summary>Pushing saved adapters to the Hub so that Python's <c>load_adapter("org/name")</c> finds them.</summary>
public static class AdapterPushExtensions
{
    /// <summary>
    /// Pushes an adapter folder as Python's <c>push_adapter_to_hub</c> does: creates the repository if
    /// needed (and the branch), adds a model card when the folder has none (or when asked to replace it),
    /// and uploads every file in one commit. The folder itself is not modified.
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
        var adapter = AdapterFolder.Open(folder);
        RepoIds.Validate(repoId);

        await hub.Repositories.CreateRepoAsync(repoId, RepoType.Model, options.Private, existOk: true, cancellationToken).ConfigureAwait(false);
        if (options.Revision is { } branch && branch != "main" && !options.CreatePullRequest)
        {
            await hub.Repositories.CreateBranchAsync(repoId, branch, existOk: true, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        var operations = CommitsClient.FolderOperations(adapter.Path, null, options.AllowPatterns, options.IgnorePatterns).ToList();
        var readmePath = Path.Combine(adapter.Path, "README.md");
        if (options.OverwriteCard || !File.Exists(readmePath))
        {
            operations.RemoveAll(o => o.PathInRepo == "README.md");
            operations.Add(CommitOperation.AddBytes("README.md", Encoding.UTF8.GetBytes(BuildCard(adapter, repoId, options.Card).ToString())));
        }

        return await hub.Commits.CreateCommitAsync(repoId, operations, options.CommitMessage, new CommitOptions
        {
            Description = options.CommitDescription,
            Revision = options.Revision,
            CreatePullRequest = options.CreatePullRequest,
            Progress = options.Progress,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Saves adapter <paramref name="adapterName"/> (and its head, when the model has one of that name) in
    /// Python's layout into a temporary folder and pushes it with <see cref="PushAdapterFolderAsync"/>; the
    /// card reports the adapter's share of the model's parameters.
    /// </summary>
    public static Task<CommitInfo> PushAdapterToHubAsync(
        this HubClient hub,
        FlexHeadModel model,
        string repoId,
        string adapterName,
        AdapterPushOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return PushSavedAsync(hub, model.BaseModel, dir => model.SaveAdapter(dir, adapterName), repoId, adapterName, options, cancellationToken);
    }

    /// <summary>As the <see cref="FlexHeadModel"/> overload, for a model without heads.</summary>
    public static Task<CommitInfo> PushAdapterToHubAsync(
        this HubClient hub,
        AdapterModel model,
        string repoId,
        string adapterName,
        AdapterPushOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        return PushSavedAsync(hub, model, dir => model.SaveAdapter(dir, adapterName), repoId, adapterName, options, cancellationToken);
    }

    private static async Task<CommitInfo> PushSavedAsync(
        HubClient hub, AdapterModel model, Action<string> save, string repoId, string adapterName, AdapterPushOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hub);
        options ??= new AdapterPushOptions();
        var adapterParameters = model.AdapterParameters(adapterName).Sum(p => p.Parameter.numel());
        var modelParameters = model.parameters().Sum(p => p.numel()) - model.AdapterNames.Sum(n => model.AdapterParameters(n).Sum(p => p.Parameter.numel()));
        var folder = Directory.CreateTempSubdirectory("adapters-push-");
        try
        {
            save(folder.FullName);
            var card = options.Card with
            {
                ParameterCount = options.Card.ParameterCount ?? adapterParameters,
                ModelParameterCount = options.Card.ModelParameterCount ?? modelParameters,
            };
            return await hub.PushAdapterFolderAsync(folder.FullName, repoId, options with { Card = card }, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
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
