using Adapters.Hub.Cli.Serve.Auth;
using Adapters.Hub.Cli.Serve.Storage;
using Microsoft.AspNetCore.Http;

namespace Adapters.Hub.Cli.Serve.Endpoints;

/// <summary>What every endpoint needs: the store, the upload sessions, the authorizer, the URL signer and the options.</summary>
internal sealed class ServeServices : IDisposable
{
    public ServeServices(RegistryServerOptions options)
    {
        Options = options;
        Store = new RegistryStore(options.RootDirectory);
        Auth = new RequestAuthorizer(options.Tokens);
        Signer = new BlobUrlSigner { Lifetime = options.UrlLifetime };
        Sessions = new LfsUploadSessions(Store.Blobs, options.UrlLifetime);
    }

    public RegistryServerOptions Options { get; }

    public RegistryStore Store { get; }

    public RequestAuthorizer Auth { get; }

    public BlobUrlSigner Signer { get; }

    public LfsUploadSessions Sessions { get; }

    public void Dispose() => Store.Dispose();

    /// <summary>
    /// Read access as on the Hub: public repositories are readable without a token, private ones need a
    /// valid token, and without one a missing repository is indistinguishable from a private one (401).
    /// A token that is sent must be valid either way.
    /// </summary>
    public RepoMetadata RequireRead(HttpContext context, RepoKey key)
    {
        var caller = Auth.Identify(context);
        var repo = Store.FindRepo(key);
        if (!Auth.IsOpen && caller is null && (repo is null || repo.Private))
        {
            throw new RegistryException(401, null, $"Repository {key} is private or does not exist; send 'Authorization: Bearer <token>' with a token of this registry.");
        }
        return repo ?? throw RegistryException.RepoNotFound(key.ToString());
    }
}
