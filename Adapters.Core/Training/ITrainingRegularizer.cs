using static TorchSharp.torch;

namespace Adapters.Core.Training;

/// <summary>
/// A model (or component) that adds a regularisation term once per optimizer step, as Python's
/// <c>AdapterTrainer</c> adds <c>get_fusion_regularization_loss()</c> (0.01·Σ‖I − V‖²) when an AdapterFusion value
/// matrix trains. <see cref="Models.AdapterModel"/> implements it with its fusion regularisation; <see cref="AdapterTrainer{TBatch}"/> calls it when
/// the model implements this interface, in addition to <see cref="AdapterTrainerOptions.RegularizationLoss"/>.
/// </summary>
public interface ITrainingRegularizer
{
    /// <summary>The term to back-propagate at the end of the step, or null when nothing is regularised.</summary>
    Tensor? RegularizationLoss();
}
