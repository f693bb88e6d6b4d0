using System.Reflection;
using System.Runtime.Loader;

namespace Sim.Core.Roles;

/// <summary>A role library that cannot be used (missing or unloadable assembly, a role name twice): one line naming it.</summary>
public sealed class RoleLibraryException(string message) : Exception(message);

/// <summary>
/// The roles a run may use: Sim's own (<see cref="RoleCatalog"/>) plus those of a user's assembly, found by type (public,
/// implementing <see cref="IRole"/>, with a parameterless constructor) and named by their <see cref="IRole.Name"/>. A user's
/// assembly references only Sim.Core; it is loaded in its own load context that hands it this process's Sim.Core and
/// Akka, so its roles and ours share one <see cref="IRole"/> and one actor runtime.
/// </summary>
public sealed class RoleLibrary
{
    private readonly IReadOnlyDictionary<string, Func<IRole>> _roles;

    private RoleLibrary(IReadOnlyDictionary<string, Func<IRole>> roles, string? assemblyPath)
    {
        _roles = roles;
        AssemblyPath = assemblyPath;
    }

    /// <summary>Sim's own roles only.</summary>
    public static RoleLibrary BuiltIn { get; } = new(RoleCatalog.Names.ToDictionary(n => n, n => (Func<IRole>)(() => RoleCatalog.Find(n)!)), null);

    public string? AssemblyPath { get; }

    public IReadOnlyCollection<string> Names => _roles.Keys.ToList();

    /// <summary>A fresh instance of the role (user roles are created per participant), or null.</summary>
    public IRole? Create(string name) => _roles.TryGetValue(name, out var create) ? create() : null;

    /// <summary>Sim's roles plus those in <paramref name="assemblyPath"/> (null: Sim's only).</summary>
    public static RoleLibrary Load(string? assemblyPath)
    {
        if (assemblyPath is null)
            return BuiltIn;
        var full = Path.GetFullPath(assemblyPath);
        if (!File.Exists(full))
            throw new RoleLibraryException($"roles assembly {full} not found (build the role library first)");
        Assembly assembly;
        try
        {
            assembly = UserRolesContext.LoadRoles(full);
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or FileNotFoundException)
        {
            throw new RoleLibraryException($"roles assembly {full} cannot be loaded: {e.Message.Split('\n')[0]}");
        }
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            var first = e.LoaderExceptions.FirstOrDefault(x => x is not null)?.Message ?? e.Message;
            throw new RoleLibraryException($"roles assembly {full} cannot be loaded: {first.Split('\n')[0]}");
        }
        var roles = new Dictionary<string, (Func<IRole> Create, string Type)>(StringComparer.Ordinal);
        foreach (var name in RoleCatalog.Names)
            roles[name] = (() => RoleCatalog.Find(name)!, RoleCatalog.Find(name)!.GetType().FullName!);
        foreach (var type in types.Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true } && typeof(IRole).IsAssignableFrom(t)))
        {
            if (type.GetConstructor(Type.EmptyTypes) is null)
                throw new RoleLibraryException($"role type {type.FullName} in {Path.GetFileName(full)} has no parameterless constructor");
            IRole Create() => (IRole)Activator.CreateInstance(type)!;
            string name;
            try
            {
                name = Create().Name;
            }
            catch (TargetInvocationException e)
            {
                throw new RoleLibraryException($"role type {type.FullName} in {Path.GetFileName(full)} failed to start: {e.InnerException?.Message ?? e.Message}");
            }
            if (roles.TryGetValue(name, out var other))
                throw new RoleLibraryException($"two roles named '{name}': {other.Type} and {type.FullName} (in {Path.GetFileName(full)})");
            roles[name] = (Create, type.FullName!);
        }
        if (roles.Count == RoleCatalog.Names.Count)
            throw new RoleLibraryException($"roles assembly {full} has no role (a public class implementing Sim.Core.Roles.IRole with a parameterless constructor)");
        return new RoleLibrary(roles.ToDictionary(kv => kv.Key, kv => kv.Value.Create, StringComparer.Ordinal), full);
    }

    /// <summary>
    /// Loads a user's assembly; an assembly this process already has (Sim.Core, Akka, or the user's own library when a
    /// test references it) is shared rather than loaded twice, everything else comes from the library's folder.
    /// </summary>
    private sealed class UserRolesContext(string mainPath) : AssemblyLoadContext($"roles:{Path.GetFileName(mainPath)}")
    {
        private readonly AssemblyDependencyResolver _resolver = new(mainPath);

        public static Assembly LoadRoles(string path)
        {
            var name = AssemblyName.GetAssemblyName(path);
            return Loaded(name) ?? new UserRolesContext(path).LoadFromAssemblyPath(path);
        }

        protected override Assembly? Load(AssemblyName name)
        {
            if (Loaded(name) is { } shared)
                return shared;
            // Sim's own runtime (Akka and friends) comes from the host even when not loaded yet.
            try
            {
                return Default.LoadFromAssemblyName(name);
            }
            catch (FileNotFoundException)
            {
            }
            return _resolver.ResolveAssemblyToPath(name) is { } path ? LoadFromAssemblyPath(path) : null;
        }

        private static Assembly? Loaded(AssemblyName name) =>
            Default.Assemblies.FirstOrDefault(a => AssemblyName.ReferenceMatchesDefinition(name, a.GetName()) && a.GetName().Name == name.Name);
    }
}
