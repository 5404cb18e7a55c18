#!/usr/bin/env pwsh

<#
.SYNOPSIS
    Starts a private sshd on 127.0.0.1 so that PowerShell SSH remoting to localhost can be tested.
.DESCRIPTION
    The SSH remoting tests need `Invoke-Command -HostName localhost` and `New-PSSession -HostName
    localhost` to work with key authentication and without any prompt. This script sets that up
    without touching the machine's own sshd: everything lives in a state directory (default
    <temp>/sparseprune-sshd):

      ssh_host_ed25519_key[.pub]  the private server's host key
      id_ed25519[.pub]            the client key pair; the .pub is the whole authorized_keys
      authorized_keys             AuthorizedKeysFile of the private server
      known_hosts                 the host key under localhost and 127.0.0.1 (for -Options)
      pwsh-sshs                   the subsystem wrapper: sets DOTNET_ROOT, then execs pwsh
      sshd_config, sshd.pid, sshd.log

    It then starts /usr/sbin/sshd -f <state>/sshd_config (sshd daemonizes itself), listening on
    127.0.0.1 only, and outputs an object that says how to connect:

      Available       $true when the server runs; $false when it cannot (then see Reason)
      HostName        'localhost'
      Port            the port it listens on (22 when that was free: see -Port)
      UserName        the account to log in as: the current user (root in the test build)
      KeyFilePath     the client private key, for -KeyFilePath
      Options         a hashtable for -Options (known_hosts of the state directory, no prompts)
      KnownHostsFile  that known_hosts file
      StateDirectory  the state directory
      ProcessId       the sshd listener's pid
      Reason          why it is not available ($null when it is)

    Idempotent: when the sshd of this state directory already runs with the same configuration it
    is left running and only described; keys are made once and reused, so known_hosts entries stay
    valid from run to run. When sshd (package openssh-server), ssh-keygen or ssh is missing, or this
    is not Linux, nothing is started and Available is $false with a Reason: the SSH remoting tests
    are then to be skipped.

    The account: the remote pwsh must be the one this script runs in ($PSHOME), and on the test
    build that is a dotnet local tool under /root/.nuget, below /root (mode 700): no other account
    can even reach it. So the server logs in the current user, root in the test build, which
    sshd allows with `PermitRootLogin prohibit-password` (keys only). Run as another user, the
    script works the same for that user, except that it cannot use port 22. An account locked
    with '!' in /etc/shadow (sshd refuses those without PAM) gets `UsePAM yes`.

    The subsystem: sshd runs subsystems through the user's login shell with a minimal
    environment (no DOTNET_ROOT, a short PATH), so it runs a small /bin/sh wrapper written here
    that exports DOTNET_ROOT (taken from the runtime this script runs on) and execs the pwsh
    apphost in $PSHOME; if that apphost is absent or fails its smoke test it runs
    `dotnet $PSHOME/pwsh.dll` instead.
.PARAMETER Port
    The port to listen on. 0 (the default) picks one: 22 when nothing listens on 127.0.0.1:22
    and we are root (so a plain `Invoke-Command -HostName localhost` works without -Port), else
    2222 when free, else any free port. When the server of this state directory already runs,
    0 keeps its port.
.PARAMETER StateDirectory
    Where keys, configuration, pid file and log live. Must be a path without whitespace
    (it ends up in sshd_config's Subsystem line). Created with mode 700.
.PARAMETER AddToUserKnownHosts
    Also puts the host key into ~/.ssh/known_hosts (replacing older entries for localhost and
    127.0.0.1 at that port), so that even a connection without -Options does not prompt.
.PARAMETER Stop
    Stops the sshd of this state directory (and the sessions it serves) and outputs nothing.
.PARAMETER LockTimeoutSeconds
    How long to wait while another run of the script holds the state directory's lock (60).
.EXAMPLE
    $ssh = ./tests/tools/Start-SshTestServer.ps1
    if ($ssh.Available) {
        Invoke-Command -HostName $ssh.HostName -Port $ssh.Port -UserName $ssh.UserName `
            -KeyFilePath $ssh.KeyFilePath -Options $ssh.Options -ScriptBlock { $PID }
    } else { Write-Host "SSH remoting tests skipped: $($ssh.Reason)" }
    ./tests/tools/Start-SshTestServer.ps1 -Stop
.EXAMPLE
    # In a Pester file in tests/: skip the SSH tests when the server cannot run.
    BeforeDiscovery { $script:ssh = & $PSScriptRoot/tools/Start-SshTestServer.ps1 }
    Describe 'remoting' -Skip:(-not $ssh.Available) { ... }
#>
[CmdletBinding(DefaultParameterSetName = 'Start')]
param(
    [Parameter(ParameterSetName = 'Start')]
    [ValidateRange(0, 65535)]
    [int] $Port = 0,

    [string] $StateDirectory = (Join-Path ([IO.Path]::GetTempPath()) 'sparseprune-sshd'),

    [Parameter(ParameterSetName = 'Start')]
    [switch] $AddToUserKnownHosts,

    [Parameter(ParameterSetName = 'Stop', Mandatory)]
    [switch] $Stop,

    [ValidateRange(1, 600)]
    [int] $LockTimeoutSeconds = 60
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
# ssh-keygen -F exits 1 for "not found", which is an answer here, not an error.
$PSNativeCommandUseErrorActionPreference = $false

$Sshd = '/usr/sbin/sshd'   # sshd insists on being started by absolute path (it re-executes itself)
$StateDirectory = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($StateDirectory).TrimEnd('/')
$ConfigFile = Join-Path $StateDirectory 'sshd_config'
$PidFile = Join-Path $StateDirectory 'sshd.pid'
$LogFile = Join-Path $StateDirectory 'sshd.log'
$HostKey = Join-Path $StateDirectory 'ssh_host_ed25519_key'
$ClientKey = Join-Path $StateDirectory 'id_ed25519'
$AuthorizedKeys = Join-Path $StateDirectory 'authorized_keys'
$KnownHosts = Join-Path $StateDirectory 'known_hosts'
$Wrapper = Join-Path $StateDirectory 'pwsh-sshs'
$UserName = [Environment]::UserName
$IsRoot = $IsLinux -and (& id -u) -eq '0'

function New-Result([bool] $Available, [string] $Reason, [int] $ListenPort = 0, [int] $ProcessId = 0) {
    $options = $null
    if ($Available) {
        # Handed to ssh as -o Key=Value. The private known_hosts holds our host key, so strict
        # checking passes without a prompt; BatchMode makes ssh fail instead of ever prompting
        # (a prompt would hang a test); IdentitiesOnly keeps it from offering agent or ~/.ssh keys.
        $options = @{
            UserKnownHostsFile    = $KnownHosts
            StrictHostKeyChecking = 'yes'
            BatchMode             = 'yes'
            IdentitiesOnly        = 'yes'
        }
    }
    [pscustomobject]@{
        Available      = $Available
        HostName       = 'localhost'
        Port           = $ListenPort
        UserName       = $UserName
        KeyFilePath    = $(if ($Available) { $ClientKey })
        Options        = $options
        KnownHostsFile = $(if ($Available) { $KnownHosts })
        StateDirectory = $StateDirectory
        ProcessId      = $ProcessId
        Reason         = $(if (-not $Available) { $Reason })
    }
}

function ConvertTo-ShQuoted([string] $Text) { "'" + $Text.Replace("'", "'\''") + "'" }

function Get-SshdPid {
    <# The pid of the running sshd listener of this state directory, or 0. #>
    if (-not (Test-Path $PidFile)) { return 0 }
    $text = (Get-Content -Raw $PidFile).Trim()
    $id = 0
    if (-not [int]::TryParse($text, [ref] $id) -or $id -le 0) { return 0 }
    # A stale pid file may name a pid reused by another process: it is ours only when its
    # command line (sshd rewrites it as "sshd: /usr/sbin/sshd -f <config> ...") names our config.
    $cmdline = "/proc/$id/cmdline"
    if (-not (Test-Path $cmdline)) { return 0 }
    $text = [IO.File]::ReadAllText($cmdline).Replace([char]0, ' ')
    if ($text -notmatch 'sshd' -or -not $text.Contains($ConfigFile)) { return 0 }
    return $id
}

function Get-ChildPid([int] $ParentId) {
    foreach ($dir in [IO.Directory]::GetDirectories('/proc')) {
        $name = [IO.Path]::GetFileName($dir)
        if ($name -notmatch '^\d+$') { continue }
        try { $stat = [IO.File]::ReadAllText("$dir/stat") } catch { continue }
        # Field 4 is the parent pid; field 2, the command name in parentheses, may hold spaces.
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        if ([int] $fields[1] -eq $ParentId) { [int] $name }
    }
}

function Test-ProcessAlive([int] $ProcessId) {
    try { $stat = [IO.File]::ReadAllText("/proc/$ProcessId/stat") } catch { return $false }
    return $stat.Substring($stat.LastIndexOf(')') + 2, 1) -ne 'Z'
}

function Stop-Sshd {
    $id = Get-SshdPid
    if ($id -eq 0) { Remove-Item -Force -ErrorAction Ignore $PidFile; return }
    # SIGTERM stops the listener only; the per-connection sshd processes it forked serve on.
    # Stop those first so that no session (and no remote pwsh) outlives the server.
    $children = @(Get-ChildPid $id)
    foreach ($p in @($children) + $id) {
        & /bin/sh -c "kill -TERM $p 2>/dev/null"
    }
    foreach ($p in @($children) + $id) {
        # Poll /proc rather than Process.WaitForExit: for a process that is not our child that
        # polls slowly (1.3 s for an sshd that exits at once). A zombie counts as gone.
        $deadline = [DateTime]::UtcNow.AddSeconds(5)
        while (Test-ProcessAlive $p) {
            if ([DateTime]::UtcNow -gt $deadline) { & /bin/sh -c "kill -KILL $p 2>/dev/null"; break }
            Start-Sleep -Milliseconds 20
        }
    }
    Remove-Item -Force -ErrorAction Ignore $PidFile
    Write-Verbose "stopped sshd $id and $($children.Count) session process(es)"
}

function Test-PortFree([int] $P) {
    <# $true when nothing listens on 127.0.0.1:$P (binding it is the test: it also sees 0.0.0.0:$P). #>
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, $P)
    try { $listener.Start(); return $true }
    catch [Net.Sockets.SocketException] { return $false }
    finally { $listener.Stop() }
}

function Get-FreePort {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    try { $listener.Start(); return ([Net.IPEndPoint] $listener.LocalEndpoint).Port } finally { $listener.Stop() }
}

function Test-PortOpen([int] $P) {
    $client = [Net.Sockets.TcpClient]::new()
    try { return $client.ConnectAsync([Net.IPAddress]::Loopback, $P).Wait(1000) -and $client.Connected }
    catch { return $false }
    finally { $client.Dispose() }
}

function Get-DotnetRoot {
    # The runtime directory is <dotnet root>/shared/Microsoft.NETCore.App/<version>/, however
    # pwsh was started (dotnet tool, apphost, or a global pwsh), so it names the right root.
    $runtime = [Runtime.InteropServices.RuntimeEnvironment]::GetRuntimeDirectory()
    $root = [IO.Path]::GetFullPath((Join-Path $runtime '../../..'))
    return $root.TrimEnd('/')
}

function Test-Wrapper {
    <# Runs the wrapper the way sshd will: through /bin/sh with a nearly empty environment. #>
    $out = & env -i "HOME=$HOME" 'PATH=/usr/bin:/bin' /bin/sh $Wrapper -NoLogo -NoProfile -NonInteractive `
        -Command '[Environment]::ProcessPath + "|" + $PSVersionTable.PSVersion' 2>&1
    return ($LASTEXITCODE -eq 0 -and "$out" -like "*|$($PSVersionTable.PSVersion)*")
}

function Write-Wrapper {
    $dotnetRoot = Get-DotnetRoot
    $apphost = Join-Path $PSHOME 'pwsh'
    $dll = Join-Path $PSHOME 'pwsh.dll'
    $header = @(
        '#!/bin/sh'
        '# Written by tests/tools/Start-SshTestServer.ps1: the PowerShell SSH subsystem of its private sshd.'
        '# sshd starts subsystems with a minimal environment (no DOTNET_ROOT, a short PATH): the'
        '# pwsh apphost finds a runtime in /usr/share/dotnet by itself, anywhere else (~/.dotnet,'
        '# /opt) only through DOTNET_ROOT, which this sets to the runtime the script ran on.'
        "export DOTNET_ROOT=$(ConvertTo-ShQuoted $dotnetRoot)"
        'export PATH="$DOTNET_ROOT:$PATH"'
        'export POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off DOTNET_CLI_TELEMETRY_OPTOUT=1'
    ) -join "`n"
    $candidates = @()
    if (Test-Path $apphost -PathType Leaf) { $candidates += "exec $(ConvertTo-ShQuoted $apphost) `"`$@`"" }
    $candidates += "exec `"`$DOTNET_ROOT/dotnet`" $(ConvertTo-ShQuoted $dll) `"`$@`""
    foreach ($exec in $candidates) {
        $text = "$header`n$exec`n"
        if ((Test-Path $Wrapper) -and (Get-Content -Raw $Wrapper) -ceq $text) { return }   # tested before
        [IO.File]::WriteAllText($Wrapper, $text)
        & chmod 700 $Wrapper
        if (Test-Wrapper) { Write-Verbose "subsystem wrapper: $exec"; return }
        Remove-Item -Force $Wrapper
    }
    throw "neither the pwsh apphost nor dotnet pwsh.dll in $PSHOME starts under a minimal environment"
}

function Test-AccountLocked {
    # Without PAM, sshd refuses every login (keys too) to an account whose shadow password
    # starts with '!' (locked, as root is on some installs); '*' (no password, as for root in
    # Debian's container images) is fine.
    if (-not $IsRoot) { return $false }
    $entry = Get-Content /etc/shadow -ErrorAction Ignore | Where-Object { $_ -like "${UserName}:*" } | Select-Object -First 1
    return ($null -ne $entry -and $entry.Split(':')[1].StartsWith('!'))
}

function Get-SshdVersion {
    # `sshd -V` is not an option of 9.x but still prints "OpenSSH_9.2p1 ..." (to stderr) first.
    $text = "$(& $Sshd -V 2>&1)"
    if ($text -match 'OpenSSH_(\d+)\.(\d+)') { return [version] "$($Matches[1]).$($Matches[2])" }
    return [version] '0.0'
}

function Get-SshdConfig([int] $ListenPort) {
    $subsystem = "$Wrapper -sshs -NoLogo -NoProfile"
    $lines = @(
        '# Written by tests/tools/Start-SshTestServer.ps1: a private sshd for the SSH remoting tests.'
        '# The machine''s /etc/ssh/sshd_config is not read (sshd -f names this file instead).'
        ''
        '# Loopback only, on the port chosen by the script: the tests connect to localhost.'
        "ListenAddress 127.0.0.1:$ListenPort"
        'AddressFamily inet'
        ''
        '# Our own host key (not /etc/ssh''s), so that known_hosts can be written for it.'
        "HostKey $HostKey"
        "PidFile $PidFile"
        ''
        '# Key authentication only, with the client key the script generated.'
        'PubkeyAuthentication yes'
        "AuthorizedKeysFile $AuthorizedKeys"
        'PasswordAuthentication no'
        'KbdInteractiveAuthentication no'
        'HostbasedAuthentication no'
        'GSSAPIAuthentication no'
        '# The tests log in as the current user (root on the test build: the pwsh under /root is'
        '# reachable by root only); root may log in, with a key only.'
        'PermitRootLogin prohibit-password'
        "AllowUsers $UserName"
        '# The state directory is under /tmp, which is world-writable (mode 1777): StrictModes would'
        '# reject the authorized_keys file because of that parent. The script makes the directory'
        '# itself mode 700 and owned by the user, which is what StrictModes wants to make sure of.'
        'StrictModes no'
        $(if (Test-AccountLocked) {
            '# The account is locked (''!'' in /etc/shadow): sshd refuses it without PAM, so use PAM.'
            'UsePAM yes'
        } else {
            '# PAM adds nothing here (no passwords) and its session modules (pam_loginuid,'
            '# pam_limits) can fail in a container; without it, sshd logs in any unlocked account.'
            'UsePAM no'
        })
        ''
        '# Nothing but the PowerShell subsystem is wanted: no forwarding, no banners, no DNS.'
        'AllowTcpForwarding no'
        'AllowAgentForwarding no'
        'AllowStreamLocalForwarding no'
        'X11Forwarding no'
        'PermitTunnel no'
        'PrintMotd no'
        'PrintLastLog no'
        'UseDNS no'
        '# Test runs open several sessions at once; accept plenty of unauthenticated connections.'
        'MaxStartups 64:30:128'
        ''
        '# The PowerShell remoting endpoint: -sshs makes pwsh speak PSRP over stdin/stdout. The'
        '# wrapper sets up the environment that sshd does not pass (DOTNET_ROOT).'
        "Subsystem powershell $subsystem"
    )
    if ((Get-SshdVersion) -ge [version] '9.8') {
        # OpenSSH 9.8+ penalizes sources whose sessions end badly (the tests kill remote pwsh
        # processes on purpose); never lock out the loopback.
        $lines += '', 'PerSourcePenalties no'
    }
    return ($lines -join "`n") + "`n"
}

function Set-KnownHostsEntry([string] $File, [string[]] $Names, [string] $Key) {
    <# Makes $File hold $Key for each of $Names: stale entries (hashed or not) removed first. #>
    foreach ($name in $Names) {
        $found = if (Test-Path $File) { "$(& ssh-keygen -F $name -f $File 2>$null)" } else { '' }
        if ($found.Contains($Key)) { continue }
        if (Test-Path $File) {
            & ssh-keygen -R $name -f $File *>$null
            # ssh-keygen -R keeps a backup: tidy ours, leave the user's ~/.ssh/known_hosts.old alone.
            if ($File.StartsWith("$StateDirectory/")) { Remove-Item -Force -ErrorAction Ignore "$File.old" }
        }
        Add-Content -LiteralPath $File -Value "$name $Key"
    }
}

function Enter-StateLock {
    <# An exclusive lock on <state>/lock (flock underneath), so that two builds starting or stopping
       the same server at once do not race; released by disposing the returned stream. #>
    $deadline = [DateTime]::UtcNow.AddSeconds($LockTimeoutSeconds)
    while ($true) {
        try { return [IO.File]::Open((Join-Path $StateDirectory 'lock'), 'OpenOrCreate', 'ReadWrite', 'None') }
        catch [IO.IOException] {
            if ([DateTime]::UtcNow -gt $deadline) { throw "another run holds $StateDirectory/lock" }
            Start-Sleep -Milliseconds 200
        }
    }
}

# ------------------------------------------------------------------ stop
if ($Stop) {
    if (Test-Path (Join-Path $StateDirectory 'lock')) {
        $lock = Enter-StateLock
        try { Stop-Sshd } finally { $lock.Dispose() }
    }
    return
}

# ------------------------------------------------------------------ prerequisites
if (-not $IsLinux) { return New-Result $false 'SSH remoting tests run on Linux only' }
if (-not (Test-Path $Sshd -PathType Leaf)) {
    return New-Result $false "$Sshd is missing (apt-get install openssh-server): SSH remoting tests skipped"
}
foreach ($tool in 'ssh', 'ssh-keygen') {
    if (-not (Get-Command $tool -CommandType Application -ErrorAction Ignore)) {
        return New-Result $false "$tool is missing (apt-get install openssh-client): SSH remoting tests skipped"
    }
}
if ($StateDirectory -match '\s') { return New-Result $false "the state directory '$StateDirectory' must not contain whitespace" }

# ------------------------------------------------------------------ state directory
# mkdir -m gives the mode at creation (no window with a wider one) and -p does not fail when a
# concurrent run made it first. Under /tmp anyone could have made it first, though: use it only
# when it is ours and private.
& mkdir -p -m 700 $StateDirectory
if ($LASTEXITCODE -ne 0) { return New-Result $false "cannot create $StateDirectory" }
$owner, $mode = "$(& stat -c '%U %a' $StateDirectory)".Split(' ')
if ($owner -ne $UserName -or $mode -ne '700') {
    return New-Result $false "$StateDirectory must be a directory of $UserName with mode 700 (it is ${owner}'s, mode $mode)"
}

$lock = Enter-StateLock
try {
    # -------------------------------------------------------------- keys and wrapper
    foreach ($key in @(@{ Path = $HostKey; Comment = 'sparseprune-sshd host' }, @{ Path = $ClientKey; Comment = 'sparseprune-sshd client' })) {
        if (-not (Test-Path $key.Path) -or -not (Test-Path "$($key.Path).pub")) {
            Remove-Item -Force -ErrorAction Ignore $key.Path, "$($key.Path).pub"
            $null = & ssh-keygen -q -t ed25519 -N '' -C $key.Comment -f $key.Path
            if ($LASTEXITCODE -ne 0) { throw "ssh-keygen failed for $($key.Path)" }
        }
    }
    Copy-Item -Force "$ClientKey.pub" $AuthorizedKeys
    & chmod 600 $AuthorizedKeys $HostKey $ClientKey
    Write-Wrapper

    # -------------------------------------------------------------- port and configuration
    $running = Get-SshdPid
    $runningPort = 0
    if ($running -ne 0 -and (Test-Path $ConfigFile)) {
        $m = Select-String -Path $ConfigFile -Pattern '^ListenAddress 127\.0\.0\.1:(\d+)$' | Select-Object -First 1
        if ($m) { $runningPort = [int] $m.Matches[0].Groups[1].Value }
    }
    $listenPort = $Port
    if ($listenPort -eq 0) {
        if ($runningPort -ne 0) { $listenPort = $runningPort }
        elseif ($IsRoot -and (Test-PortFree 22)) { $listenPort = 22 }
        elseif (Test-PortFree 2222) { $listenPort = 2222 }
        else { $listenPort = Get-FreePort }
    }
    $config = Get-SshdConfig $listenPort

    if ($running -ne 0 -and (Test-Path $ConfigFile) -and (Get-Content -Raw $ConfigFile) -ceq $config -and (Test-PortOpen $listenPort)) {
        Write-Verbose "sshd $running already serves 127.0.0.1:$listenPort"
    } else {
        Stop-Sshd
        if (-not (Test-PortFree $listenPort)) {
            return New-Result $false "127.0.0.1:$listenPort is in use by another program"
        }
        [IO.File]::WriteAllText($ConfigFile, $config)
        if ($IsRoot -and -not (Test-Path /run/sshd)) {
            # The privilege separation directory: sshd running as root chroots its unprivileged
            # child there and refuses to start without it. /run is a tmpfs no init prepared.
            & mkdir -p -m 755 /run/sshd
        }
        $check = & $Sshd -t -f $ConfigFile 2>&1
        if ($LASTEXITCODE -ne 0) { return New-Result $false "sshd rejects $ConfigFile`: $check" }
        # -E: log to a file (there is no syslog in the container). sshd daemonizes and returns;
        # the daemon closes the descriptors it inherited, so it holds no pipe of the caller open.
        $out = & $Sshd -f $ConfigFile -E $LogFile 2>&1
        if ($LASTEXITCODE -ne 0) { return New-Result $false "sshd failed to start ($LASTEXITCODE): $out" }
        $deadline = [DateTime]::UtcNow.AddSeconds(10)
        while (($running = Get-SshdPid) -eq 0 -or -not (Test-PortOpen $listenPort)) {
            if ([DateTime]::UtcNow -gt $deadline) {
                $log = Get-Content -Tail 5 $LogFile -ErrorAction Ignore
                return New-Result $false "sshd did not come up on 127.0.0.1:$listenPort`: $log"
            }
            Start-Sleep -Milliseconds 50
        }
        Write-Verbose "started sshd $running on 127.0.0.1:$listenPort"
    }

    # -------------------------------------------------------------- known_hosts
    # ssh looks a host on a port other than 22 up as [host]:port; both names a test may use.
    $names = if ($listenPort -eq 22) { 'localhost', '127.0.0.1' } else { "[localhost]:$listenPort", "[127.0.0.1]:$listenPort" }
    $hostKeyText = ((Get-Content -Raw "$HostKey.pub").Trim() -split '\s+')[0..1] -join ' '   # "ssh-ed25519 AAAA...", no comment
    Set-KnownHostsEntry $KnownHosts $names $hostKeyText
    if ($AddToUserKnownHosts) {
        $sshDir = Join-Path $HOME '.ssh'
        if (-not (Test-Path $sshDir)) { & mkdir -p -m 700 $sshDir }
        Set-KnownHostsEntry (Join-Path $sshDir 'known_hosts') $names $hostKeyText
    }
} finally {
    $lock.Dispose()
}

New-Result $true $null $listenPort $running
