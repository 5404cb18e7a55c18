# Get-Help for every exported cmdlet: synopsis, description, examples, every parameter.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:Cmdlets = @((Import-PowerShellDataFile $script:ModulePath).CmdletsToExport | ForEach-Object { @{ Cmdlet = $_ } })
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Common = [Management.Automation.PSCmdlet]::CommonParameters + [Management.Automation.PSCmdlet]::OptionalCommonParameters
}

Describe 'Get-Help <Cmdlet>' -ForEach $Cmdlets {
    BeforeAll {
        $script:Help = Get-Help $Cmdlet -Full -ErrorAction Stop
        $script:Command = Get-Command $Cmdlet -Module SparsePrune
    }

    It 'has a synopsis of its own (not the generated syntax)' {
        $synopsis = "$($Help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        $synopsis | Should -Not -BeLike "$Cmdlet *" -Because 'without a help file PowerShell puts the syntax there'
        $synopsis | Should -Not -Match '\[-\w+\]'
    }

    It 'has a description' {
        $text = ($Help.Description | ForEach-Object Text) -join "`n"
        $text.Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example with code' {
        $examples = @($Help.Examples.Example)
        $examples.Count | Should -BeGreaterThan 0
        foreach ($e in $examples) {
            "$($e.Code)".Trim() | Should -Not -BeNullOrEmpty
            "$($e.Code)" | Should -Match $Cmdlet
        }
    }

    It 'documents every parameter' {
        $names = @($Command.Parameters.Keys | Where-Object { $_ -notin $Common })
        $names.Count | Should -BeGreaterThan 0
        foreach ($name in $names) {
            $p = Get-Help $Cmdlet -Parameter $name -ErrorAction SilentlyContinue
            $p | Should -Not -BeNullOrEmpty -Because "-$name needs a help entry"
            (($p.Description | ForEach-Object Text) -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$name needs a description"
        }
    }
}
