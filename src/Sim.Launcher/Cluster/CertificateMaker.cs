using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sim.Launcher.Cluster;

/// <summary><c>sim cert new</c>: a self-signed certificate with its private key as a PFX, made with System.Security.Cryptography alone.</summary>
public static class CertificateMaker
{
    /// <summary>Writes the PFX to <paramref name="path"/> (mode 0600); returns its thumbprint.</summary>
    public static string Write(string path, int days, bool overwrite)
    {
        if (Directory.Exists(path))
            throw new UsageException($"--out {path} is a folder, not a file");
        if (File.Exists(path) && !overwrite)
            throw new UsageException($"--out {path} exists (--force overwrites it)");
        var folder = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(folder))
            throw new UsageException($"--out {path}: folder {folder} does not exist");
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN=sim-cluster-{Guid.NewGuid():N}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        // Every node is server and client of TLS connections.
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(days));
        var pfx = certificate.Export(X509ContentType.Pfx);
        try
        {
            var options = new FileStreamOptions { Mode = overwrite ? FileMode.Create : FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var stream = new FileStream(path, options);
            stream.Write(pfx);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--out {path} is not writable: {e.Message}");
        }
        return certificate.Thumbprint;
    }
}
