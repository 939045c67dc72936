using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.ReFT;

/// <summary>
/// An orthonormal-rows weight R (r × H) stored the way <c>torch.nn.utils.parametrizations.orthogonal</c> stores it for a
/// non-square weight (Householder map, <c>use_trivialization=True</c>): the trainable <c>original</c> (r × H) and the
/// buffer <c>0.base</c> (H × H), under <c>parametrizations.weight</c>. With <c>X = originalᵀ</c>, <c>A = tril(X, −1)</c>
/// and <c>τ = 2 / (1 + Σ A²)</c>, the weight is <c>(base · householder_product(A, τ) · diag(int(diag X)))ᵀ</c>, so
/// weights trained in Python give the same R here. At creation <c>base</c> is the sign-normalised QR factor of
/// <c>[Wᵀ | N]</c> (W the default Linear init, N ~ N(0, 1)) and <c>original</c> is −I, which makes R the orthonormalised W.
/// </summary>
public sealed class OrthogonalWeight : nn.Module
{
    private readonly ParametrizationList _parametrization;
    private readonly bool _transposed;

    /// <summary>Creates R for a Linear(<paramref name="inFeatures"/>, <paramref name="outFeatures"/>) initialised as PyTorch does.</summary>
    /// <exception cref="AdapterConfigException">The weight is square, for which torch uses the matrix exponential map instead.</exception>
    public OrthogonalWeight(long inFeatures, long outFeatures, Device? device, ScalarType? dtype) : base(nameof(OrthogonalWeight))
    {
        if (inFeatures == outFeatures)
            throw new AdapterConfigException($"An orthogonal ReFT projection needs r different from the hidden size ({inFeatures}); torch uses another map for square weights.");
        _transposed = outFeatures < inFeatures;
        var n = Math.Max(inFeatures, outFeatures);
        var k = Math.Min(inFeatures, outFeatures);
        using (no_grad())
        {
            using var linear = nn.Linear(inFeatures, outFeatures, false, device, dtype);
            var tall = _transposed ? linear.weight.detach().t() : linear.weight.detach();
            var completed = cat([tall, randn([n, n - k], tall.dtype, tall.device)], 1);
            // torch's _make_orthogonal: Householder QR, with Q's columns signed by diag(R).
            var (reflectors, tau) = geqrf(completed);
            var baseMatrix = (linalg.householder_product(reflectors, tau) * reflectors.diagonal().sign().unsqueeze(0)).contiguous();
            var negativeIdentity = zeros([outFeatures, inFeatures], tall.dtype, tall.device);
            negativeIdentity.diagonal().fill_(-1.0);
            _parametrization = new ParametrizationList(new Parameter(negativeIdentity), new BaseHolder(baseMatrix));
        }
        register_module("parametrizations", AdapterModuleDict.Of(("weight", _parametrization)));
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>The trainable tensor (<c>parametrizations.weight.original</c>).</summary>
    public Parameter Original => _parametrization.Original;

    /// <summary>The current orthonormal weight R (out × in), differentiable with respect to <see cref="Original"/>.</summary>
    public Tensor Weight()
    {
        var original = _parametrization.Original;
        var x = _transposed ? original.t() : original;
        var a = x.tril(-1);
        var tau = (a * a).sum(new long[] { 0 }).add(1.0).reciprocal().mul(2.0);
        // householder_product(A, τ) written out with plain tensor ops: H_0 · … · H_{k-1}
        // applied to the first k columns of the identity, H_i = I − τ_i v_i v_iᵀ, v_i = column i of A plus e_i.
        var columns = x.shape[1];
        var identity = eye(x.shape[0], columns, x.dtype, x.device);
        var q = identity;
        for (var i = columns - 1; i >= 0; i--)
        {
            var v = (a.select(1, i) + identity.select(1, i)).unsqueeze(1);
            q = q - tau[i] * matmul(v, matmul(v.t(), q));
        }
        // torch keeps the ±1 diagonal of X out of the gradient by casting it to int.
        q = q * x.diagonal().to(ScalarType.Int32).to(x.dtype).unsqueeze(0);
        q = matmul(_parametrization.Holder.Base, q);
        return _transposed ? q.t() : q;
    }

    // Parameters and buffers are looked up by name on use: moving a module to another device or dtype replaces them.
    private sealed class ParametrizationList : nn.Module
    {
        public ParametrizationList(Parameter original, BaseHolder holder) : base(nameof(ParametrizationList))
        {
            Holder = holder;
            register_parameter("original", original);
            register_module("0", holder);
        }

        public BaseHolder Holder { get; }

        public Parameter Original => get_parameter("original")!;

        protected override void RegisterComponents() { }
    }

    private sealed class BaseHolder : nn.Module
    {
        public BaseHolder(Tensor baseMatrix) : base(nameof(BaseHolder)) => register_buffer("base", baseMatrix);

        public Tensor Base => get_buffer("base")!;

        protected override void RegisterComponents() { }
    }
}
