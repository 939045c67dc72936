using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Adapters.Testing;

/// <summary>
/// Lists an assembly's public surface as sorted text, one line per type and member, with C#-like full
/// signatures including nullable reference annotations, so that an approval test shows every change to it.
/// Only what another assembly can use is listed: public types, and their public and protected members.
/// </summary>
internal static class PublicApiDumper
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The listing of <paramref name="assembly"/>: types in ordinal order, each followed by its sorted members.</summary>
    public static string Dump(Assembly assembly)
    {
        var nullability = new NullabilityInfoContext();
        var output = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().Where(IsVisible).OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            output.Append(TypeHeader(type)).Append('\n');
            foreach (var member in Members(type, nullability).Order(StringComparer.Ordinal))
            {
                output.Append("  ").Append(member).Append('\n');
            }
        }
        return output.ToString();
    }

    private static bool IsVisible(Type type) =>
        !type.IsDefined(typeof(CompilerGeneratedAttribute), false) && (type.DeclaringType is null || IsVisible(type.DeclaringType)) && (type.IsPublic || type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamORAssem);

    private static bool IsVisible(MethodBase? method) => method is not null && (method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly);

    private static string TypeHeader(Type type)
    {
        var kind = type switch
        {
            { IsEnum: true } => "enum",
            { IsInterface: true } => "interface",
            { IsValueType: true } => IsRecord(type) ? "record struct" : "struct",
            _ when typeof(Delegate).IsAssignableFrom(type) => "delegate",
            _ => IsRecord(type) ? "record" : "class",
        };
        var modifiers = type switch
        {
            { IsAbstract: true, IsSealed: true, IsClass: true } => "static ",
            { IsInterface: true } => "",
            { IsAbstract: true, IsClass: true } => "abstract ",
            { IsSealed: true, IsClass: true } when !typeof(Delegate).IsAssignableFrom(type) => "sealed ",
            _ => "",
        };
        if (type.IsValueType && type.IsDefined(typeof(IsReadOnlyAttribute), false)) modifiers += "readonly ";
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) && baseType != typeof(Enum) && !typeof(Delegate).IsAssignableFrom(type))
        {
            bases.Add(Name(baseType));
        }
        if (type.IsEnum) bases.Add(Name(Enum.GetUnderlyingType(type)));
        var inherited = type.BaseType?.GetInterfaces() ?? [];
        bases.AddRange(type.GetInterfaces().Where(i => !inherited.Contains(i) && (i.IsPublic || i.IsNestedPublic)).Select(i => Name(i)).Order(StringComparer.Ordinal));
        var obsolete = type.GetCustomAttribute<ObsoleteAttribute>() is { } o ? $"[Obsolete(\"{o.Message}\")] " : "";
        return $"{obsolete}public {modifiers}{kind} {Name(type, fullName: true)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : "")}";
    }

    private static IEnumerable<string> Members(Type type, NullabilityInfoContext nullability)
    {
        if (type.IsEnum)
        {
            foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                yield return $"{field.Name} = {Convert.ToString(field.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}";
            }
            yield break;
        }
        if (typeof(Delegate).IsAssignableFrom(type))
        {
            var invoke = type.GetMethod("Invoke")!;
            yield return $"delegate {ReturnType(invoke, nullability)} Invoke({Parameters(invoke, nullability)})";
            yield break;
        }
        foreach (var member in type.GetMembers(Declared))
        {
            var line = member switch
            {
                ConstructorInfo c when IsVisible(c) && !c.IsStatic => $"{Access(c)}{Name(type)}({Parameters(c, nullability)})",
                MethodInfo m when IsVisible(m) && !m.IsSpecialName && !IsCompilerGenerated(m) => Method(m, nullability),
                MethodInfo m when IsVisible(m) && m.IsSpecialName && m.Name.StartsWith("op_", StringComparison.Ordinal) => Method(m, nullability),
                PropertyInfo p when (IsVisible(p.GetMethod) || IsVisible(p.SetMethod)) && !IsCompilerGenerated(p) => Property(p, nullability),
                FieldInfo f when (f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly) && !IsCompilerGenerated(f) => Field(f, nullability),
                EventInfo e when IsVisible(e.AddMethod) => $"{Access(e.AddMethod!)}{Modifiers(e.AddMethod!)}event {Name(e.EventHandlerType!)} {e.Name}",
                _ => null,
            };
            if (line is not null) yield return line;
        }
    }

    // Record plumbing (Equals, PrintMembers, <Clone>$, EqualityContract) and backing fields are the compiler's, not our API.
    private static bool IsCompilerGenerated(MemberInfo member) => member.IsDefined(typeof(CompilerGeneratedAttribute), false);

    private static string Method(MethodInfo method, NullabilityInfoContext nullability)
    {
        var generic = method.IsGenericMethodDefinition ? "<" + string.Join(", ", method.GetGenericArguments().Select(a => a.Name)) + ">" : "";
        var extension = method.IsDefined(typeof(ExtensionAttribute), false) ? "this " : "";
        return $"{Access(method)}{Modifiers(method)}{ReturnType(method, nullability)} {method.Name}{generic}({extension}{Parameters(method, nullability)}){Constraints(method)}";
    }

    private static string Constraints(MethodInfo method)
    {
        if (!method.IsGenericMethodDefinition) return "";
        var clauses = new List<string>();
        foreach (var argument in method.GetGenericArguments())
        {
            var parts = new List<string>();
            var attributes = argument.GenericParameterAttributes;
            if (attributes.HasFlag(GenericParameterAttributes.ReferenceTypeConstraint)) parts.Add("class");
            if (attributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint)) parts.Add("struct");
            parts.AddRange(argument.GetGenericParameterConstraints().Where(c => c != typeof(ValueType)).Select(c => Name(c)));
            if (attributes.HasFlag(GenericParameterAttributes.DefaultConstructorConstraint) && !attributes.HasFlag(GenericParameterAttributes.NotNullableValueTypeConstraint)) parts.Add("new()");
            if (parts.Count > 0) clauses.Add($" where {argument.Name} : {string.Join(", ", parts)}");
        }
        return string.Concat(clauses);
    }

    private static string Property(PropertyInfo property, NullabilityInfoContext nullability)
    {
        var getter = IsVisible(property.GetMethod) ? property.GetMethod : null;
        var setter = IsVisible(property.SetMethod) ? property.SetMethod : null;
        var main = getter ?? setter!;
        var accessors = new List<string>();
        if (getter is not null) accessors.Add(Access(getter) == Access(main) ? "get;" : Access(getter) + "get;");
        if (setter is not null)
        {
            var init = setter.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)) ? "init;" : "set;";
            accessors.Add(Access(setter) == Access(main) ? init : Access(setter) + init);
        }
        var indexer = property.GetIndexParameters() is { Length: > 0 } index
            ? "this[" + string.Join(", ", index.Select(p => $"{Name(p.ParameterType, nullability.Create(p))} {p.Name}")) + "]"
            : property.Name;
        return $"{Access(main)}{Modifiers(main)}{Name(property.PropertyType, nullability.Create(property))} {indexer} {{ {string.Join(' ', accessors)} }}";
    }

    private static string Field(FieldInfo field, NullabilityInfoContext nullability)
    {
        var access = field.IsPublic ? "public " : "protected ";
        if (field.IsLiteral)
        {
            var value = field.GetRawConstantValue();
            var shown = value is string s ? $"\"{s.Replace("\"", "\\\"", StringComparison.Ordinal)}\"" : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
            return $"{access}const {Name(field.FieldType)} {field.Name} = {shown}";
        }
        var modifiers = (field.IsStatic ? "static " : "") + (field.IsInitOnly ? "readonly " : "");
        return $"{access}{modifiers}{Name(field.FieldType, nullability.Create(field))} {field.Name}";
    }

    private static string Access(MethodBase method) => method.IsPublic ? "public " : method.IsFamilyOrAssembly ? "protected internal " : "protected ";

    private static string Modifiers(MethodInfo method)
    {
        if (method.IsStatic) return "static ";
        if (method.DeclaringType!.IsInterface) return method.IsAbstract ? "" : "virtual ";
        if (method.IsAbstract) return "abstract ";
        var isOverride = method.GetBaseDefinition().DeclaringType != method.DeclaringType;
        if (isOverride) return method.IsFinal ? "sealed override " : "override ";
        if (method.IsVirtual && !method.IsFinal) return "virtual ";
        return "";
    }

    private static string ReturnType(MethodInfo method, NullabilityInfoContext nullability) =>
        Name(method.ReturnType, nullability.Create(method.ReturnParameter));

    private static string Parameters(MethodBase method, NullabilityInfoContext nullability) =>
        string.Join(", ", method.GetParameters().Select(p => Parameter(p, nullability)));

    private static string Parameter(ParameterInfo parameter, NullabilityInfoContext nullability)
    {
        var type = parameter.ParameterType;
        var prefix = "";
        if (type.IsByRef)
        {
            prefix = parameter.IsOut ? "out " : parameter.IsIn ? "in " : "ref ";
            type = type.GetElementType()!;
        }
        if (parameter.IsDefined(typeof(ParamArrayAttribute), false)) prefix = "params " + prefix;
        var text = $"{prefix}{Name(type, nullability.Create(parameter))} {parameter.Name}";
        if (parameter.HasDefaultValue)
        {
            text += " = " + parameter.DefaultValue switch
            {
                null => type.IsValueType && Nullable.GetUnderlyingType(type) is null ? "default" : "null",
                string s => $"\"{s}\"",
                bool b => b ? "true" : "false",
                var v when type.IsEnum => $"{Name(type)}.{Enum.GetName(type, v) ?? Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)}",
                var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture),
            };
        }
        return text;
    }

    private static bool IsRecord(Type type) => type.GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance) is not null
        || (type.IsValueType && type.GetMethod("PrintMembers", BindingFlags.NonPublic | BindingFlags.Instance) is not null);

    /// <summary>A C#-like name: keywords for primitives, <c>T?</c>, generics with arguments, nested types with dots.</summary>
    private static string Name(Type type, NullabilityInfo? nullability = null, bool fullName = false)
    {
        if (type.IsByRef) return Name(type.GetElementType()!, nullability, fullName);
        if (Nullable.GetUnderlyingType(type) is { } underlying) return Name(underlying, nullability?.GenericTypeArguments.FirstOrDefault()) + "?";
        var annotation = nullability is { ReadState: NullabilityState.Nullable } && !type.IsValueType ? "?" : "";
        if (type.IsArray) return Name(type.GetElementType()!, nullability?.ElementType) + "[" + new string(',', type.GetArrayRank() - 1) + "]" + annotation;
        // NullabilityInfo reports unconstrained type parameters as nullable even where the code says plain T.
        if (type.IsGenericParameter) return type.Name;
        if (Keyword(type) is { } keyword) return keyword + annotation;

        var prefix = type.IsNested ? Name(type.DeclaringType!, null, fullName) + "." : fullName && type.Namespace is { } ns ? ns + "." : "";
        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0) name = name[..tick];
        if (type.IsGenericType)
        {
            // Nested types repeat their parent's type arguments first; show only their own.
            var all = type.GetGenericArguments();
            var inheritedCount = type.IsNested ? type.DeclaringType!.GetGenericArguments().Length : 0;
            var own = all.Skip(inheritedCount).Select((a, i) => Name(a, nullability?.GenericTypeArguments.ElementAtOrDefault(inheritedCount + i))).ToList();
            if (own.Count > 0) name += "<" + string.Join(", ", own) + ">";
        }
        return prefix + name + annotation;
    }

    private static string? Keyword(Type type) => type.FullName switch
    {
        "System.Void" => "void",
        "System.Object" => "object",
        "System.String" => "string",
        "System.Boolean" => "bool",
        "System.Byte" => "byte",
        "System.SByte" => "sbyte",
        "System.Int16" => "short",
        "System.UInt16" => "ushort",
        "System.Int32" => "int",
        "System.UInt32" => "uint",
        "System.Int64" => "long",
        "System.UInt64" => "ulong",
        "System.Single" => "float",
        "System.Double" => "double",
        "System.Decimal" => "decimal",
        "System.Char" => "char",
        "System.IntPtr" => "nint",
        "System.UIntPtr" => "nuint",
        _ => null,
    };
}
