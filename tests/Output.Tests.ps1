# The objects the cmdlets emit work with PowerShell's formatting and export cmdlets, and a
# report's JSON has the field names of docs/contract.md.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $data = Get-Dataset Iris
    $model = New-Mlp 4, 8, 3 -Seed 2 | Invoke-Training -Dataset $data -Epochs 3 -Seed 1 | Set-Sparsity 0.5 | Invoke-Pruning -Ratio 0.3
    $script:Ctx = @{
        Model       = $model
        Data        = $data
        Report      = $model | Get-CompressionReport
        LayerRows   = @($model | Get-CompressionReport -ByLayer)
        Measurement = Measure-Mlp $model -Repeat 3
        Predictions = @(Import-Csv (Join-Path $PSScriptRoot 'data/iris.csv') | Select-Object -First 5 | Invoke-Mlp -Model $model)
    }
}

Describe 'Formatting and exporting' {
    BeforeAll {
        # A table as Format-Table prints it: the column names and one object per row. A column is a
        # run of positions that hold a character in some line of the table (header, rule or row):
        # columns are apart by a space in every line, and values such as '90.0 %' hold spaces.
        function script:ConvertFrom-FormattedTable([string] $Text) {
            $lines = @($Text -split '\r?\n' | Where-Object { $_.Trim() })
            $rule = [Array]::FindIndex([string[]]$lines, [Predicate[string]] { param($l) $l -match '^[\s-]+$' })
            $rule | Should -BeGreaterThan 0 -Because "a table has a header and a rule under it:`n$Text"
            $table = @($lines[($rule - 1)..($lines.Count - 1)])
            $used = [bool[]]::new(($table | Measure-Object -Property Length -Maximum).Maximum + 1)
            foreach ($l in $table) { for ($i = 0; $i -lt $l.Length; $i++) { if ($l[$i] -ne ' ') { $used[$i] = $true } } }
            $spans = [Collections.Generic.List[int[]]]::new()
            for ($i = 0; $i -lt $used.Count; $i++) {
                if ($used[$i] -and ($i -eq 0 -or -not $used[$i - 1])) { $spans.Add(@($i, $i)) }
                if ($used[$i]) { $spans[$spans.Count - 1][1] = $i + 1 }
            }
            $cut = { param([string] $line, [int[]] $span)
                if ($span[0] -ge $line.Length) { '' } else { $line.Substring($span[0], [Math]::Min($span[1], $line.Length) - $span[0]).Trim() }
            }
            $columns = @(foreach ($span in $spans) { & $cut $table[0] $span })
            $rows = @(foreach ($line in $table[2..($table.Count - 1)]) {
                    $o = [ordered]@{}
                    for ($k = 0; $k -lt $spans.Count; $k++) { $o[$columns[$k]] = & $cut $line $spans[$k] }
                    [pscustomobject]$o
                })
            [pscustomobject]@{ Columns = $columns; Rows = $rows }
        }
    }

    It '<What> goes through Format-Table, Format-List, Export-Csv and ConvertTo-Json' -ForEach @(
        @{ What = 'a compression report'; Get = { param($c) $c.Report }; Column = 'OverallSparsity' }
        @{ What = 'Get-CompressionReport -ByLayer rows'; Get = { param($c) $c.LayerRows }; Column = 'OverallSparsity' }
        @{ What = 'Measure-Mlp output'; Get = { param($c) $c.Measurement }; Column = 'LatencyMs' }
        @{ What = 'a data set'; Get = { param($c) $c.Data }; Column = 'Features' }
        @{ What = 'a model'; Get = { param($c) $c.Model }; Column = 'Name' }
        @{ What = 'model.Layers'; Get = { param($c) $c.Model.Layers }; Column = 'InFeatures' }
        @{ What = 'model.History'; Get = { param($c) $c.Model.History }; Column = 'Operation' }
        @{ What = 'Invoke-Mlp predictions'; Get = { param($c) $c.Predictions }; Column = 'Label' }
    ) {
        $objects = @(& $Get $Ctx)
        $objects.Count | Should -BeGreaterThan 0
        $errors = $null

        $table = $objects | Format-Table -ErrorAction Stop -ErrorVariable +errors | Out-String -Width 250
        $table | Should -Match $Column
        $table | Should -Not -Match 'Exception'
        $list = $objects | Format-List * -ErrorAction Stop -ErrorVariable +errors | Out-String -Width 250
        $list | Should -Match $Column
        $list | Should -Not -Match 'Exception'

        $csv = Join-Path $TestDrive ("{0}.csv" -f ($What -replace '\W', '_'))
        $objects | Export-Csv -Path $csv -NoTypeInformation -ErrorAction Stop -ErrorVariable +errors
        $back = @(Import-Csv $csv)
        $back.Count | Should -Be $objects.Count
        $back[0].PSObject.Properties.Name | Should -Contain $Column

        $json = $objects | ConvertTo-Json -Depth 3 -WarningAction SilentlyContinue -ErrorAction Stop -ErrorVariable +errors
        $parsed = @($json | ConvertFrom-Json)
        @($parsed | ForEach-Object { $_ }).Count | Should -Be $objects.Count
        @($errors).Count | Should -Be 0
    }

    It 'a report''s JSON has the docs/contract.md names with the report''s values, totals and layer rows' {
        $json = $Ctx.Report | ConvertTo-Json -Depth 4
        $o = $json | ConvertFrom-Json
        $counts = 'Weights', 'NonZeroWeights', 'Sparsity', 'BaselineWeights', 'PrunedWeights', 'PruningRatio', 'OverallSparsity',
        'Parameters', 'NonZeroParameters', 'Neurons', 'BaselineNeurons', 'DenseBytes', 'StoredBytes', 'WeightCompressionRatio',
        'Flops', 'BaselineFlops'
        # The file is the model's, not a layer's.
        $file = 'FileBytes', 'BaselineFileBytes', 'CompressionRatio'
        foreach ($name in $counts + $file + 'MetricName', 'BaselineMetric', 'Metric', 'Layers') {
            $o.PSObject.Properties.Name | Should -Contain $name
        }
        foreach ($name in $counts + $file + 'MetricName', 'BaselineMetric', 'Metric') { "$($o.$name)" | Should -Be "$($Ctx.Report.$name)" -Because $name }
        $o.FileBytes | Should -BeGreaterThan 0
        @($o.Layers).Count | Should -Be $Ctx.Model.LayerCount
        foreach ($row in $o.Layers) {
            foreach ($name in $counts) { $row.PSObject.Properties.Name | Should -Contain $name }
            foreach ($name in $file) { $row.PSObject.Properties.Name | Should -Not -Contain $name }
        }
        $o.Layers[0].Weights | Should -Be $Ctx.Report.Layers[0].Weights
    }

    It 'leads the report''s default view, its table and its -ByLayer rows with the overall sparsity, from the report''s own counts' {
        # 90 % of the connections deleted, the rest left non-zero: sparsity of the weights left is
        # 0.0 %, the overall sparsity 90 %; a user asks for the second.
        $pruned = $Ctx.Model | Copy-Mlp -Name 'pruned-90' | Invoke-Pruning -Ratio 0.9 -WarningAction SilentlyContinue
        $r = $pruned | Get-CompressionReport
        $overall = { param($row) '{0:0.0} %' -f (100 * (1 - $row.NonZeroWeights / $row.BaselineWeights)) }
        $left = { param($row) '{0:0.0} %' -f (100 * ($row.Weights - $row.NonZeroWeights) / $row.Weights) }
        (& $overall $r) | Should -Not -Be (& $left $r) -Because 'the two ratios must differ for the order to matter'

        # The default view: after the model and the data set, overall sparsity, the pruning ratio,
        # then the sparsity of the weights left, each saying what it counts.
        $lines = @(($r | Out-String -Width 200) -split '\r?\n' | Where-Object { $_ -match '^\w+\s*:' })
        $labels = @($lines | ForEach-Object { ($_ -split ':', 2)[0].Trim() })
        $labels[0..4] | Should -Be @('Model', 'Dataset', 'OverallSparsity', 'PruningRatio', 'Sparsity')
        $lines[2] | Should -Match ([regex]::Escape((& $overall $r)) + '\s+of the baseline weights, gone or zero')
        $lines[4] | Should -Match ([regex]::Escape((& $left $r)) + '\s+of the weights left, zero')

        # Format-Table: the model, then the overall sparsity, then the file and its ratio; -ByLayer:
        # layer and shape, then the same sparsities (a layer has no file).
        $table = ConvertFrom-FormattedTable ($r | Format-Table | Out-String -Width 200)
        $table.Columns[0..4] | Should -Be @('Model', 'OverallSparsity', 'Pruned', 'FileBytes', 'Compress')
        $table.Rows[0].Model | Should -Be 'pruned-90'
        $table.Rows[0].OverallSparsity | Should -Be (& $overall $r)
        $table.Rows[0].FileBytes | Should -Be "$($r.FileBytes)"
        $table.Rows[0].Compress | Should -Be ('{0:0.00} ×' -f ($r.BaselineFileBytes / $r.FileBytes))
        $rows = @($pruned | Get-CompressionReport -ByLayer)
        $byLayer = ConvertFrom-FormattedTable ($rows | Out-String -Width 200)
        $byLayer.Columns[0..4] | Should -Be @('Layer', 'Shape', 'OverallSparsity', 'Pruned', 'SparsityLeft')
        $byLayer.Rows.Count | Should -Be $rows.Count
        for ($i = 0; $i -lt $rows.Count; $i++) {
            $byLayer.Rows[$i].OverallSparsity | Should -Be (& $overall $rows[$i]) -Because "layer $i"
            $byLayer.Rows[$i].SparsityLeft | Should -Be (& $left $rows[$i]) -Because "layer $i"
        }
    }

    It 'shows a pruned model, its measurement and its sweep rows by their overall sparsity, not the sparsity of what is left' {
        $pruned = $Ctx.Model | Copy-Mlp -Name 'pruned-90' | Invoke-Pruning -Ratio 0.9 -WarningAction SilentlyContinue
        $want = '{0:0.0} %' -f (100 * (1 - $pruned.NonZeroWeights / $pruned.Baseline.Weights))
        $want | Should -Not -Be ('{0:0.0} %' -f (100 * $pruned.Sparsity)) -Because 'the two ratios must differ for the test to mean anything'
        $pruned.OverallSparsity | Should -Be (1 - $pruned.NonZeroWeights / $pruned.Baseline.Weights)

        $model = ConvertFrom-FormattedTable ($pruned | Out-String -Width 200)
        $model.Rows[0].OverallSparsity | Should -Be $want
        ($pruned | Format-List | Out-String -Width 200) | Should -Match ('OverallSparsity\s*:\s*' + [regex]::Escape($want) + ' of the original weights')
        $m = Measure-Mlp $pruned -Dataset $Ctx.Data
        $m.OverallSparsity | Should -Be $pruned.OverallSparsity
        (ConvertFrom-FormattedTable ($m | Out-String -Width 200)).Rows[0].OverallSparsity | Should -Be $want
        $sweep = @($Ctx.Model | Invoke-PruningSweep -Dataset $Ctx.Data -Grid @{ Ratio = 0.9 })
        (ConvertFrom-FormattedTable ($sweep | Out-String -Width 200)).Rows[0].OverallSparsity | Should -Be ('{0:0.0} %' -f (100 * $sweep[0].OverallSparsity))
    }

    It 'fits the report''s table and its -ByLayer rows in 80 columns, with a model name of 16 characters' {
        $model = $Ctx.Model | Copy-Mlp -Name 'sixteen-chars-ok'
        foreach ($case in @(
                @{ Text = ($model | Get-CompressionReport -Dataset $Ctx.Data | Format-Table | Out-String -Width 80); Rows = 1 }
                @{ Text = ($model | Get-CompressionReport -ByLayer | Out-String -Width 80); Rows = $model.LayerCount })) {
            # Out-String -Width 80 cuts what does not fit (with '…') or wraps it onto more lines.
            $case.Text | Should -Not -Match '…'
            @($case.Text -split '\r?\n' | Where-Object { $_.Trim() }).Count | Should -Be (2 + $case.Rows) -Because $case.Text
            (ConvertFrom-FormattedTable $case.Text).Rows[0].PSObject.Properties.Value | Should -Not -Contain ''
        }
    }

    It 'shows a model in the default table view with its name and widths' {
        $text = $Ctx.Model | Out-String -Width 200
        $text | Should -Match ([regex]::Escape($Ctx.Model.Name))
        $text | Should -Match ([regex]::Escape(($Ctx.Model.Widths -join ',')))
    }
}
