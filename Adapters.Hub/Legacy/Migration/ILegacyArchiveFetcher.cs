namespace Adapters.Hub.Legacy.Migration;

/// <summary>Downloads a legacy zip.</summary>
public interface ILegacyArchiveFetcher
{
    /// <summary>Writes the body at <paramref name="url"/> to <paramref name="destination"/>; throws on any failure.</summary>
    Task FetchAsync(string url, Stream destination, CancellationToken cancellationToken = default);
}
