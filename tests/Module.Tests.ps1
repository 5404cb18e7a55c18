BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
}

Describe 'The staged module' {
    It 'exports exactly the cmdlets, functions and aliases of the manifest' {
        $manifest = Import-PowerShellDataFile $script:ModulePath
        $exported = @(Get-Command -Module SparsePrune)
        @($exported | Where-Object CommandType -EQ Cmdlet).Name | Sort-Object | Should -Be ($manifest.CmdletsToExport | Sort-Object)
        @($exported | Where-Object CommandType -EQ Function).Name | Sort-Object | Should -Be ($manifest.FunctionsToExport | Sort-Object)
        @($exported | Where-Object CommandType -EQ Alias).Name | Sort-Object | Should -Be ($manifest.AliasesToExport | Sort-Object)
        $exported.Count | Should -Be (@($manifest.CmdletsToExport).Count + @($manifest.FunctionsToExport).Count + @($manifest.AliasesToExport).Count)
    }

    It 'exports aliases only for its own functions' {
        $manifest = Import-PowerShellDataFile $script:ModulePath
        foreach ($alias in $manifest.AliasesToExport) {
            (Get-Alias $alias).ResolvedCommandName | Should -BeIn $manifest.FunctionsToExport -Because "$alias is exported"
        }
    }

    It 'imports without a warning (every exported command has an approved verb)' {
        $r = Invoke-InFreshPwsh "`$w = @(Import-Module '$script:ModulePath' -Force 3>&1); 'warnings: ' + `$w.Count; `$w"
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $r.Output | Should -Contain 'warnings: 0' -Because ($r.Output -join "`n")
        $r.Output -cmatch '^WARNING' | Should -BeNullOrEmpty -Because 'the first import must not warn either'
        $approved = (Get-Verb).Verb
        foreach ($c in Get-Command -Module SparsePrune -CommandType Cmdlet, Function) { $c.Verb | Should -BeIn $approved -Because "$($c.Name) is exported" }
    }

    It 'imports in a fresh pwsh and runs a tensor operation' {
        $r = Invoke-InFreshPwsh '$m = New-Mlp -Layers 3,2 -Seed 7; (Invoke-Mlp -Model $m -InputObject (,[double[]](1,2,3))).Label'
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $r.Output[-1] | Should -BeIn @('0', '1')
    }
}
