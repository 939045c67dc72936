namespace Adapters.Registry;

/// <summary>
/// Where a registry keeps its blobs when they live in S3-compatible object storage (see
/// <see cref="RegistryServerOptions.S3Blobs"/>): every blob is written through to the bucket under its content
/// address, and <see cref="RegistryServerOptions.RootDirectory"/> becomes a local cache of it.
/// </summary>
public sealed record S3BlobStorageOptions
{
    /// <summary>The S3 endpoint, e.g. <c>https://s3.eu-central-1.amazonaws.com</c> or a MinIO / s3rver address.</summary>
    public required Uri ServiceUrl { get; init; }

    /// <summary>The bucket (it must exist).</summary>
    public required string Bucket { get; init; }

    /// <summary>Prepended to every key (e.g. <c>registry/</c>), so one bucket can hold several registries.</summary>
    public string KeyPrefix { get; init; } = "";

    /// <summary>The access key id; null for anonymous access.</summary>
    public string? AccessKey { get; init; }

    /// <summary>The secret access key.</summary>
    public string? SecretKey { get; init; }

    /// <summary>The signing region.</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>Bucket in the path (<c>host/bucket/key</c>) rather than the host name; what most S3-compatible servers need.</summary>
    public bool ForcePathStyle { get; init; } = true;

    /// <summary>Objects larger than this are uploaded in parts of this size (S3 needs at least 5 MiB per part but the last).</summary>
    public long PartSize { get; init; } = 64L * 1024 * 1024;
}
