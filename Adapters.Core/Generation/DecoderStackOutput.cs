using Adapters.Core.Methods;
using static TorchSharp.torch;

namespace Adapters.Core.Generation;

/// <summary>What a bare decoder stack returns from <see cref="IDecoderStack.Decode"/>.</summary>
/// <param name="HiddenStates">(batch, sequence, hidden) final-norm hidden states.</param>
/// <param name="AdapterOutputs">Fusion attentions and gating scores of the pass when the model asked for them, else null.</param>
public sealed record DecoderStackOutput(Tensor HiddenStates, AdapterForwardOutputs? AdapterOutputs);
