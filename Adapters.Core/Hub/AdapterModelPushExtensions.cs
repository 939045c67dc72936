using Adapters.Core.Heads;
using Adapters.Core.Models;
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
