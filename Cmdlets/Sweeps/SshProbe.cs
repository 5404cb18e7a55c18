using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SparsePrune.Cmdlets;

/// <summary>
/// Checks that an SSH host can be reached before New-PSSession is asked to reach it. PowerShell's
/// SSH transport can die on a host that never answers: when ssh exits at once (a name that does not
/// resolve, a refused port), the transport's error thread may write to ssh's closed stdin, and the
/// IOException it meets there is unhandled and ends the whole pwsh process. So the address ssh would
/// use (ssh -G applies the user's ssh_config: aliases, ports, users) is resolved and a TCP
/// connection to it tried first; a host behind ProxyJump or ProxyCommand, or an ssh that cannot say,
/// is left to New-PSSession as before.
/// </summary>
internal static class SshProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Throws <see cref="InvalidOperationException"/> saying why <paramref name="host"/> cannot be reached.</summary>
    public static void EnsureReachable(string host, SshTarget target)
    {
        var resolved = Resolve(host, target);
        if (resolved is null) return;
        var (hostName, port) = resolved.Value;
        IPAddress[] addresses;
        try { addresses = Dns.GetHostAddresses(hostName); }
        catch (SocketException e) { throw new InvalidOperationException($"the SSH host '{hostName}' cannot be resolved: {e.Message}", e); }
        if (addresses.Length == 0) throw new InvalidOperationException($"the SSH host '{hostName}' resolves to no address");
        Exception? last = null;
        foreach (var address in addresses)
        {
            using var client = new TcpClient(address.AddressFamily);
            try
            {
                if (client.ConnectAsync(address, port).Wait(Timeout)) return;
                last = new TimeoutException($"no answer within {Timeout.TotalSeconds:0} s");
            }
            catch (AggregateException e) { last = e.InnerException ?? e; }
            catch (SocketException e) { last = e; }
        }
        throw new InvalidOperationException($"nothing accepts SSH connections at {hostName} port {port}: {last?.Message}", last);
    }

    /// <summary>The host name and port ssh would connect to, or null when it goes through a proxy or ssh cannot say.</summary>
    private static (string HostName, int Port)? Resolve(string host, SshTarget target)
    {
        var psi = new ProcessStartInfo("ssh") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add("-G");
        if (target.Port is { } p) { psi.ArgumentList.Add("-p"); psi.ArgumentList.Add(p.ToString(CultureInfo.InvariantCulture)); }
        if (target.UserName is { } u) { psi.ArgumentList.Add("-l"); psi.ArgumentList.Add(u); }
        if (target.Options is { } options)
            foreach (DictionaryEntry o in options) { psi.ArgumentList.Add("-o"); psi.ArgumentList.Add($"{o.Key}={o.Value}"); }
        psi.ArgumentList.Add(host);
        string output;
        try
        {
            using var ssh = Process.Start(psi);
            if (ssh is null) return null;
            ssh.StandardInput.Close();
            var read = ssh.StandardOutput.ReadToEndAsync();
            _ = ssh.StandardError.ReadToEndAsync();
            if (!ssh.WaitForExit((int)Timeout.TotalMilliseconds)) { try { ssh.Kill(); } catch (InvalidOperationException) { } return null; }
            if (ssh.ExitCode != 0) return null;
            output = read.Result;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException) { return null; }

        var settings = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split(' ', 2))
            .Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0].ToLowerInvariant())
            .ToDictionary(g => g.Key, g => g.First()[1]);
        foreach (var proxy in new[] { "proxyjump", "proxycommand" })
            if (settings.TryGetValue(proxy, out var value) && !value.Equals("none", StringComparison.OrdinalIgnoreCase)) return null;
        if (!settings.TryGetValue("hostname", out var hostName) || !settings.TryGetValue("port", out var portText)
            || !int.TryParse(portText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var port)) return null;
        return (hostName, port);
    }
}
