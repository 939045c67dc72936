namespace Adapters.Hub.Loading;

/// <summary>Where <see cref="AdapterFolderResolver"/> found an adapter, in the order Python's <c>resolve_adapter_path</c> tries.</summary>
public enum AdapterSourceKind
{
    /// <summary>An http(s) URL to a zip (or a single file), downloaded and extracted.</summary>
    Url,
    /// <summary>A local folder.</summary>
    LocalFolder,
    /// <summary>A Hub repository, downloaded into the Hub cache.</summary>
    HubRepository,
    /// <summary>A legacy AdapterHub id redirected to <c>AdapterHub/&lt;name&gt;</c> on the Hub.</summary>
    LegacyRedirect,
}
