using Adapters.Registry.Accounts;
using Adapters.Registry.Auth;
using Adapters.Registry.Mirror;
using Adapters.Registry.Operations;
using Adapters.Registry.Storage;
using Adapters.Registry.Storage.Metadata;
using Adapters.Registry.Storage.ObjectStorage;
using Adapters.Registry.Xet;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Endpoints;

/// <summary>What every endpoint needs: the store, the upload sessions, the authorizer, the URL signer and the options.</summary>
internal sealed class ServeServices : IDisposable
{
    public ServeServices(RegistryServerOptions options)
    {
        Options = options;
        // PostgreSQL is shared metadata: replicas on it may share the blob root too.
        var objectStorage = options.S3Blobs is { } s3 ? new S3ObjectStorage(s3) : null;
        try
        {
            Store = options.PostgresConnectionString is { } postgres
                ? new RegistryStore(options.RootDirectory, () => SqlRegistryMetadata.OpenPostgres(postgres), sharedRoot: true, objectStorage)
                : new RegistryStore(options.RootDirectory, objectStorage: objectStorage);
        }
        catch
        {
            objectStorage?.Dispose();
            throw;
        }
        Accounts = new RegistryAccounts(Store.Metadata is SqlRegistryMetadata sql ? sql.Dialect : throw new InvalidOperationException($"Accounts need SQL metadata; {Store.MetadataDescription} is not."), ownsDialect: false);
        Auth = new RequestAuthorizer(options.Tokens, Accounts);
        Signer = new BlobUrlSigner(Store.UrlSigningKey()) { Lifetime = options.UrlLifetime };
        // Upload parts go where every replica finds them: the root's tmp/uploads (shared on a shared folder) and object storage.
        Sessions = new LfsUploadSessions(Store.Blobs, Signer, Path.Combine(Store.Root, "tmp", "uploads"));
        Xet = new XetStorage(Store.Blobs, Store.Xet);
        XetTokens = new XetCasTokens(Store.UrlSigningKey()) { Lifetime = options.UrlLifetime };
        Mirror = options.Mirror is { } mirror ? new UpstreamMirror(mirror, Store, options.RequestLog) : null;
        Metrics = new RegistryMetrics(() => Mirror);
    }

    /// <summary>Mirror mode's upstream, when <see cref="RegistryServerOptions.Mirror"/> is set.</summary>
    public UpstreamMirror? Mirror { get; }

    /// <summary>The counters behind <c>/metrics</c>.</summary>
    public RegistryMetrics Metrics { get; }

    public RegistryServerOptions Options { get; }

    public RegistryStore Store { get; }

    /// <summary>Users, organisations, grants and tokens, in the same store as the metadata.</summary>
    public RegistryAccounts Accounts { get; }

    public RequestAuthorizer Auth { get; }

    public BlobUrlSigner Signer { get; }

    public LfsUploadSessions Sessions { get; }

    /// <summary>Xet storage: xorbs, file reconstructions and reading files back out of them.</summary>
    public XetStorage Xet { get; }

    /// <summary>Issues and checks the CAS tokens of the Xet API.</summary>
    public XetCasTokens XetTokens { get; }

    /// <summary>Admits a few requests at a time to the routes anyone may call with content to parse (validate-yaml).</summary>
    public SemaphoreSlim ContentParsing { get; } = new(Math.Max(2, Environment.ProcessorCount));

    public void Dispose()
    {
        ContentParsing.Dispose();
        Accounts.Dispose();
        Mirror?.Dispose();
        Store.Dispose();
    }

    /// <summary>
    /// Read access as on the Hub: public repositories are readable without a token, private ones need a
    /// valid token, and without one a missing repository is indistinguishable from a private one (401 with
    /// <c>X-Error-Code: RepoNotFound</c>, which Python turns into <c>RepositoryNotFoundError</c> even over
    /// plain http). A token that is sent must be valid either way, and a private repository its holder has no
    /// access to (see <see cref="RepoAccess"/>) is a 404, as if it did not exist.
    /// </summary>
    public RepoMetadata RequireRead(HttpContext context, RepoKey key)
    {
        var caller = Auth.Identify(context);
        var repo = Store.FindRepo(key);
        if (Auth.IsOpen) return repo ?? throw RegistryException.RepoNotFound(key.ToString());
        if (caller is null && (repo is null || repo.Private)) throw Anonymous(key);
        if (repo is null || AccessTo(caller, key, repo) is null) throw RegistryException.RepoNotFound(key.ToString());
        return repo;
    }

    /// <summary>
    /// Write access to a repository's routes, checked before any body is read: anonymous callers get the
    /// Hub's 401 RepoNotFound, read tokens 403; the repository itself must exist (and be visible to the
    /// caller), and an account needs write access to it (403 otherwise).
    /// </summary>
    public Caller? RequireWrite(HttpContext context, RepoKey key)
    {
        var caller = Auth.Identify(context);
        if (Auth.IsOpen || caller is { AllRepositories: true })
        {
            var token = Auth.Require(context, AccessLevel.Write);
            Store.GetRepo(key);
            return token;
        }
        if (caller is null) throw Anonymous(key);
        var repo = Store.GetRepo(key);
        var access = AccessTo(caller, key, repo) ?? throw RegistryException.RepoNotFound(key.ToString());
        if (caller.Level < AccessLevel.Write)
        {
            throw new RegistryException(403, null, $"You don't have the rights to do this with a {caller.Level.ToString().ToLowerInvariant()} token; a write token is needed.");
        }
        if (access < AccessLevel.Write)
        {
            throw new RegistryException(403, null, $"{caller.Account} may read {key} but not write to it; ask its owner for write access ('adapters-hub registry grant').");
        }
        return caller;
    }

    /// <summary>Whether <paramref name="caller"/> may see <paramref name="repo"/> in listings.</summary>
    public bool MaySee(Caller? caller, RepoKey key, RepoMetadata repo) => Auth.IsOpen || AccessTo(caller, key, repo) is not null;

    /// <summary>The account name the registry shows for a caller (whoami, commit authors, discussion authors).</summary>
    public string AccountOf(Caller? caller) => Auth.IsOpen || caller is null ? "anonymous" : caller.Account;

    private AccessLevel? AccessTo(Caller? caller, RepoKey key, RepoMetadata repo) => RepoAccess.Of(caller, key, repo.Private, () => Accounts.GrantsOf(key));

    private static RegistryException Anonymous(RepoKey key) =>
        new(401, "RepoNotFound", $"Repository {key} is private or does not exist; send 'Authorization: Bearer <token>' with a token of this registry.");
}
