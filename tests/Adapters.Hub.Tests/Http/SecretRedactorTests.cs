using Adapters.Hub.Http;

namespace Adapters.Hub.Tests.Http;

public sealed class SecretRedactorTests
{
    [Theory]
    [InlineData("Authorization: Bearer hf_short_one", "Authorization: Bearer ***")]
    [InlineData("header Basic dXNlcjpwYXNz, next", "header Basic ***, next")]
    [InlineData("used hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 here", "used hf_*** here")]
    [InlineData("GET https://cdn/x?token=abc123&y=1", "GET https://cdn/x?token=***&y=1")]
    [InlineData("https://s3/b?X-Amz-Signature=deadbeef&X-Amz-Security-Token=zzz#f", "https://s3/b?X-Amz-Signature=***&X-Amz-Security-Token=***#f")]
    [InlineData("/blobs/abc?expires=123&signature=0a1b2c", "/blobs/abc?expires=123&signature=***")]
    [InlineData("url?access_token=secret", "url?access_token=***")]
    public void Masks_credential_shapes(string text, string expected) => Assert.Equal(expected, SecretRedactor.Redact(text));

    [Theory]
    [InlineData("HF_HUB_CACHE and hf_hub_download are not tokens")]
    [InlineData("token saved to /home/ada/.cache/huggingface/token")]
    [InlineData("pass a bearer token with --token")]
    public void Leaves_ordinary_text_alone(string text) => Assert.Equal(text, SecretRedactor.Redact(text));

    [Fact]
    public void Masks_known_secrets_of_any_shape_longest_first()
    {
        Assert.Equal("a *** b *** c", SecretRedactor.Redact("a my-secret b my-secret-longer c", ["my-secret", "my-secret-longer"]));
        Assert.Equal("x *** y", SecretRedactor.Redact("x secret-value-plus y", ["secret-value", "secret-value-plus"]));
        Assert.Equal("short ab stays", SecretRedactor.Redact("short ab stays", ["ab"]));
    }

    [Fact]
    public void Masks_uris() =>
        Assert.Equal("https://hub.example/api/x?token=***", SecretRedactor.Redact(new Uri("https://hub.example/api/x?token=t0ken")));
}
