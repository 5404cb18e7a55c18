# Runs every example of the cmdlets' help as Get-Help shows it: the text after 'PS> ' and '>> '
# is the code, every other line is output. Each example runs in a fresh runspace with the staged
# module imported and $ErrorActionPreference = 'Stop', in an empty folder holding a copy of
# iris.csv, and must not throw or write an error. Examples that need Fashion-MNIST or MNIST are
# skipped (those data sets are not always installed).
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $examples = foreach ($cmdlet in (Import-PowerShellDataFile $script:ModulePath).CmdletsToExport) {
        $number = 0
        foreach ($e in @((Get-Help $cmdlet -Full).examples.example)) {
            $number++
            $code = @("$($e.code)" -split '\r?\n' | Where-Object { $_ -match '^(PS|>)> ?' } | ForEach-Object { $_ -replace '^(PS|>)> ?', '' }) -join "`n"
            @{ Cmdlet = $cmdlet; Number = $number; Title = "$($e.title)".Trim(' -') -replace '^Example \d+:\s*'; Code = $code }
        }
    }
    $script:NeedData = @($examples | Where-Object { $_.Code -match 'mnist' })
    $script:Runnable = @($examples | Where-Object { $_.Code -notmatch 'mnist' })
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
        $result.Errors | Should -BeNullOrEmpty -Because "help/$Cmdlet.md, Example ${Number}, must run as written:`n$Code`n---- its output:`n$($result.Output)"
    }

    It '<Cmdlet> example <Number>: <Title> (needs Fashion-MNIST or MNIST)' -ForEach $NeedData -Skip {
    }
}
