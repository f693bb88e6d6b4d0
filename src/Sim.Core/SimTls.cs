using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Remote.Transport.DotNetty;

namespace Sim.Core;

/// <summary>A certificate file that cannot serve as a node's TLS identity (missing, unreadable, not a PFX with its key).</summary>
public sealed class CertificateException(string message) : Exception(message);

/// <summary>
/// Akka.Remote over TLS with mutual authentication for every Sim node of a cluster run (agents, launcher, participants):
/// all of them carry the same certificate (made by <c>sim cert new</c>, copied to every machine), and a peer is accepted
/// only when it presents exactly that certificate (pinned by thumbprint). A self-signed certificate has no chain to a
/// trusted root, so chain validation would refuse it; pinning refuses every other certificate instead. Host names are
/// not checked: nodes are addressed by IP.
/// </summary>
public static class SimTls
{
    /// <summary>Loads a PFX with its private key; one-line errors naming the file.</summary>
    public static X509Certificate2 Load(string path)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
            throw new CertificateException($"--cert {path}: no such file");
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(full, password: null, X509KeyStorageFlags.EphemeralKeySet);
        }
        catch (UnauthorizedAccessException)
        {
            throw new CertificateException($"--cert {path}: not readable");
        }
        catch (IOException e)
        {
            throw new CertificateException($"--cert {path}: not readable: {e.Message}");
        }
        catch (CryptographicException e)
        {
            throw new CertificateException($"--cert {path}: not a PFX certificate without password ({e.Message.Trim()})");
        }
        if (!certificate.HasPrivateKey)
            throw new CertificateException($"--cert {path}: the certificate has no private key (make one with `sim cert new`)");
        return certificate;
    }

    /// <summary>The remoting settings that switch TLS on (the certificate itself comes through <see cref="Setup"/>).</summary>
    public const string Hocon = "akka.remote.dot-netty.tcp.enable-ssl = on\n";

    /// <summary>The actor system setup of a node: <paramref name="config"/>, plus TLS pinned to <paramref name="certificate"/> when given.</summary>
    public static ActorSystemSetup Setup(Config config, X509Certificate2? certificate)
    {
        var bootstrap = BootstrapSetup.Create().WithConfig(certificate is null ? config : ConfigurationFactory.ParseString(Hocon).WithFallback(config));
        if (certificate is null)
            return ActorSystemSetup.Create(bootstrap);
        var ssl = new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication: true,
            validateCertificateHostname: false, customValidator: CertificateValidation.PinnedCertificate(certificate.Thumbprint));
        return ActorSystemSetup.Create(bootstrap, ssl);
    }

    /// <summary>
    /// Creates a node's actor system, over TLS when <paramref name="certificate"/> is given. An actor system that does not
    /// start while <c>SIM_AKKA_CONFIG</c> adds settings is taken for a bad setting there (<see cref="SimConfigException"/>).
    /// </summary>
    public static ActorSystem Create(string name, Config config, X509Certificate2? certificate = null)
    {
        try
        {
            return certificate is null ? ActorSystem.Create(name, config) : ActorSystem.Create(name, Setup(config, certificate));
        }
        catch (Exception e) when (SimConfig.Override is { } text)
        {
            throw new SimConfigException(text, e);
        }
    }
}
