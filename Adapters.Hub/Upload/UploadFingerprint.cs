namespace Adapters.Hub.Upload;

/// <summary>What the Hub needs to know about a file before it is uploaded.</summary>
/// <param name="Size">Length in bytes.</param>
/// <param name="Sha256">Lower-case hex SHA-256: the LFS object id.</param>
/// <param name="GitSha1">Lower-case hex git blob SHA-1 (the id of a regular file), or null for files too large to be regular.</param>
/// <param name="Sample">The first bytes (at most 512) that preupload sends.</param>
public sealed record UploadFingerprint(long Size, string Sha256, string? GitSha1, byte[] Sample);
