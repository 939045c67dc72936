using Adapters.Hub.Cli.Serve.Auth;
using Adapters.Hub.Cli.Serve.Storage;

namespace Adapters.Hub.Cli.Serve.Endpoints;

/// <summary>What every endpoint needs: the store, the upload sessions, the authorizer, the URL signer and the options.</summary>
internal sealed class ServeServices(RegistryServerOptions options)
{
    public RegistryServerOptions Options { get; } = options;

    public RegistryStore Store { get; } = new(options.RootDirectory);

    public RequestAuthorizer Auth { get; } = new(options.Tokens);

    public BlobUrlSigner Signer { get; } = new() { Lifetime = options.UrlLifetime };

    private LfsUploadSessions? _sessions;

    public LfsUploadSessions Sessions => _sessions ??= new LfsUploadSessions(Store.Blobs, Options.UrlLifetime);
}
