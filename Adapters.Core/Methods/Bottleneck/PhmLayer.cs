using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>
/// Compacter's parameterised hypercomplex multiplication layer: <c>y = x·H + b</c> with
/// <c>H = Σᵢ kron(Cᵢ, Wᵢ)</c>, <c>Wᵢ = W_left[i]·W_right[i]</c> (factorised) or <c>W[i]</c>, and the rule <c>C</c> either
/// local (<c>phm_rule</c>) or shared through <see cref="SharedParameters"/>. State-dict names follow Python's
/// <c>PHMLayer</c>: <c>W_left</c>, <c>W_right</c> (or <c>W</c>), <c>b</c>, <c>phm_rule</c> (or <c>phm_rule_left</c>/<c>_right</c>).
/// With <c>shared_W_phm</c> the W factors live in the adapter's shared parameters as <c>W_down_left</c>/<c>W_down_right</c>
/// (or <c>W_down</c>) and <c>W_up_left</c>/<c>W_up_right</c> (or <c>W_up</c>), one set for every layer.
/// </summary>
public sealed class PhmLayer : nn.Module<Tensor, Tensor>
{
    private readonly int _n;
    private readonly long _in;
    private readonly long _out;
    // Named after the registered parameter, so that Module.to(dtype/device) stores the converted tensor here too.
    [ComponentName(Name = "W_left")]
    private Parameter? _wLeft;
    [ComponentName(Name = "W_right")]
    private Parameter? _wRight;
    [ComponentName(Name = "W")]
    private Parameter? _w;
    [ComponentName(Name = "b")]
    private Parameter? _bias;
    [ComponentName(Name = "phm_rule")]
    private Parameter? _rule;
    [ComponentName(Name = "phm_rule_left")]
    private Parameter? _ruleLeft;
    [ComponentName(Name = "phm_rule_right")]
    private Parameter? _ruleRight;
    private readonly SharedParameters? _shared;
    private readonly string _position;

    /// <summary>
    /// Creates a PHM layer mapping <paramref name="inFeatures"/> to <paramref name="outFeatures"/> features at
    /// <paramref name="position"/> in the adapter (the down- or up-projection, which picks the shared W to use).
    /// </summary>
    /// <exception cref="AdapterConfigException">The sizes are not divisible by <c>phm_dim</c>.</exception>
    public PhmLayer(long inFeatures, long outFeatures, PhmPosition position, BnConfig config, SharedParameters? shared, Device? device, ScalarType? dtype)
        : base(nameof(PhmLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        _n = config.PhmDim;
        _in = inFeatures;
        _out = outFeatures;
        _position = position == PhmPosition.Down ? "down" : "up";
        if (inFeatures % _n != 0 || outFeatures % _n != 0)
            throw new AdapterConfigException($"phm_dim {_n} must divide the PHM layer sizes {inFeatures} and {outFeatures}.");
        if ((config.SharedWPhm || config.SharedPhmRule) && shared is null)
            throw new ArgumentNullException(nameof(shared), "Shared PHM weights or rules need the adapter's shared parameters.");
        _shared = shared;

        using var _ = no_grad();
        var inPart = inFeatures / _n;
        var outPart = outFeatures / _n;
        if (config.SharedWPhm)
        {
            // W comes from the adapter's shared parameters; only the bias and a local rule stay per layer.
        }
        else if (config.FactorizedPhmW)
        {
            // Python draws left and right per slice alternately; keep that order so seeded inits match.
            var left = empty([_n, inPart, config.PhmRank], dtype, device);
            var right = empty([_n, config.PhmRank, outPart], dtype, device);
            for (var i = 0; i < _n; i++)
            {
                nn.init.xavier_normal_(left[i]);
                nn.init.xavier_normal_(right[i]);
            }
            _wLeft = Register("W_left", left);
            _wRight = Register("W_right", right);
        }
        else
        {
            _w = Register("W", XavierSlices(empty([_n, inPart, outPart], dtype, device)));
        }
        if (config.PhmBias) _bias = Register("b", zeros([outFeatures], dtype, device));

        if (config.SharedPhmRule)
        {
            // The rule is read from the shared parameters at forward time.
        }
        else if (config.FactorizedPhmRule)
        {
            _ruleLeft = Register("phm_rule_left", InitRule(empty([_n, _n, 1], dtype, device), config, shared: false), config.LearnPhm);
            _ruleRight = Register("phm_rule_right", InitRule(empty([_n, 1, _n], dtype, device), config, shared: false), config.LearnPhm);
        }
        else
        {
            _rule = Register("phm_rule", InitRule(empty([_n, _n, _n], dtype, device), config, shared: false), config.LearnPhm);
        }
    }

    /// <summary>Children are registered explicitly under Python's names; field-based registration would add C# field names.</summary>
    protected override void RegisterComponents() { }

    /// <summary>
    /// Creates an adapter's shared PHM tensors in <paramref name="shared"/> (once per adapter), in Python's order:
    /// the W factors when <c>shared_W_phm</c> (sized for <paramref name="hiddenSize"/> and its bottleneck
    /// <paramref name="bottleneckSize"/>), then the rule when <c>shared_phm_rule</c>.
    /// </summary>
    public static void CreateShared(SharedParameters shared, BnConfig config, int hiddenSize, int bottleneckSize, Device? device, ScalarType? dtype)
    {
        ArgumentNullException.ThrowIfNull(shared);
        ArgumentNullException.ThrowIfNull(config);
        var n = config.PhmDim;
        using var _ = no_grad();
        if (config.SharedWPhm)
        {
            if (hiddenSize % n != 0 || bottleneckSize % n != 0)
                throw new AdapterConfigException($"phm_dim {n} must divide the PHM layer sizes {hiddenSize} and {bottleneckSize}.");
            var hiddenPart = hiddenSize / n;
            var bottleneckPart = bottleneckSize / n;
            if (config.FactorizedPhmW)
            {
                shared.Add("W_down_left", XavierSlices(empty([n, hiddenPart, config.PhmRank], dtype, device)), true);
                shared.Add("W_down_right", XavierSlices(empty([n, config.PhmRank, bottleneckPart], dtype, device)), true);
                shared.Add("W_up_left", XavierSlices(empty([n, bottleneckPart, config.PhmRank], dtype, device)), true);
                shared.Add("W_up_right", XavierSlices(empty([n, config.PhmRank, hiddenPart], dtype, device)), true);
            }
            else
            {
                shared.Add("W_down", XavierSlices(empty([n, hiddenPart, bottleneckPart], dtype, device)), true);
                shared.Add("W_up", XavierSlices(empty([n, bottleneckPart, hiddenPart], dtype, device)), true);
            }
        }
        if (!config.SharedPhmRule) return;
        if (config.FactorizedPhmRule)
        {
            shared.Add("phm_rule_left", InitRule(empty([n, n, 1], dtype, device), config, shared: true), config.LearnPhm);
            shared.Add("phm_rule_right", InitRule(empty([n, 1, n], dtype, device), config, shared: true), config.LearnPhm);
        }
        else
        {
            shared.Add("phm_rule", InitRule(empty([n, n, n], dtype, device), config, shared: true), config.LearnPhm);
        }
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var rule = Rule();
        var w = Weight();
        // kron(C_i, W_i)[a·p+b, c·q+d] = C_i[a,c]·W_i[b,d], summed over i.
        var h = einsum("iac,ibd->abcd", rule, w).reshape(_in, _out);
        var result = matmul(input, h);
        if (_bias is not null) result = result + _bias;
        return result.MoveToOuterDisposeScope();
    }

    private Tensor Weight()
    {
        if (_w is not null) return _w;
        if (_wLeft is not null) return bmm(_wLeft, _wRight!);
        var shared = _shared!;
        return shared.Get($"W_{_position}") is { } w ? w : bmm(shared.Get($"W_{_position}_left")!, shared.Get($"W_{_position}_right")!);
    }

    // Python's init_W tests the truthiness of hypercomplex_nonlinearity, so "glorot-uniform" runs xavier_normal_ per slice.
    private static Tensor XavierSlices(Tensor w)
    {
        for (var i = 0; i < w.shape[0]; i++) nn.init.xavier_normal_(w[i]);
        return w;
    }

    private Tensor Rule()
    {
        if (_rule is not null) return _rule;
        if (_ruleLeft is not null) return bmm(_ruleLeft, _ruleRight!);
        var shared = _shared!;
        return shared.Get("phm_rule") is { } rule ? rule : bmm(shared.Get("phm_rule_left")!, shared.Get("phm_rule_right")!);
    }

    private static Tensor InitRule(Tensor rule, BnConfig config, bool shared)
    {
        var normal = config.PhmCInit == "normal";
        if (shared)
        {
            if (normal) nn.init.normal_(rule, 0.0, config.PhmInitRange);
            else nn.init.uniform_(rule, -1.0, 1.0);
        }
        else
        {
            if (normal) nn.init.normal_(rule, 0.0, 0.01);
            else nn.init.uniform_(rule, -0.01, 0.01);
        }
        return rule;
    }

    private Parameter Register(string name, Tensor value, bool requiresGrad = true)
    {
        var parameter = new Parameter(value, requiresGrad);
        register_parameter(name, parameter);
        return parameter;
    }
}
