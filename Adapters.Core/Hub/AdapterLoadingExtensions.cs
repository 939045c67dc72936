using Adapters.Core.Heads;
using Adapters.Core.Models;
using Adapters.Core.Serialization;

// The namespace is the Hub's although the methods need TorchSharp models (so they live in Adapters.Core, which
// references the Hub client): `using Adapters.Hub.Loading;` brings them whichever package defines them.
namespace Adapters.Hub.Loading;

/// <summary>
/// <c>model.LoadAdapterAsync(hub, "AdapterHub/roberta-base-pf-sst2")</c>: Python's <c>load_adapter</c> for ids,
/// URLs and folders, downloading through the verified Hub cache.
/// </summary>
public static class AdapterLoadingExtensions
{
    /// <summary>Resolves <paramref name="idOrPath"/> (see <see cref="AdapterFolderResolver"/>) and loads the adapter and its head, if any.</summary>
    /// <exception cref="AdapterNotFoundException">No source had the adapter.</exception>
    public static async Task<AdapterLoadResult> LoadAdapterAsync(
        this FlexHeadModel model,
        HubClient hub,
        string idOrPath,
        string? loadAs = null,
        bool setActive = false,
        AdapterResolveOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var folder = await ResolveAsync(model.BaseModel, hub, idOrPath, options, cancellationToken).ConfigureAwait(false);
        return model.LoadAdapter(folder.Path, loadAs, setActive);
    }

    /// <summary>As the <see cref="FlexHeadModel"/> overload, for a model without heads (a saved head is ignored).</summary>
    public static async Task<AdapterLoadResult> LoadAdapterAsync(
        this AdapterModel model,
        HubClient hub,
        string idOrPath,
        string? loadAs = null,
        bool setActive = false,
        AdapterResolveOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var folder = await ResolveAsync(model, hub, idOrPath, options, cancellationToken).ConfigureAwait(false);
        return model.LoadAdapter(folder.Path, loadAs, setActive);
    }

    /// <summary>
    /// Python's <c>model.load_adapter("org/name")</c>: resolves with a client configured from the environment
    /// (<c>HF_ENDPOINT</c>, <c>HF_TOKEN</c>, <c>HF_HUB_CACHE</c>, <c>HF_HUB_OFFLINE</c>) and loads the adapter and its head.
    /// </summary>
    public static async Task<AdapterLoadResult> LoadAdapterAsync(
        this FlexHeadModel model,
        string idOrPath,
        string? loadAs = null,
        bool setActive = false,
        AdapterResolveOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        using var hub = new HubClient();
        return await model.LoadAdapterAsync(hub, idOrPath, loadAs, setActive, options, cancellationToken).ConfigureAwait(false);
    }

    private static Task<ResolvedAdapterFolder> ResolveAsync(AdapterModel model, HubClient hub, string idOrPath, AdapterResolveOptions? options, CancellationToken cancellationToken)
    {
        options ??= new AdapterResolveOptions();
        if (options.ModelName is null && model.ModelName is { } name) options = options with { ModelName = name };
        return new AdapterFolderResolver(hub).ResolveAsync(idOrPath, options, cancellationToken);
    }
}
