using Adapters.Hub.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Adapters.Hub;

/// <summary>Registers <see cref="HubClient"/> with <c>IHttpClientFactory</c> and the Hub's resilience pipeline.</summary>
public static class HubServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="HubClient"/> whose options start from the environment (as Python) and
    /// are then adjusted by <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddHuggingFaceHub(this IServiceCollection services, Action<HubClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = HubClientOptions.FromEnvironment();
        configure?.Invoke(options);
        options.Validated();
        services.AddSingleton(options);
        services.AddHttpClient(HubClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => options.HttpMessageHandler ?? HubResilience.CreatePrimaryHandler())
            .AddResilienceHandler("hub", builder => HubResilience.Configure(builder, options.Retry, options.LoggerFactory?.CreateLogger(HubConnection.LogCategory)));
        services.AddSingleton(provider => new HubClient(
            provider.GetRequiredService<IHttpClientFactory>().CreateClient(HubClient.HttpClientName), options));
        return services;
    }
}
