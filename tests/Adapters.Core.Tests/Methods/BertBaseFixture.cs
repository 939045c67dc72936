using Adapters.Core.Models;
using Adapters.Core.Models.Bert;

namespace Adapters.Core.Tests.Methods;

/// <summary>One bert-base-uncased-sized BertModel (109,482,240 parameters) shared by the count tests.</summary>
public sealed class BertBaseFixture : IDisposable
{
    public BertBaseFixture()
    {
        Core.TorchRuntime.Initialize();
        Model = new BertModel(new EncoderConfig());
    }

    internal BertModel Model { get; }

    public void Dispose() => Model.Dispose();
}
