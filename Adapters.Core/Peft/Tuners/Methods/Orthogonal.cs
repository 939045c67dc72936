using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Peft.Tuners.Methods;

/// <summary>The orthogonal transforms OFT and BOFT build from their parameters.</summary>
internal static class Orthogonal
{
    /// <summary>
    /// PEFT's batched Cayley map <c>Q = (I − S)(I + S)⁻¹</c> with <c>S = ½(R − Rᵀ)</c>, for R of shape (n, b, b).
    /// PEFT solves <c>X(I + S) = I − S</c>; transposing gives <c>(I − S)Xᵀ = I + S</c> because S is skew.
    /// </summary>
    public static Tensor Cayley(Tensor r)
    {
        var skew = 0.5 * (r - r.transpose(1, 2));
        var eye = torch.eye(r.shape[1], dtype: r.dtype, device: r.device).unsqueeze(0).expand(r.shape[0], -1, -1);
        return linalg.solve(eye - skew, eye + skew).transpose(1, 2);
    }

    /// <summary>The block-diagonal matrix of the (n, b, b) blocks.</summary>
    public static Tensor BlockDiagonal(Tensor blocks) => torch.block_diag(blocks.unbind(0));

    /// <summary><c>(R·Wᵀ)ᵀ ⊙ s</c>: the weight (out, in) rotated on its input side and scaled per output.</summary>
    public static Tensor Rotate(Tensor outInWeight, Tensor rotation, Tensor scale) =>
        rotation.matmul(outInWeight.t()).t() * scale;

    /// <summary>
    /// PEFT's <c>MultiplicativeDropoutLayer</c> (OFT's module_dropout, BOFT's boft_dropout) on (n, b, b) blocks in
    /// training: <c>⌊p·n⌋</c> blocks chosen at random become the identity; a single (shared) block is left alone.
    /// </summary>
    public static Tensor MultiplicativeDropout(Tensor blocks, double p)
    {
        var count = blocks.shape[0];
        if (count == 1) return blocks;
        var replaced = (long)(p * count);
        var mask = cat([ones(replaced, blocks.dtype, blocks.device), zeros(count - replaced, blocks.dtype, blocks.device)])
            .index_select(0, randperm(count, device: blocks.device)).view(count, 1, 1);
        var eye = torch.eye(blocks.shape[1], dtype: blocks.dtype, device: blocks.device).unsqueeze(0);
        return (1 - mask) * blocks + mask * eye;
    }
}
