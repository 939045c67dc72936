using Adapters.Registry.Auth;

namespace Adapters.Registry;

/// <summary>Settings of a <see cref="RegistryServer"/>.</summary>
public sealed record RegistryServerOptions
{
    /// <summary>The folder that holds the registry's blobs and, unless <see cref="PostgresConnectionString"/> is set, its metadata in <c>registry.db</c> (SQLite); created when missing.</summary>
    public required string RootDirectory { get; init; }

    /// <summary>
    /// When set, the metadata (repositories, refs, commits, discussions) lives in this PostgreSQL database
    /// (an Npgsql connection string, e.g. <c>Host=db;Database=registry;Username=registry;Password=...</c>) instead of
    /// SQLite under <see cref="RootDirectory"/>. The schema is created or migrated on start. Several registries
    /// (replicas) may then serve one database and one <see cref="RootDirectory"/> (a shared file system) at once.
    /// </summary>
    public string? PostgresConnectionString { get; init; }

    /// <summary>
    /// When set, blobs are written through to this S3-compatible bucket under their content addresses and
    /// <see cref="RootDirectory"/> only caches them, so replicas on one PostgreSQL database need no shared folder.
    /// </summary>
    public S3BlobStorageOptions? S3Blobs { get; init; }

    /// <summary>The address to listen on; loopback by default.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (see <see cref="RegistryServer.Endpoint"/>).</summary>
    public int Port { get; init; }

    /// <summary>
    /// Bearer tokens that may act on every repository, besides the account tokens of <see cref="Accounts.RegistryAccounts"/>;
    /// with none and no account the registry is open and everyone may read and write.
    /// </summary>
    public IReadOnlyList<AccessToken> Tokens { get; init; } = [];

    /// <summary>LFS objects larger than this are uploaded in parts of this size (the multipart transfer).</summary>
    public long LfsChunkSize { get; init; } = 64L * 1024 * 1024;

    /// <summary>Files at least this large go through LFS whatever their name (the Hub's 10 MB rule).</summary>
    public long LfsThreshold { get; init; } = 10L * 1024 * 1024;

    /// <summary>Entries per page of tree and model listings before a <c>Link: rel="next"</c>.</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>How long presigned download and upload URLs stay valid.</summary>
    public TimeSpan UrlLifetime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The cap on JSON request bodies (LFS batch, preupload, paths-info, discussions, branches, tags), enforced while they stream in.</summary>
    public long MaxJsonBodyBytes { get; init; } = 1024 * 1024;

    /// <summary>The cap on the JSON bodies that carry file content: <c>validate-yaml</c> (a README) and <c>repos/create</c> with files.</summary>
    public long MaxContentJsonBodyBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>The cap on a whole NDJSON commit body (Python allows 1 GB of regular files per commit, base64-encoded here).</summary>
    public long MaxCommitBodyBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// The cap on one NDJSON commit line: enough for a base64-encoded regular file just under
    /// <see cref="LfsThreshold"/> (larger files go through LFS), so memory per commit stays bounded by one line.
    /// </summary>
    public long MaxCommitLineBytes => LfsThreshold / 3 * 4 + 64 * 1024;

    /// <summary>How long a client may take to send its request headers (slow-loris clients are cut off after this).</summary>
    public TimeSpan RequestHeadersTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long an idle keep-alive connection stays open.</summary>
    public TimeSpan KeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The slowest request body accepted (bytes per second), after a grace period of <see cref="MinBodyRateGracePeriod"/>.</summary>
    public double MinRequestBodyBytesPerSecond { get; init; } = 1024;

    /// <summary>How long a body may stay under <see cref="MinRequestBodyBytesPerSecond"/> before the connection is closed.</summary>
    public TimeSpan MinBodyRateGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections served at once; more wait in the socket backlog. Bounds what slow or idle clients can hold.</summary>
    public long MaxConcurrentConnections { get; init; } = 1024;

    /// <summary>Mirror mode: repositories not held here are read from an upstream Hub on first request and kept (see <see cref="UpstreamMirrorOptions"/>).</summary>
    public UpstreamMirrorOptions? Mirror { get; init; }

    /// <summary>When set, every request is logged at Information (method, path, status, milliseconds; never a token or query).</summary>
    public Microsoft.Extensions.Logging.ILogger? RequestLog { get; init; }
}
