using TorchSharp;
using static TorchSharp.torch;

namespace Adapters.Core.Tests.Peft.Tuners;

/// <summary>
/// A user-built module tree, not one of the library's models: <c>blocks.{0,1}.{q,v,ff}</c> linears, an embedding and a
/// <c>classifier</c> head, each called through <c>call</c> as TorchSharp modules are.
/// </summary>
internal sealed class TinyTree : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _embed;
    private readonly List<(nn.Module<Tensor, Tensor> Q, nn.Module<Tensor, Tensor> V, nn.Module<Tensor, Tensor> Ff)> _blocks = [];
    private readonly nn.Module<Tensor, Tensor> _classifier;

    public TinyTree(long seed = 1) : base(nameof(TinyTree))
    {
        manual_seed(seed);
        _embed = nn.Embedding(20, 8);
        register_module("embed", _embed);
        var blocks = new nn.Module[2];
        for (var i = 0; i < 2; i++)
        {
            var block = new Block();
            blocks[i] = block;
            _blocks.Add((block.Q, block.V, block.Ff));
        }
        register_module("blocks", nn.ModuleList(blocks));
        _classifier = nn.Linear(8, 3);
        register_module("classifier", _classifier);
    }

    protected override void RegisterComponents() { }

    public override Tensor forward(Tensor ids)
    {
        var h = _embed.call(ids);
        foreach (var (q, v, ff) in _blocks) h = h + ff.call(nn.functional.relu(q.call(h) + v.call(h)));
        return _classifier.call(h);
    }

    private sealed class Block : nn.Module
    {
        public Block() : base(nameof(Block))
        {
            Q = nn.Linear(8, 8);
            V = nn.Linear(8, 8);
            Ff = nn.Linear(8, 8);
            register_module("q", Q);
            register_module("v", V);
            register_module("ff", Ff);
        }

        protected override void RegisterComponents() { }

        public nn.Module<Tensor, Tensor> Q { get; }
        public nn.Module<Tensor, Tensor> V { get; }
        public nn.Module<Tensor, Tensor> Ff { get; }
    }

    public static Tensor Ids() => tensor(new long[,] { { 1, 5, 7, 19 }, { 2, 0, 11, 4 } });
}
