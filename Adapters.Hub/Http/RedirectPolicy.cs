namespace Adapters.Hub.Http;

/// <summary>Which redirects <see cref="HubConnection.SendAsync(HttpMethod, Uri, RedirectPolicy, Action{HttpRequestMessage}?, HttpCompletionOption, CancellationToken)"/> follows.</summary>
public enum RedirectPolicy
{
    /// <summary>Return the first response, 3xx included.</summary>
    None,
    /// <summary>
    /// Follow redirects whose <c>Location</c> is relative (a renamed repository); stop at an absolute one
    /// (a CDN) and return that 3xx, as Python does for the metadata <c>HEAD</c>.
    /// </summary>
    RelativeOnly,
    /// <summary>Follow every redirect; <c>Authorization</c> is dropped as soon as the origin is not the Hub's.</summary>
    All,
}
