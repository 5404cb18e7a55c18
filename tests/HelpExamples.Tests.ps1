# Runs every example of the module's help as Get-Help shows it. In the cmdlets' help (MAML, from
# help/*.md) the text after 'PS> ' and '>> ' is the code, every other line is output; in the
# functions' comment-based help (Module/*.psm1) the prompt is Get-Help's own and every line of
# the example's code is code. Each example runs in a fresh runspace with the staged module
# imported and $ErrorActionPreference = 'Stop', in an empty folder holding a copy of iris.csv,
# and must not throw or write an error. Examples that need Fashion-MNIST or MNIST are skipped
# (those data sets are not always installed), so are those that name remote hosts (-HostName:
# tests/SweepRemote.Tests.ps1 runs a sweep over SSH), and so are those that import Pester 5, which
# cannot load beside this run's Pester 6 (tests/Assertions.Tests.ps1 runs that case in a fresh pwsh).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $manifest = Import-PowerShellDataFile $script:ModulePath
    $examples = foreach ($cmdlet in @($manifest.CmdletsToExport) + @($manifest.FunctionsToExport)) {
        $isFunction = $cmdlet -in $manifest.FunctionsToExport
        $number = 0
        foreach ($e in @((Get-Help $cmdlet -Full).examples.example)) {
            $number++
            $lines = "$($e.code)" -split '\r?\n'
            if (-not $isFunction) { $lines = @($lines | Where-Object { $_ -match '^(PS|>)> ?' } | ForEach-Object { $_ -replace '^(PS|>)> ?', '' }) }
            $source = if ($isFunction) { "The help of $cmdlet in Module/SparsePrune.Assertions.psm1" } else { "help/$cmdlet.md" }
            @{ Cmdlet = $cmdlet; Number = $number; Title = "$($e.title)".Trim(' -') -replace '^Example \d+:\s*'; Code = @($lines) -join "`n"; Source = $source }
        }
    }
    $script:NeedData = @($examples | Where-Object { $_.Code -match 'mnist' })
    $script:NeedPester5 = @($examples | Where-Object { $_.Code -match 'Import-Module Pester' })
    # Remote hosts are the reader's (tests/SweepRemote.Tests.ps1 runs a sweep over SSH on a private sshd).
    $script:NeedHosts = @($examples | Where-Object { $_.Code -match '-HostName' })
    $script:Runnable = @($examples | Where-Object { $_.Code -notmatch 'mnist|Import-Module Pester|-HostName' })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $Iris = Join-Path $PSScriptRoot 'data/iris.csv'
    # Start-Job and ForEach-Object -Parallel load the module by name, as they would for a user.
    $SavedModulePath = $env:PSModulePath
    $env:PSModulePath = (Split-Path (Split-Path $script:ModulePath)) + [IO.Path]::PathSeparator + $env:PSModulePath

    # Runs $Code in a new runspace in $Folder; returns its output text and every error it raised.
    function Invoke-Example([string] $Code, [string] $Folder, [int] $TimeoutSeconds = 120) {
        $runspace = [runspacefactory]::CreateRunspace([initialsessionstate]::CreateDefault2())
        $runspace.Open()
        $ps = [powershell]::Create($runspace)
        $errors = [Collections.Generic.List[string]]::new()
        # Output lines as they come, so that a failing example shows what it printed before.
        $output = [Management.Automation.PSDataCollection[psobject]]::new()
        try {
            # The setup is a statement of its own, so that error positions count the example's lines.
            $setup = "`$ErrorActionPreference = 'Stop'; `$PSStyle.OutputRendering = 'PlainText'; Import-Module '$script:ModulePath'; Set-Location -LiteralPath '$Folder'"
            $null = $ps.AddScript($setup).AddStatement().AddScript($Code).AddCommand('Out-String').AddParameter('Stream').AddParameter('Width', 160)
            $async = $ps.BeginInvoke([Management.Automation.PSDataCollection[psobject]]::new(), $output)
            if (-not $async.AsyncWaitHandle.WaitOne($TimeoutSeconds * 1000)) {
                $ps.Stop()
                $errors.Add("did not finish within $TimeoutSeconds s")
            }
            else {
                try { $null = $ps.EndInvoke($async) }
                catch {
                    $inner = $_.Exception.InnerException
                    $record = if ($inner -is [Management.Automation.IContainsErrorRecord]) { $inner.ErrorRecord }
                    $errors.Add("$(if ($record) { "$record`n$($record.InvocationInfo.PositionMessage)" } else { $_.Exception.Message })")
                }
            }
            foreach ($e in $ps.Streams.Error) { $errors.Add("$e`n$($e.InvocationInfo.PositionMessage)") }
        }
        finally {
            $ps.Dispose()
            $runspace.Dispose()
        }
        [pscustomobject]@{ Output = @($output | ForEach-Object { "$_" }) -join "`n"; Errors = @($errors | Select-Object -Unique) }
    }
}

AfterAll {
    $env:PSModulePath = $SavedModulePath
}

Describe 'Help examples' {
    It '<Cmdlet> example <Number>: <Title>' -ForEach $Runnable {
        $Code | Should -Not -BeNullOrEmpty -Because "the example needs at least one 'PS> ' line"
        $folder = Join-Path $TestDrive "$Cmdlet-$Number"
        New-Item -ItemType Directory -Path $folder | Out-Null
        Copy-Item -LiteralPath $Iris -Destination $folder
        $result = Invoke-Example -Code $Code -Folder $folder
        $result.Errors | Should -BeNullOrEmpty -Because "$Source, Example ${Number}, must run as written:`n$Code`n---- its output:`n$($result.Output)"
    }

    It '<Cmdlet> example <Number>: <Title> (needs Fashion-MNIST or MNIST)' -ForEach $NeedData -Skip {
    }

    It '<Cmdlet> example <Number>: <Title> (needs the remote hosts it names)' -ForEach $NeedHosts -Skip {
    }

    It '<Cmdlet> example <Number>: <Title> (needs Pester 5)' -ForEach $NeedPester5 -Skip {
    }
}
