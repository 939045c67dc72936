using System.Text.Json;
using System.Text.Json.Serialization;

namespace Adapters.Hub.Upload;

internal sealed record LfsBatchRequest(
    [property: JsonPropertyName("operation")] string Operation,
    [property: JsonPropertyName("transfers")] IReadOnlyList<string> Transfers,
    [property: JsonPropertyName("objects")] IReadOnlyList<LfsObjectId> Objects,
    [property: JsonPropertyName("hash_algo")] string HashAlgo,
    [property: JsonPropertyName("ref"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] LfsRef? Ref);

internal sealed record LfsObjectId(
    [property: JsonPropertyName("oid")] string Oid,
    [property: JsonPropertyName("size")] long Size);

internal sealed record LfsRef([property: JsonPropertyName("name")] string Name);

internal sealed record LfsBatchResponse(
    [property: JsonPropertyName("transfer")] string? Transfer,
    [property: JsonPropertyName("objects")] IReadOnlyList<LfsBatchObject>? Objects);

internal sealed record LfsBatchObject(
    [property: JsonPropertyName("oid")] string Oid,
    [property: JsonPropertyName("size")] long Size,
    [property: JsonPropertyName("actions")] LfsActions? Actions,
    [property: JsonPropertyName("error")] LfsObjectError? Error);

internal sealed record LfsActions(
    [property: JsonPropertyName("upload")] LfsAction? Upload,
    [property: JsonPropertyName("verify")] LfsAction? Verify);

/// <summary>An LFS action; <c>header</c> values are strings except that some servers send numbers.</summary>
internal sealed record LfsAction(
    [property: JsonPropertyName("href")] string Href,
    [property: JsonPropertyName("header")] Dictionary<string, JsonElement>? Header);

internal sealed record LfsObjectError(
    [property: JsonPropertyName("code")] int Code,
    [property: JsonPropertyName("message")] string? Message);

internal sealed record LfsCompletion(
    [property: JsonPropertyName("oid")] string Oid,
    [property: JsonPropertyName("parts")] IReadOnlyList<LfsCompletedPart> Parts);

internal sealed record LfsCompletedPart(
    [property: JsonPropertyName("partNumber")] int PartNumber,
    [property: JsonPropertyName("etag")] string Etag);
