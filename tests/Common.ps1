# Dot-sourced by every *.Tests.ps1: finds the staged module and a pwsh to start children with.
$script:ModulePath = if ($env:SPARSEPRUNE_MODULE) { $env:SPARSEPRUNE_MODULE } else {
    Join-Path $PSScriptRoot '../out/SparsePrune/SparsePrune.psd1'
}
$script:ModulePath = (Resolve-Path $script:ModulePath).Path
# pwsh as a dotnet tool runs as 'dotnet <PSHOME>/pwsh.dll'.
$script:PwshCommand = if ((Split-Path -Leaf ([Environment]::ProcessPath)) -like 'pwsh*') { @([Environment]::ProcessPath) } else {
    @([Environment]::ProcessPath, (Join-Path $PSHOME 'pwsh.dll'))
}

# Runs a script in a fresh pwsh process with the staged module imported; returns its output lines.
function Invoke-InFreshPwsh {
    param([Parameter(Mandatory)] [string] $Script, [hashtable] $Environment = @{})
    $saved = @{}
    foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
    try {
        $full = "`$ErrorActionPreference = 'Stop'; `$PSStyle.OutputRendering = 'PlainText'; Import-Module '$script:ModulePath'; $Script"
        $exe = $script:PwshCommand[0]
        $rest = @($script:PwshCommand | Select-Object -Skip 1)
        $out = & $exe @rest -NoProfile -NonInteractive -Command $full 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($out | ForEach-Object { "$_" }) }
    }
    finally {
        foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
    }
}
