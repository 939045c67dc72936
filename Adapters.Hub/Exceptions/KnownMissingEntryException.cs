using System.Net;

namespace Adapters.Hub;

/// <summary>
/// The cache records that the file does not exist at the commit (a <c>.no_exist/&lt;commit&gt;/&lt;path&gt;</c>
/// marker, written when the Hub answered <c>EntryNotFound</c>), and the Hub was not asked again because
/// the client is offline or the Hub could not be reached. Unlike <see cref="LocalEntryNotFoundException"/>
/// ("never asked"), this is a known answer.
/// </summary>
public sealed class KnownMissingEntryException : EntryNotFoundException
{
    /// <summary>Creates the exception naming the commit and the marker file.</summary>
    public KnownMissingEntryException(string message, string commitHash, string markerPath)
        : base(message, HttpStatusCode.NotFound, null, null, null, "EntryNotFound")
    {
        CommitHash = commitHash;
        MarkerPath = markerPath;
    }

    /// <summary>The commit the file is known to be missing from.</summary>
    public string CommitHash { get; }

    /// <summary>The <c>.no_exist</c> marker that records it.</summary>
    public string MarkerPath { get; }
}
