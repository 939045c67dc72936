namespace Adapters.Hub;

/// <summary>A request was refused before it was sent because offline mode is on.</summary>
internal sealed class OfflineModeException(string message) : HubException(message);
