using Adapters.Core.Configuration;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Adapters.Core.Methods.Bottleneck;

/// <summary>
/// Compacter's parameterised hypercomplex multiplication layer: <c>y = x·H + b</c> with
/// <c>H = Σᵢ kron(Cᵢ, Wᵢ)</c>, <c>Wᵢ = W_left[i]·W_right[i]</c> (factorised) or <c>W[i]</c>, and the rule <c>C</c> either
/// local (<c>phm_rule</c>) or shared through <see cref="SharedParameters"/>. State-dict names follow Python's
/// <c>PHMLayer</c>: <c>W_left</c>, <c>W_right</c> (or <c>W</c>), <c>b</c>, <c>phm_rule</c> (or <c>phm_rule_left</c>/<c>_right</c>).
/// </summary>
public sealed class PhmLayer : nn.Module<Tensor, Tensor>
{
    private readonly int _n;
    private readonly long _in;
    private readonly long _out;
    private readonly Parameter? _wLeft;
    private readonly Parameter? _wRight;
    private readonly Parameter? _w;
    private readonly Parameter? _bias;
    private readonly Parameter? _rule;
    private readonly Parameter? _ruleLeft;
    private readonly Parameter? _ruleRight;
    private readonly SharedParameters? _shared;

    /// <summary>Creates a PHM layer mapping <paramref name="inFeatures"/> to <paramref name="outFeatures"/> features.</summary>
    /// <exception cref="AdapterConfigException">The sizes are not divisible by <c>phm_dim</c>, or shared W is requested.</exception>
    public PhmLayer(long inFeatures, long outFeatures, BnConfig config, SharedParameters? shared, Device? device, ScalarType? dtype)
        : base(nameof(PhmLayer))
    {
        ArgumentNullException.ThrowIfNull(config);
        _n = config.PhmDim;
        _in = inFeatures;
        _out = outFeatures;
        if (inFeatures % _n != 0 || outFeatures % _n != 0)
            throw new AdapterConfigException($"phm_dim {_n} must divide the PHM layer sizes {inFeatures} and {outFeatures}.");
        if (config.SharedWPhm)
            throw new AdapterConfigException("shared_W_phm=True is not supported by this version of Adapters.NET.");

        using var _ = no_grad();
        var inPart = inFeatures / _n;
        var outPart = outFeatures / _n;
        if (config.FactorizedPhmW)
        {
            _wLeft = Register("W_left", empty([_n, inPart, config.PhmRank], dtype, device));
            _wRight = Register("W_right", empty([_n, config.PhmRank, outPart], dtype, device));
            // Python tests the truthiness of hypercomplex_nonlinearity, so "glorot-uniform" runs xavier_normal_.
            for (var i = 0; i < _n; i++)
            {
                nn.init.xavier_normal_(_wLeft[i]);
                nn.init.xavier_normal_(_wRight[i]);
            }
        }
        else
        {
            _w = Register("W", empty([_n, inPart, outPart], dtype, device));
            for (var i = 0; i < _n; i++) nn.init.xavier_normal_(_w[i]);
        }
        if (config.PhmBias) _bias = Register("b", zeros([outFeatures], dtype, device));

        if (config.SharedPhmRule)
        {
            _shared = shared ?? throw new ArgumentNullException(nameof(shared), "A shared phm rule needs the adapter's shared parameters.");
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

    /// <summary>Creates the shared rule tensors for an adapter in <paramref name="shared"/> (once per adapter).</summary>
    public static void CreateSharedRule(SharedParameters shared, BnConfig config, Device? device, ScalarType? dtype)
    {
        ArgumentNullException.ThrowIfNull(shared);
        ArgumentNullException.ThrowIfNull(config);
        var n = config.PhmDim;
        using var _ = no_grad();
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
        var w = _w ?? (Tensor)bmm(_wLeft!, _wRight!);
        // kron(C_i, W_i)[a·p+b, c·q+d] = C_i[a,c]·W_i[b,d], summed over i.
        var h = einsum("iac,ibd->abcd", rule, w).reshape(_in, _out);
        var result = matmul(input, h);
        if (_bias is not null) result = result + _bias;
        return result.MoveToOuterDisposeScope();
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
