using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Adapters.Registry.Storage.ObjectStorage;

/// <summary>
/// Blobs in an S3-compatible bucket through AWSSDK.S3. Objects up to <see cref="S3BlobStorageOptions.PartSize"/>
/// are one <c>PutObject</c>; larger ones a multipart upload in parts of that size, aborted on any failure so no
/// half object is ever visible. Keys are content addresses, so an object that exists is never rewritten. Checksums
/// are the registry's own (sha256 / git sha1 before upload and after download), so only what S3 requires is sent.
/// </summary>
internal sealed class S3ObjectStorage : IObjectStorage
{
    private readonly AmazonS3Client _client;
    private readonly S3BlobStorageOptions _options;

    public S3ObjectStorage(S3BlobStorageOptions options)
    {
        _options = options;
        var config = new AmazonS3Config
        {
            ServiceURL = options.ServiceUrl.ToString(),
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        AWSCredentials credentials = options.AccessKey is { Length: > 0 } access
            ? new BasicAWSCredentials(access, options.SecretKey ?? "")
            : new AnonymousAWSCredentials();
        _client = new AmazonS3Client(credentials, config);
        Description = $"S3 {options.ServiceUrl.GetLeftPart(UriPartial.Authority)}/{options.Bucket}";
    }

    public string Description { get; }

    private string Key(string key) => _options.KeyPrefix + key;

    public async Task<long?> SizeAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await _client.GetObjectMetadataAsync(_options.Bucket, Key(key), cancellationToken).ConfigureAwait(false);
            return head.ContentLength;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task PutAsync(string key, string localPath, long size, CancellationToken cancellationToken)
    {
        if (await SizeAsync(key, cancellationToken).ConfigureAwait(false) == size) return;
        if (size <= _options.PartSize)
        {
            await _client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = _options.Bucket,
                Key = Key(key),
                FilePath = localPath,
                UseChunkEncoding = false,
            }, cancellationToken).ConfigureAwait(false);
            return;
        }
        var upload = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _options.Bucket, Key = Key(key) }, cancellationToken).ConfigureAwait(false);
        try
        {
            var parts = new List<PartETag>();
            var partCount = (int)((size + _options.PartSize - 1) / _options.PartSize);
            for (var number = 1; number <= partCount; number++)
            {
                var offset = (number - 1) * _options.PartSize;
                var part = await _client.UploadPartAsync(new UploadPartRequest
                {
                    BucketName = _options.Bucket,
                    Key = Key(key),
                    UploadId = upload.UploadId,
                    PartNumber = number,
                    FilePath = localPath,
                    FilePosition = offset,
                    PartSize = Math.Min(_options.PartSize, size - offset),
                    UseChunkEncoding = false,
                }, cancellationToken).ConfigureAwait(false);
                parts.Add(new PartETag(number, part.ETag));
            }
            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = _options.Bucket,
                Key = Key(key),
                UploadId = upload.UploadId,
                PartETags = parts,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _options.Bucket, Key = Key(key), UploadId = upload.UploadId }, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public async Task<bool> TryDownloadAsync(string key, string localPath, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _client.GetObjectAsync(_options.Bucket, Key(key), cancellationToken).ConfigureAwait(false);
            await using var target = new FileStream(localPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            await response.ResponseStream.CopyToAsync(target, 1 << 20, cancellationToken).ConfigureAwait(false);
            target.Flush(flushToDisk: true);
            return true;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        _client.DeleteObjectAsync(_options.Bucket, Key(key), cancellationToken);

    public void Dispose() => _client.Dispose();
}
