using Adapters.Registry.Auth;
using Adapters.Registry.Storage;

namespace Adapters.Registry.Xet;

/// <summary>
/// What a CAS access token grants: <see cref="Level"/> access to the Xet files of one repository until <see cref="Expires"/>.
/// </summary>
internal sealed record XetCasGrant(RepoKey Repo, AccessLevel Level, DateTimeOffset Expires);
