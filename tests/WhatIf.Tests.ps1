# -WhatIf on every cmdlet that changes a model or writes a file: nothing changes, nothing is
# written, and the What-if text says what would happen (captured from a fresh pwsh, since
# ShouldProcess writes it to the host, not to a stream).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Synthetic = Get-Dataset Synthetic
}

Describe '-WhatIf changes nothing' {
    It '<Cmdlet> -WhatIf leaves the model''s weights, shape, history and baseline as they were' -ForEach @(
        @{ Cmdlet = 'Invoke-Training'; Act = { param($m, $d) $m | Invoke-Training -Dataset $d -Epochs 2 -WhatIf } }
        @{ Cmdlet = 'Set-Sparsity -Sparsity'; Act = { param($m, $d) $m | Set-Sparsity -Sparsity 0.5 -WhatIf } }
        @{ Cmdlet = 'Set-Sparsity -Threshold'; Act = { param($m, $d) $m | Set-Sparsity -Threshold 0.2 -WhatIf } }
        @{ Cmdlet = 'Invoke-Pruning -Structure Connection'; Act = { param($m, $d) $m | Invoke-Pruning -Ratio 0.5 -WhatIf } }
        @{ Cmdlet = 'Invoke-Pruning -Structure Neuron -FineTuneEpochs'; Act = { param($m, $d) $m | Invoke-Pruning -Structure Neuron -Ratio 0.5 -FineTuneEpochs 2 -WhatIf } }
        @{ Cmdlet = 'Invoke-Pruning -Structure NM'; Act = { param($m, $d) $m | Invoke-Pruning -Structure NM -WhatIf } }
        @{ Cmdlet = 'Compress-Mlp'; Act = { param($m, $d) $m | Compress-Mlp -MaxLossIncrease 0.1 -Epochs 2 -WhatIf } }
    ) {
        $m = New-Mlp 10, 8, 4, 1 -Seed 3 | Invoke-Training -Dataset $Synthetic -Epochs 1 -Seed 1
        $print = Get-ModelFingerprint $m
        $widths = $m.Widths -join ','
        $history = $m.History.Count
        $out = @(& $Act $m $Synthetic)
        $out.Count | Should -Be 0 -Because 'a command that did nothing emits nothing'
        Get-ModelFingerprint $m | Should -BeExactly $print
        ($m.Widths -join ',') | Should -Be $widths
        $m.History.Count | Should -Be $history
        $m.Baseline | Should -BeNullOrEmpty
        ($m.Layers | ForEach-Object { "$($_.Stored)" }) -join ',' | Should -Be 'Dense,Dense,Dense'
    }

    It 'Export-Mlp -WhatIf writes no file, and with -Force leaves an existing file as it was' {
        $m = New-Mlp 4, 3 -Seed 1
        $new = Join-Path $TestDrive 'new.spmlp'
        $out = @($m | Export-Mlp -Path $new -WhatIf -PassThru)
        $out.Count | Should -Be 0
        Test-Path $new | Should -BeFalse
        @(Get-ChildItem $TestDrive -Force).Count | Should -Be 0

        $existing = Join-Path $TestDrive 'existing.spmlp'
        New-Mlp 4, 3 -Seed 2 | Export-Mlp $existing
        $hash = (Get-FileHash $existing).Hash
        $m | Export-Mlp -Path $existing -Force -WhatIf
        (Get-FileHash $existing).Hash | Should -Be $hash
    }
}

Describe 'The What-if text' {
    BeforeAll {
        $script:ExportPath = Join-Path $TestDrive 'whatif.spmlp'
        $r = Invoke-InFreshPwsh @"
`$m = New-Mlp -Layers 10,5,3,1 -Seed 1
`$d = Get-Dataset Synthetic
'### Set-Sparsity'
`$m | Set-Sparsity -Sparsity 0.5 -WhatIf
'### Invoke-Pruning Connection'
`$m | Invoke-Pruning -Ratio 0.4 -WhatIf
'### Invoke-Pruning Neuron'
`$m | Invoke-Pruning -Structure Neuron -Ratio 0.4 -FineTuneEpochs 2 -Dataset `$d -WhatIf
'### Invoke-Training'
`$m | Invoke-Training -Dataset `$d -Epochs 3 -WhatIf
'### Compress-Mlp'
`$m | Compress-Mlp -MaxLossIncrease 0.2 -Objective Flops -Dataset `$d -WhatIf
'### Export-Mlp'
`$m | Export-Mlp -Path '$ExportPath' -WhatIf
'### State'
"history=`$(`$m.History.Count) widths=`$(`$m.Widths -join ',') nonzero=`$(`$m.NonZeroWeights) file=`$(Test-Path '$ExportPath')"
"@
        $script:ExitCode = $r.ExitCode
        $script:AllOutput = $r.Output -join "`n"
        $script:Sections = @{}
        $name = ''
        foreach ($line in $r.Output) {
            if ($line -match '^### (.+)$') { $name = $Matches[1]; $Sections[$name] = @(); continue }
            if ($name) { $Sections[$name] += $line }
        }
    }

    It 'runs in a fresh pwsh without error' {
        $ExitCode | Should -Be 0 -Because $AllOutput
    }

    It 'Set-Sparsity -WhatIf names every layer with the zeros it would make' {
        $text = $Sections['Set-Sparsity'] -join "`n"
        $text | Should -Match 'What if:'
        $widths = 10, 5, 3, 1
        for ($i = 0; $i -lt 3; $i++) {
            $n = $widths[$i] * $widths[$i + 1]
            $text | Should -Match ("layer $i \($($widths[$i])x$($widths[$i + 1])\): $(Get-FloorCount 0.5 $n) of $n weights zero")
        }
    }

    It 'Invoke-Pruning -WhatIf names every layer with the connections it would delete' {
        $text = $Sections['Invoke-Pruning Connection'] -join "`n"
        $text | Should -Match 'What if:'
        $widths = 10, 5, 3, 1
        for ($i = 0; $i -lt 3; $i++) {
            $n = $widths[$i] * $widths[$i + 1]
            $text | Should -Match ("layer $i \(\d+x\d+\): delete $(Get-FloorCount 0.4 $n) of $n weights")
        }
    }

    It 'Invoke-Pruning -Structure Neuron -WhatIf names the neurons it would remove and the fine-tuning' {
        $text = $Sections['Invoke-Pruning Neuron'] -join "`n"
        $old = 10, 5, 3, 1
        $new = 10, (5 - (Get-FloorCount 0.4 5)), (3 - (Get-FloorCount 0.4 3)), 1
        for ($i = 0; $i -lt 3; $i++) {
            $deleted = $old[$i] * $old[$i + 1] - $new[$i] * $new[$i + 1]
            $text | Should -Match ("layer $i \(\d+x\d+\): delete $deleted of $($old[$i] * $old[$i + 1]) weights")
            if ($i -lt 2) { $text | Should -Match ("layer $i .*neurons $($old[$i + 1]) -> $($new[$i + 1])") }
        }
        $text | Should -Match 'fine-tune 2 epoch'
    }

    It 'Invoke-Training -WhatIf and Export-Mlp -WhatIf say what they would do' {
        ($Sections['Invoke-Training'] -join "`n") | Should -Match "What if:.*Train 3 epoch\(s\) on 'Synthetic'"
        ($Sections['Export-Mlp'] -join "`n") | Should -Match ('What if:.*' + [regex]::Escape($ExportPath))
    }

    It 'Compress-Mlp -WhatIf names the objective, the budget, the validation split and the stages' {
        $text = $Sections['Compress-Mlp'] -join ' '
        $text | Should -Match "What if: Compress model 'mlp-10-5-3-1' to its smallest operation count whose validation loss rises at most 0\.2"
        $text | Should -Match "validation: 10 % of the training split of 'Synthetic'"
        $text | Should -Match 'hidden neurons removed'
    }

    It 'left the model and the file system as they were' {
        ($Sections['State'] -join '') | Should -Be 'history=0 widths=10,5,3,1 nonzero=68 file=False'
        Test-Path $ExportPath | Should -BeFalse
    }
}
