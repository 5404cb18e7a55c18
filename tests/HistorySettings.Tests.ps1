# The history's settings: typed values a script reads by name, a readable column in the table,
# and the settings line of files from earlier releases read into the same typed values.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
}

Describe 'History settings' {
    BeforeAll {
        $script:M = New-Mlp 4, 8, 3 -Seed 2 | Invoke-Training -Dataset (Get-Dataset Iris) -Epochs 1 -Seed 1 | Invoke-Pruning -Ratio 0.25 -Scope Global
    }

    It 'are typed: a ratio is a number, a scope its enum, names case-insensitive' {
        $s = $M.History[-1].Settings
        $s.Ratio | Should -BeOfType [double]
        $s.Ratio | Should -Be 0.25
        $s.scope | Should -Be ([SparsePrune.PruneScope]::Global)
        $M.History[0].Settings.Epochs | Should -BeOfType [int]
        @($s.Keys)[0..1] -join ',' | Should -Be 'Structure,Ratio'
    }

    It 'show as one readable line in the History table''s Settings view, not in the default table' {
        $M.History | Format-Table | Out-String -Width 300 | Should -Not -Match 'Settings'
        $table = $M.History | Format-Table -View Settings | Out-String -Width 300
        $table | Should -Match 'Settings'
        $table | Should -Match 'Structure=Connection Ratio=0\.25 Criterion=L1 Scope=Global'
        "$($M.History[-1].Settings)" | Should -BeLike 'Structure=Connection Ratio=0.25 *'
    }

    It 'of a file from an earlier release are read typed' {
        $old = Import-Mlp (Join-Path $PSScriptRoot 'data/model-v1.spmlp')
        $old.History[0].Settings.Epochs | Should -Be 3
        $old.History[0].Settings.Epochs | Should -BeOfType [int]
        $old.History[2].Settings.Ratio | Should -Be 0.2
        $old.History[1].Settings.Method | Should -Be 'Magnitude'
    }

    It 'cannot be changed by a script' {
        { $M.History[-1].Settings['Ratio'] = 0.9 } | Should -Throw '*read-only*'
        $M.History[-1].Settings.Ratio | Should -Be 0.25
    }
}
