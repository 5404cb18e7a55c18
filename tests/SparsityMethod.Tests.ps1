# Set-Sparsity -Method takes the criterion names, and Magnitude (its name in earlier releases) for L1.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
}

Describe 'Set-Sparsity -Method' {
    BeforeAll {
        $script:Iris = Get-Dataset Iris
        $script:Base = New-Mlp 4, 12, 3 -Seed 3 | Invoke-Training -Dataset $Iris -Epochs 2 -Seed 1
    }

    It 'Magnitude, typed as scripts did, gives the masks of L1' {
        $old = $Base | Copy-Mlp | Set-Sparsity 0.6 -Scope Global -Method Magnitude
        $new = $Base | Copy-Mlp | Set-Sparsity 0.6 -Scope Global -Method l1
        Get-ModelFingerprint $old | Should -Be (Get-ModelFingerprint $new)
        $old.History[-1].Settings.Method | Should -Be ([SparsePrune.PruneCriterion]::L1)
    }

    It 'an unknown name fails with the names it takes' {
        { $Base | Copy-Mlp | Set-Sparsity 0.5 -Method Biggest } | Should -Throw '*Magnitude*Taylor*'
    }

    It 'Taylor ranks on the model''s data set and refuses a model without one' {
        $m = $Base | Copy-Mlp | Set-Sparsity 0.5 -Method Taylor
        $m.History[-1].Settings.Method | Should -Be 'Taylor'
        $m.Sparsity | Should -BeGreaterThan 0.49
        $bare = New-Mlp 4, 5, 3 -Seed 1
        { $bare | Set-Sparsity 0.5 -Method Fisher } | Should -Throw -ErrorId 'NoDataset*'
        $bare.Sparsity | Should -Be 0
    }
}
