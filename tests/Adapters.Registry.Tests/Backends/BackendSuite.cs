namespace Adapters.Registry.Tests.Backends;

/// <summary>A client suite written once and run against each <see cref="RegistryBackend"/> by its derived classes (listed in SuitesOnBackends.cs).</summary>
public abstract class BackendSuite(RegistryBackend backend)
{
    protected RegistryBackend Backend { get; } = backend;

    /// <summary>A registry on this suite's backend (see <see cref="ServeTestHost.StartAsync"/>).</summary>
    private protected async Task<ServeTestHost> StartHostAsync(
        IReadOnlyList<string>? tokens = null, long lfsChunkSize = 64L * 1024 * 1024, int pageSize = 1000, Func<RegistryServerOptions, RegistryServerOptions>? customize = null)
    {
        var backend = await Backend.PrepareAsync();
        return await ServeTestHost.StartAsync(tokens, lfsChunkSize, pageSize, customize is null ? backend : o => customize(backend(o)), Backend.Replicas);
    }
}
