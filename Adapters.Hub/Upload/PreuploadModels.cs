using System.Text.Json.Serialization;

namespace Adapters.Hub.Upload;

internal sealed record PreuploadRequest([property: JsonPropertyName("files")] IReadOnlyList<PreuploadFile> Files);

internal sealed record PreuploadFile(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("sample")] string Sample,
    [property: JsonPropertyName("size")] long Size);

internal sealed record PreuploadResponse(
    [property: JsonPropertyName("files")] IReadOnlyList<PreuploadAnswer>? Files,
    [property: JsonPropertyName("commitOid")] string? CommitOid);

internal sealed record PreuploadAnswer(
    [property: JsonPropertyName("path")] string Path,
    [property: JsonPropertyName("uploadMode")] string UploadMode,
    [property: JsonPropertyName("shouldIgnore")] bool ShouldIgnore,
    [property: JsonPropertyName("oid")] string? Oid);
