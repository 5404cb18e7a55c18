# The same seeds give bit-identical weights and reports in separate processes.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force

    # One script, run in this process and in two fresh ones: seeded model, training, random
    # and magnitude sparsity, neuron pruning with fine-tuning, connection pruning; then the
    # bits of every weight and bias and the report as JSON.
    $script:Pipeline = @'
$data = Get-Dataset Synthetic -Seed 7
$model = New-Mlp -Layers 10, 24, 12, 1 -Seed 123 |
    Invoke-Training -Dataset $data -Epochs 3 -Seed 5 -Optimizer Adam -LearningRate 0.005 |
    Set-Sparsity -Sparsity 0.3 -Method Random -Seed 9 |
    Set-Sparsity -Sparsity 0.5 |
    Invoke-Pruning -Structure Neuron -Ratio 0.25 -FineTuneEpochs 2 -Seed 11 |
    Invoke-Pruning -Ratio 0.6
$hex = for ($i = 0; $i -lt $model.LayerCount; $i++) {
    $w = $model.GetWeight($i); $b = $model.GetBias($i)
    $wb = [byte[]]::new($w.Length * 4); [Buffer]::BlockCopy($w, 0, $wb, 0, $wb.Length)
    $bb = [byte[]]::new($b.Length * 4); [Buffer]::BlockCopy($b, 0, $bb, 0, $bb.Length)
    [Convert]::ToHexString($wb) + '/' + [Convert]::ToHexString($bb)
}
'WEIGHTS ' + ($hex -join '|')
# The file's bytes included: a file holds each step's time, written at a fixed width, so an
# unquantized model's file (plain metadata) has one length whenever its steps ran. (A quantized
# model's metadata is compressed, and times that differ may compress a byte or two apart.)
'REPORT ' + ($model | Get-CompressionReport | ConvertTo-Json -Depth 4 -Compress)
'FILEBYTES ' + ($model | Get-CompressionReport).FileBytes
'@

    function script:Get-Line([string[]] $Lines, [string] $Prefix) {
        $l = @($Lines | Where-Object { $_.StartsWith("$Prefix ") })
        if ($l.Count -ne 1) { throw "expected one '$Prefix' line, got $($l.Count):`n$($Lines -join "`n")" }
        $l[0].Substring($Prefix.Length + 1)
    }

    # the two fresh processes run side by side while this one runs the pipeline too
    $started = @((Start-FreshPwsh $Pipeline), (Start-FreshPwsh $Pipeline))
    $inProcess = @(Invoke-Expression $Pipeline)
    $script:Here = @{ Weights = (Get-Line $inProcess 'WEIGHTS'); Report = (Get-Line $inProcess 'REPORT') }
    $script:Runs = @($started | Receive-FreshPwsh)
}

Describe 'Seeds' {
    It 'both fresh processes ran the pipeline' {
        foreach ($r in $Runs) { $r.ExitCode | Should -Be 0 -Because ($r.Output -join "`n") }
    }

    It 'give bit-identical weights and biases in two processes and in this one' {
        $a = Get-Line $Runs[0].Output 'WEIGHTS'
        $b = Get-Line $Runs[1].Output 'WEIGHTS'
        $a.Length | Should -BeGreaterThan 100
        $a | Should -BeExactly $b
        $Here.Weights | Should -BeExactly $a
    }

    It 'give identical compression reports, metric included' {
        $a = Get-Line $Runs[0].Output 'REPORT'
        $b = Get-Line $Runs[1].Output 'REPORT'
        $a | Should -BeExactly $b
        $Here.Report | Should -BeExactly $a
        $report = $a | ConvertFrom-Json
        $report.PrunedWeights | Should -BeGreaterThan 0
        foreach ($r in $Runs) { [long](Get-Line $r.Output 'FILEBYTES') | Should -BeGreaterThan 0 }
        $report.Metric | Should -Not -BeNullOrEmpty
    }

    It 'differ when a seed differs' {
        $other = @(Invoke-Expression ($Pipeline -replace 'Invoke-Training -Dataset \$data -Epochs 3 -Seed 5', 'Invoke-Training -Dataset $data -Epochs 3 -Seed 6'))
        (Get-Line $other 'WEIGHTS') | Should -Not -Be $Here.Weights
    }
}

Describe 'Repeatability inside one process' {
    It 'evaluates a model to the same bits however memory is laid out (MKL_CBWR)' {
        $d = Get-Dataset Synthetic
        $m = New-Mlp -Layers 10, 5, 3, 1 -Seed 1 | Invoke-Training -Dataset $d -Optimizer SGD -LearningRate 0.01 -Epochs 10
        $losses = foreach ($i in 1..30) {
            $null = New-Mlp 64, (17 + $i), 10 -Seed $i   # allocations of other sizes in between
            '{0:R}' -f (Measure-Mlp $m -Repeat 1).Loss
        }
        @($losses | Sort-Object -Unique).Count | Should -Be 1
    }
}

Describe 'Training through the module''s own kernels' {
    # A ReLU model trains through the module's own kernels, whose sums run in one order whatever
    # the thread count, with LibTorch's operations in between on one thread: the same seeds give
    # the same bits with 1 and with 2 threads (LibTorch's own products summed differently per count).
    It 'gives bit-identical weights with SPARSEPRUNE_THREADS=1 and =2' {
        $script = @'
$data = Get-Dataset Digits
$m = New-Mlp -Layers 64,48,24,10 -Seed 3 | Invoke-Training -Dataset $data -Epochs 2 -Seed 4 -BatchSize 32
$hex = for ($i = 0; $i -lt $m.LayerCount; $i++) { $w = $m.GetWeight($i); $b = [byte[]]::new($w.Length * 4); [Buffer]::BlockCopy($w, 0, $b, 0, $b.Length); [Convert]::ToHexString($b) }
'THREADS ' + $m.History[-1].Settings['Threads']
'WEIGHTS ' + ($hex -join '|')
'@
        $one = Invoke-InFreshPwsh -Script $script -Environment @{ SPARSEPRUNE_THREADS = '1' }
        $two = Invoke-InFreshPwsh -Script $script -Environment @{ SPARSEPRUNE_THREADS = '2' }
        $one.ExitCode | Should -Be 0 -Because ($one.Output -join "`n")
        $two.ExitCode | Should -Be 0 -Because ($two.Output -join "`n")
        Get-Line $one.Output 'THREADS' | Should -Be '1'
        Get-Line $two.Output 'THREADS' | Should -Be '2'
        Get-Line $one.Output 'WEIGHTS' | Should -Be (Get-Line $two.Output 'WEIGHTS')
    }
}
