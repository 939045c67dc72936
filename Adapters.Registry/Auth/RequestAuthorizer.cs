using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Auth;

/// <summary>
/// Checks <c>Authorization: Bearer</c> against the configured tokens the way the Hub answers: an unknown
/// token is 401 "Invalid credentials in Authorization header", a missing one 401, a read token that tries
/// to write 403. With no tokens configured the registry is open and everyone may write.
/// </summary>
internal sealed class RequestAuthorizer(IReadOnlyList<AccessToken> tokens)
{
    public bool IsOpen => tokens.Count == 0;

    /// <summary>The caller's token, null when none was sent; an unknown token is refused outright.</summary>
    public AccessToken? Identify(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0) return null;
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException(401, null, "Invalid credentials in Authorization header");
        }
        var presented = header["Bearer ".Length..].Trim();
        if (IsOpen) return new AccessToken(presented, AccessLevel.Write, "anonymous");
        var presentedBytes = Encoding.UTF8.GetBytes(presented);
        foreach (var token in tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(presentedBytes, Encoding.UTF8.GetBytes(token.Value))) return token;
        }
        throw new RegistryException(401, null, "Invalid credentials in Authorization header");
    }

    /// <summary>Throws unless the caller may act at <paramref name="level"/>.</summary>
    public AccessToken? Require(HttpContext context, AccessLevel level)
    {
        var token = Identify(context);
        if (IsOpen) return token;
        if (token is null)
        {
            throw new RegistryException(401, null, "Authentication is required: send 'Authorization: Bearer <token>' with a token given to 'adapters-hub serve --token'.");
        }
        if (token.Level < level)
        {
            throw new RegistryException(403, null, $"You don't have the rights to do this with a {token.Level.ToString().ToLowerInvariant()} token; a write token is needed.");
        }
        return token;
    }
}
