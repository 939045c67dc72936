using Adapters.Core.Configuration;
using Adapters.Core.Quantization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners;

/// <summary>
/// The tuner of one PEFT method on one wrapped layer (PEFT's <c>LoraLayer</c>, <c>LoHaLayer</c>, …), holding every
/// adapter of that method on the layer in <see cref="PeftParameterSlot"/>s. It changes the layer's output through a
/// forward hook: unmerged active adapters are applied in order; merged ones are already in the weight.
/// </summary>
public abstract class PeftTunerLayer : IDisposable
{
    private readonly List<PeftParameterSlot> _slots = [];
    private readonly List<string> _merged = [];
    private readonly nn.HookableModule<Func<nn.Module<Tensor, Tensor>, Tensor, Tensor>, Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, Tensor>>.HookRemover _hook;

    /// <summary>Attaches to <paramref name="baseLayer"/>.</summary>
    protected PeftTunerLayer(PeftBaseLayer baseLayer, PeftAdapterState state)
    {
        Base = baseLayer ?? throw new ArgumentNullException(nameof(baseLayer));
        State = state ?? throw new ArgumentNullException(nameof(state));
        _hook = baseLayer.Module.register_forward_hook((_, input, output) => OnForward(input, output)!);
    }

    /// <summary>The <c>peft_type</c> of the method this layer belongs to.</summary>
    public abstract string PeftType { get; }

    /// <summary>The wrapped layer.</summary>
    public PeftBaseLayer Base { get; }

    /// <summary>The shared active-adapter state.</summary>
    protected PeftAdapterState State { get; }

    /// <summary>The adapters this layer holds, in the order they were added.</summary>
    public IReadOnlyList<string> AdapterNames => _adapters;

    private readonly List<string> _adapters = [];

    /// <summary>The adapters merged into the base weight, in merge order.</summary>
    public IReadOnlyList<string> Merged => _merged;

    /// <summary>The slots (tensor families) of this method.</summary>
    public IReadOnlyList<PeftParameterSlot> Slots => _slots;

    /// <summary>Creates (or finds) the slot <paramref name="name"/> on the wrapped module.</summary>
    protected PeftParameterSlot Slot(string name, string? member = null, bool persistent = true, bool trainable = true, string? fileKey = null)
    {
        var slot = _slots.FirstOrDefault(s => s.Name == name);
        if (slot is not null) return slot;
        slot = new PeftParameterSlot(name, member, persistent, trainable, fileKey);
        Base.Module.register_module(name, slot);
        _slots.Add(slot);
        return slot;
    }

    /// <summary>Creates the tensors of adapter <paramref name="adapter"/> with PEFT's init for <paramref name="config"/>.</summary>
    /// <exception cref="AdapterConfigException">PEFT refuses this config on this layer.</exception>
    public void AddAdapter(string adapter, PeftConfig config, string path)
    {
        if (_adapters.Contains(adapter)) throw new ArgumentException($"'{Base.Path}' already holds an adapter named \"{adapter}\".", nameof(adapter));
        var (device, dtype) = (Base.Weight.device, Base.ComputeDtype);
        using (no_grad()) Create(adapter, config, path, device, dtype == ScalarType.Float64 ? dtype : ScalarType.Float32);
        _adapters.Add(adapter);
    }

    /// <summary>Creates the tensors of a new adapter (PEFT's <c>update_layer</c>).</summary>
    protected abstract void Create(string adapter, PeftConfig config, string path, Device device, ScalarType dtype);

    /// <summary>The adapter's tensors keyed as in PEFT files, relative to the layer path (<c>lora_A.weight</c>).</summary>
    public virtual IEnumerable<(string Key, Parameter Tensor)> SavedTensors(string adapter) =>
        _slots.Where(s => s.Persistent && s.Has(adapter)).Select(s => (s.FileKey, s[adapter]));

    /// <summary>The adapter's tensors that training updates.</summary>
    public IEnumerable<Parameter> TrainableParameters(string adapter) => _slots.Where(s => s.Trainable && s.Has(adapter)).Select(s => s[adapter]);

    /// <summary>Changes the layer output for the active adapters; null leaves it as it is.</summary>
    private Tensor? OnForward(Tensor input, Tensor output)
    {
        if (State.Disabled)
        {
            // PEFT unmerges before running the base layer when adapters are disabled.
            if (_merged.Count > 0) throw new InvalidOperationException($"'{Base.Path}': adapters are merged into the weight; unmerge before disabling adapters.");
            return null;
        }
        var active = State.Active.Where(a => _adapters.Contains(a) && !_merged.Contains(a)).ToArray();
        if (active.Length == 0) return null;
        return Forward(input, output, active);
    }

    /// <summary>The layer output with <paramref name="active"/> (unmerged, in order) applied to <paramref name="baseOutput"/>.</summary>
    protected abstract Tensor Forward(Tensor input, Tensor baseOutput, IReadOnlyList<string> active);

    /// <summary>Merges <paramref name="adapter"/> into the base weight (PEFT's <c>merge</c>).</summary>
    /// <exception cref="QuantizationException">The base weight is 4-bit.</exception>
    public void Merge(string adapter)
    {
        if (!_adapters.Contains(adapter) || _merged.Contains(adapter)) return;
        if (Base.IsFourBit)
            throw new QuantizationException(
                $"'{Base.Path}' holds a 4-bit weight: merging adapter \"{adapter}\" would requantize it and round most of the adapter away. Dequantize the layer (DequantizeWeight) first, merge, and quantize again if needed.");
        using (no_grad()) MergeInto(adapter);
        _merged.Add(adapter);
    }

    /// <summary>Undoes merges, last merged first (PEFT's <c>unmerge</c>).</summary>
    public void UnmergeAll()
    {
        using var _ = no_grad();
        for (var i = _merged.Count - 1; i >= 0; i--)
        {
            UnmergeFrom(_merged[i]);
            _merged.RemoveAt(i);
        }
    }

    /// <summary>Writes <paramref name="adapter"/> into the base weight.</summary>
    protected abstract void MergeInto(string adapter);

    /// <summary>Takes <paramref name="adapter"/> back out of the base weight.</summary>
    protected abstract void UnmergeFrom(string adapter);

    /// <summary>Adds <paramref name="outInDelta"/> (out, in) to the stored weight, transposed for Conv1D.</summary>
    protected void AddToWeight(Tensor outInDelta, double sign = 1)
    {
        var delta = Base.FanInFanOut ? outInDelta.t() : outInDelta;
        Base.Weight.add_(delta.to(Base.Weight.dtype), alpha: sign);
    }

    /// <summary>Replaces the stored weight with <paramref name="outInWeight"/> (out, in).</summary>
    protected void SetWeight(Tensor outInWeight) =>
        Base.Weight.copy_(Base.FanInFanOut ? outInWeight.t() : outInWeight);

    /// <summary>Removes the adapter's tensors.</summary>
    public void RemoveAdapter(string adapter)
    {
        if (_merged.Contains(adapter)) throw new InvalidOperationException($"'{Base.Path}': adapter \"{adapter}\" is merged; unmerge it first.");
        foreach (var slot in _slots) slot.Remove(adapter);
        _adapters.Remove(adapter);
    }

    /// <summary>Detaches the hook (the tensors stay registered until the model is disposed).</summary>
    public void Dispose()
    {
        _hook.remove();
        GC.SuppressFinalize(this);
    }

    /// <summary>Rows of <paramref name="table"/> for token ids <paramref name="ids"/> (<c>F.embedding</c>'s values).</summary>
    protected static Tensor Embed(Tensor ids, Tensor table) =>
        table.index_select(0, ids.reshape(-1)).reshape([.. ids.shape, table.shape[1]]);

    /// <summary>A PEFT-style refusal naming the layer.</summary>
    protected AdapterConfigException Refuse(string path, string reason) => new($"{path}: {reason}");

    /// <summary>PyTorch's <c>kaiming_uniform_(a=√5)</c> on a tensor of <paramref name="shape"/> (fan_in = size(1)·receptive field).</summary>
    protected static Tensor KaimingUniform(long[] shape, Device device, ScalarType dtype)
    {
        var t = empty(shape, dtype, device);
        nn.init.kaiming_uniform_(t, a: Math.Sqrt(5));
        return t;
    }
}
