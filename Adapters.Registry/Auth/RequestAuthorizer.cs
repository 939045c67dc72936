using System.Security.Cryptography;
using System.Text;
using Adapters.Registry.Accounts;
using Microsoft.AspNetCore.Http;

namespace Adapters.Registry.Auth;

/// <summary>
/// Checks <c>Authorization: Bearer</c> the way the Hub answers: an unknown token is 401 "Invalid credentials in
/// Authorization header", a missing one 401, a read token that tries to write 403. A token is either one given to
/// <c>serve --token</c> (allowed on every repository) or an account token from <see cref="RegistryAccounts"/>
/// (allowed where its user is). With neither configured tokens nor accounts the registry is open and everyone may write.
/// </summary>
internal sealed class RequestAuthorizer(IReadOnlyList<AccessToken> tokens, RegistryAccounts accounts)
{
    /// <summary>How long "no account exists" is believed before the store is asked again (accounts are never removed, so "some exist" is final).</summary>
    private static readonly TimeSpan OpenRecheck = TimeSpan.FromSeconds(1);

    private volatile bool _hasAccounts;
    private long _openCheckedAt = -1;

    /// <summary>Whether the registry is open: no <c>--token</c> and no account, in this process or any replica.</summary>
    public bool IsOpen
    {
        get
        {
            if (tokens.Count > 0 || _hasAccounts) return false;
            var now = Environment.TickCount64;
            var checkedAt = Interlocked.Read(ref _openCheckedAt);
            if (checkedAt >= 0 && now - checkedAt < (long)OpenRecheck.TotalMilliseconds) return true;
            _hasAccounts = accounts.Any();
            Interlocked.Exchange(ref _openCheckedAt, now);
            return !_hasAccounts;
        }
    }

    /// <summary>The caller, null when no token was sent; an unknown or revoked token is refused outright.</summary>
    public Caller? Identify(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0) return null;
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw new RegistryException(401, null, "Invalid credentials in Authorization header");
        }
        var presented = header["Bearer ".Length..].Trim();
        var presentedBytes = Encoding.UTF8.GetBytes(presented);
        foreach (var token in tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(presentedBytes, Encoding.UTF8.GetBytes(token.Value))) return Caller.Configured(token);
        }
        if (accounts.FindCaller(presented) is { } account) return account;
        if (IsOpen) return Caller.Configured(new AccessToken(presented, AccessLevel.Write, "anonymous")) with { Account = "anonymous" };
        throw new RegistryException(401, null, "Invalid credentials in Authorization header");
    }

    /// <summary>Throws unless the caller's token may act at <paramref name="level"/> (somewhere; repositories check the rest).</summary>
    public Caller? Require(HttpContext context, AccessLevel level)
    {
        var caller = Identify(context);
        if (IsOpen) return caller;
        if (caller is null)
        {
            throw new RegistryException(401, null, "Authentication is required: send 'Authorization: Bearer <token>' with a token of this registry ('serve --token' or 'adapters-hub registry create-token').");
        }
        if (caller.Level < level)
        {
            throw new RegistryException(403, null, $"You don't have the rights to do this with a {caller.Level.ToString().ToLowerInvariant()} token; a write token is needed.");
        }
        return caller;
    }
}
