BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
}

Describe 'The staged module' {
    It 'exports exactly the cmdlets of the manifest' {
        $manifest = Import-PowerShellDataFile $script:ModulePath
        $exported = (Get-Command -Module SparsePrune).Name | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'imports in a fresh pwsh and runs a tensor operation' {
        $r = Invoke-InFreshPwsh '$m = New-Mlp -Layers 3,2 -Seed 7; (Invoke-Mlp -Model $m -InputObject (,[double[]](1,2,3))).Label'
        $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n")
        $r.Output[-1] | Should -BeIn @('0', '1')
    }
}
