# Invoke-PruningSweep over SSH remoting: a private sshd on 127.0.0.1 (tests/tools/Start-SshTestServer.ps1,
# key authentication, a pwsh subsystem) stands in for the hosts. 'localhost' twice in -HostName
# makes two remote workers, so the points are spread; the results must equal the session's, and
# when one remote worker is killed mid-sweep every point must still come out exactly once.
BeforeDiscovery {
    $script:Server = & (Join-Path $PSScriptRoot 'tools/Start-SshTestServer.ps1')
    $script:NoServer = -not $Server.Available
    $script:Why = if ($NoServer) { " (skipped: $($Server.Reason))" } else { '' }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Server = & (Join-Path $PSScriptRoot 'tools/Start-SshTestServer.ps1')
    $script:Data = Get-Dataset Digits
    $script:Model = New-Mlp -Layers 64, 32, 10 -Seed 6 -Name remote-base | Invoke-Training -Dataset $Data -Epochs 3 -Seed 6
    $script:Remote = @{
        HostName = 'localhost', 'localhost'; UserName = $Server.UserName; KeyFilePath = $Server.KeyFilePath
        SshOption = $Server.Options; ModulePath = $script:ModulePath; ThreadsPerWorker = 1
    }
    if ($Server.Port -and $Server.Port -ne 22) { $Remote.Port = $Server.Port }

    function script:Get-Comparable($Results) {
        @($Results | Sort-Object Point | ForEach-Object {
                ($_.Point, $_.Settings, $_.Seed, $_.SweepId, $_.Metric.ToString('R'), $_.StoredBytes, $_.Weights, $_.NonZeroWeights, $_.Threads) -join '|'
            })
    }

    # The pwsh processes sshd started for PowerShell remoting sessions (the -sshs subsystem).
    function script:Get-RemoteWorker {
        @(Get-Process -ErrorAction Ignore | Where-Object { $_.CommandLine -match '(^|\s)-sshs(\s|$)' })
    }

    # Those still alive after a closed session has had $Seconds to end them (a remote pwsh
    # exits on its own once its connection closes, which takes a moment after the sweep returns).
    function script:Get-LingeringRemoteWorker([int] $Seconds = 15) {
        $wait = [Diagnostics.Stopwatch]::StartNew()
        while (($left = Get-RemoteWorker).Count -gt 0 -and $wait.Elapsed.TotalSeconds -lt $Seconds) { Start-Sleep -Milliseconds 200 }
        $left
    }
}

AfterAll {
    if ($Server.Available) { $null = & (Join-Path $PSScriptRoot 'tools/Start-SshTestServer.ps1') -Stop }
}

Describe "A sweep over SSH remoting$Why" -Skip:$NoServer {
    It 'runs the points on the sessions it opens and gives the session''s results' {
        $grid = [ordered]@{ Ratio = 0.5, 0.8; Structure = 'Connection', 'Neuron'; FineTuneEpochs = 1 }
        $local = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $grid -ThreadsPerWorker 1)
        $output = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $grid @Remote -Verbose 4>&1)
        $remote = @($output | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] })
        $remote.Count | Should -Be 4
        Get-Comparable $remote | Should -Be (Get-Comparable $local)
        # Both sessions are opened and take points from one queue; how many each runs, and whether
        # the second has even started before the first has run all four, depends on timing (the
        # sweep ends with its last point, not with its last worker's start), so only names count.
        $started = @($output | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Worker ssh localhost (*) started*' })
        $started.Count | Should -BeGreaterOrEqual 1
        $started.Count | Should -BeLessOrEqual 2
        $started.Message | ForEach-Object { $_ | Should -Match '^Worker ssh localhost \([12]\) started' }
        $remote.Worker | ForEach-Object { $_ | Should -BeIn @('ssh localhost (1)', 'ssh localhost (2)') }
        @($remote.Worker | Where-Object { $_ -notin @($started.Message -replace '^Worker (.+?) started.*$', '$1') }).Count | Should -Be 0 -Because 'every point runs on a session that said it started'
        Get-LingeringRemoteWorker | Should -BeNullOrEmpty -Because 'the sessions end with the sweep'
    }

    It 'runs every point exactly once when a remote worker is killed mid-sweep' {
        # Points long enough (about 1.5 s of fine-tuning each on Digits) that both workers are busy
        # and points remain queued when one dies.
        $grid = [ordered]@{ Ratio = 0.3, 0.5, 0.7; Structure = 'Connection', 'Neuron'; FineTuneEpochs = 300 }
        $killed = $null
        $earlier = @(Get-RemoteWorker).Id  # sessions of an earlier test still closing are not this sweep's
        $results = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $grid @Remote -Verbose -WarningVariable warned 3>$null 4>&1 | ForEach-Object {
                if ($_ -is [Management.Automation.VerboseRecord]) { return }
                # At the first result, kill a worker of this sweep: points remain (six of about
                # 1.5 s each), so the sweep must finish them on what is left.
                if (-not $killed) {
                    $victim = Get-RemoteWorker | Where-Object Id -NotIn $earlier | Select-Object -First 1
                    $victim | Should -Not -BeNullOrEmpty -Because 'a remote worker delivered the result'
                    $killed = $victim.Id
                    Stop-Process -Id $victim.Id -Force
                }
                $_
            })
        $killed | Should -Not -BeNullOrEmpty
        ($results.Point | Sort-Object) | Should -Be (0..5) -Because 'no point is lost or run twice'
        # Whether the killed worker was inside a point or between two (it gets its next point as
        # it delivers one) is timing; what the sweep promises either way is that a point it was
        # running moves once, says so, and gives what it gives anywhere.
        $moved = @($results | Where-Object Attempts -GT 1)
        $moved.Count | Should -BeLessOrEqual 1
        foreach ($m in $moved) {
            $m.Note | Should -BeLike 'worker ssh localhost (*) was lost while running it*'
            "$warned" | Should -BeLike "*Worker ssh localhost (*) was lost while running point $($m.Point)*"
        }
        $local = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $grid -ThreadsPerWorker 1)
        Get-Comparable $results | Should -Be (Get-Comparable $local) -Because 'the point that moved gives what it gives anywhere'
        Get-LingeringRemoteWorker | Should -BeNullOrEmpty
    }

    It 'says which host could not be reached and runs everything on the others' {
        $bad = $Remote.Clone()
        $bad.HostName = 'localhost', 'no-such-host.invalid'
        $results = @($Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.4, 0.6 } @bad -WarningVariable warned 3>$null)
        ($results.Point | Sort-Object) | Should -Be @(0, 1)
        $results.Worker | Sort-Object -Unique | Should -Be 'ssh localhost (1)'
        "$warned" | Should -BeLike '*Worker ssh no-such-host.invalid (1) could not start*'
        # Refused before New-PSSession: PowerShell's SSH transport can end the whole process on a
        # host whose ssh exits at once (an unhandled IOException on its error thread).
        "$warned" | Should -BeLike "*the SSH host 'no-such-host.invalid' cannot be resolved*"
    }
}
