# Runspaces at once: different models train in parallel as they do one after the other; the same
# model given to two runspaces is never changed by both: the second gets ModelBusy, the model ends
# as one run alone leaves it, and readers share it.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
}

Describe 'Models in parallel runspaces' {
    It 'trains different models at once exactly as one after the other' {
        $serial = foreach ($seed in 1, 2) {
            New-Mlp -Layers 64, 32, 10 -Seed $seed | Invoke-Training -Dataset (Get-Dataset Digits) -Epochs 3 -Seed $seed
        }
        $module = $script:ModulePath
        $parallel = 1, 2 | ForEach-Object -ThrottleLimit 2 -Parallel {
            Import-Module $using:module
            New-Mlp -Layers 64, 32, 10 -Seed $_ | Invoke-Training -Dataset (Get-Dataset Digits) -Epochs 3 -Seed $_
        } | Sort-Object Seed
        $parallel.Count | Should -Be 2
        for ($k = 0; $k -lt 2; $k++) { Get-ModelFingerprint $parallel[$k] | Should -Be (Get-ModelFingerprint $serial[$k]) }
    }

    It 'lets one runspace change a model while another gets ModelBusy, and leaves it as one run alone would' {
        $data = Get-Dataset Digits
        $model = New-Mlp -Layers 64, 64, 10 -Seed 3 -Name shared
        $alone = $model | Copy-Mlp | Invoke-Training -Dataset $data -Epochs 150 -Seed 5
        $module = $script:ModulePath
        $sync = [hashtable]::Synchronized(@{ Training = $false })
        $outcomes = 'train', 'intrude' | ForEach-Object -ThrottleLimit 2 -Parallel {
            Import-Module $using:module
            $m = $using:model; $s = $using:sync; $d = $using:data
            if ($_ -eq 'train') {
                $s.Training = $true
                $null = $m | Invoke-Training -Dataset $d -Epochs 150 -Seed 5
                return 'trained'
            }
            while (-not $s.Training) { Start-Sleep -Milliseconds 10 }
            Start-Sleep -Milliseconds 300
            # A changing cmdlet and a reading one, while the other runspace trains.
            foreach ($attempt in { $m | Invoke-Pruning -Ratio 0.5 }, { $m | Get-CompressionReport }) {
                try { $null = & $attempt; 'not refused' }
                catch { $_.FullyQualifiedErrorId.Split(',')[0] + ': ' + $_.Exception.Message }
            }
        }
        $outcomes | Should -Contain 'trained'
        $refusals = @($outcomes | Where-Object { $_ -ne 'trained' })
        $refusals.Count | Should -Be 2
        $refusals | ForEach-Object { $_ | Should -BeLike 'ModelBusy: *Invoke-Training is changing model ''shared''*' }
        # The model is exactly what training alone made of it: nothing pruned, one Train record.
        Get-ModelFingerprint $model | Should -Be (Get-ModelFingerprint $alone)
        @($model.History | Where-Object Operation -EQ 'Prune').Count | Should -Be 0
        @($model.History | Where-Object Operation -EQ 'Train').Count | Should -Be 1
    }

    It 'lets runspaces read one model at once' {
        $model = New-Mlp -Layers 64, 32, 10 -Seed 4 | Invoke-Training -Dataset (Get-Dataset Digits) -Epochs 2
        $rows = @(, @(1..64 | ForEach-Object { ($_ % 7) / 7.0 }))
        $expected = Invoke-Mlp -Model $model -InputObject $rows[0]
        $module = $script:ModulePath
        $results = 1..4 | ForEach-Object -ThrottleLimit 4 -Parallel {
            Import-Module $using:module
            $r = $null
            foreach ($k in 1..20) { $r = Invoke-Mlp -Model $using:model -InputObject ($using:rows)[0] }
            $r
        }
        $results.Count | Should -Be 4
        # The same probabilities, to the bit, from every runspace.
        $expected.Probabilities.Count | Should -Be 10
        foreach ($r in $results) { ConvertTo-FloatHex -Values ([float[]]$r.Probabilities) | Should -Be (ConvertTo-FloatHex -Values ([float[]]$expected.Probabilities)) }
    }
}
