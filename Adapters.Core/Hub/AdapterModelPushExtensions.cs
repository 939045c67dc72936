using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Peft.Tuners;
using Adapters.Core.Serialization;

// The namespace is the Hub's, as with AdapterLoadingExtensions: `using Adapters.Hub.Upload;` brings the push
// methods whichever package defines them.
namespace Adapters.Hub.Upload;

/// <summary>
/// Python's <c>model.push_adapter_to_hub</c>: saves an adapter of a TorchSharp model and pushes the folder with
/// <see cref="AdapterPushExtensions.PushAdapterFolderAsync"/>.
/// </summary>
public static class AdapterModelPushExtensions
{
    /// <summary>
    /// Saves adapter <paramref name="adapterName"/> (and its head, when the model has one of that name) in
    /// Python's layout into a temporary folder and pushes it with <see cref="AdapterPushExtensions.PushAdapterFolderAsync"/>; the
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

    /// <summary>
    /// Pushes PEFT adapter <paramref name="adapterName"/> of <paramref name="model"/> as PEFT's <c>push_to_hub</c> does:
    /// the folder <see cref="PeftTunerModel.SaveAdapter"/> writes (<c>adapter_config.json</c>,
    /// <c>adapter_model.safetensors</c>) with PEFT's model card (<c>library_name: peft</c>, <c>base_model</c>), in one
    /// commit; Python's <c>PeftModel.from_pretrained(model, repo_id)</c> loads it with default arguments.
    /// </summary>
    /// <param name="hub">The Hub client.</param>
    /// <param name="model">The tuner holding the adapter.</param>
    /// <param name="repoId">The target repository.</param>
    /// <param name="adapterName">The PEFT adapter to push.</param>
    /// <param name="baseModelNameOrPath">The base model's Hub id for <c>base_model_name_or_path</c> and the card, when the config has none.</param>
    /// <param name="options">Revision, pull request, card fields.</param>
    /// <param name="cancellationToken">Cancels the push.</param>
    public static async Task<CommitInfo> PushAdapterToHubAsync(
        this HubClient hub,
        PeftTunerModel model,
        string repoId,
        string adapterName = "default",
        string? baseModelNameOrPath = null,
        AdapterPushOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hub);
        ArgumentNullException.ThrowIfNull(model);
        var folder = Directory.CreateTempSubdirectory("peft-push-");
        try
        {
            // The push writes the card, with the repository id in it.
            model.SaveAdapter(folder.FullName, adapterName, baseModelNameOrPath: baseModelNameOrPath, writeCard: false);
            return await hub.PushAdapterFolderAsync(folder.FullName, repoId, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
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
}
