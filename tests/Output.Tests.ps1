# The objects the cmdlets emit work with PowerShell's formatting and export cmdlets, and a
# report's JSON has the field names of DESIGN.md.
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
    It '<What> goes through Format-Table, Format-List, Export-Csv and ConvertTo-Json' -ForEach @(
        @{ What = 'a compression report'; Get = { param($c) $c.Report }; Column = 'Weights' }
        @{ What = 'Get-CompressionReport -ByLayer rows'; Get = { param($c) $c.LayerRows }; Column = 'Weights' }
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

    It 'a report''s JSON has the DESIGN.md names with the report''s values, totals and layer rows' {
        $json = $Ctx.Report | ConvertTo-Json -Depth 4
        $o = $json | ConvertFrom-Json
        $counts = 'Weights', 'NonZeroWeights', 'Sparsity', 'BaselineWeights', 'PrunedWeights', 'PruningRatio', 'OverallSparsity',
        'Parameters', 'NonZeroParameters', 'Neurons', 'BaselineNeurons', 'DenseBytes', 'StoredBytes', 'CompressionRatio',
        'Flops', 'BaselineFlops'
        foreach ($name in $counts + 'MetricName', 'BaselineMetric', 'Metric', 'Layers') {
            $o.PSObject.Properties.Name | Should -Contain $name
        }
        foreach ($name in $counts + 'MetricName', 'BaselineMetric', 'Metric') { "$($o.$name)" | Should -Be "$($Ctx.Report.$name)" -Because $name }
        @($o.Layers).Count | Should -Be $Ctx.Model.LayerCount
        foreach ($row in $o.Layers) {
            foreach ($name in $counts) { $row.PSObject.Properties.Name | Should -Contain $name }
        }
        $o.Layers[0].Weights | Should -Be $Ctx.Report.Layers[0].Weights
    }

    It 'shows a model in the default table view with its name and widths' {
        $text = $Ctx.Model | Out-String -Width 200
        $text | Should -Match ([regex]::Escape($Ctx.Model.Name))
        $text | Should -Match ([regex]::Escape(($Ctx.Model.Widths -join ',')))
    }
}
