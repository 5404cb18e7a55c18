# Invoke-PruningSweep and Import-SweepResult: how -Grid becomes points, that every engine (this
# session, worker processes, shards merged from result files) gives the same results for the
# same seeds, that a lost worker's point runs elsewhere exactly once, and what users pipe the
# results into. The SSH engine has its own file (SweepRemote.Tests.ps1): it needs an sshd.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Data = Get-Dataset Digits
    $script:Model = New-Mlp -Layers 64, 32, 10 -Seed 4 -Name sweep-base | Invoke-Training -Dataset $Data -Epochs 4 -Seed 4
    # 8 points, each one training (pruning's and quantization's fine-tuning), so that equal
    # results mean equal training, not only equal one-shot selections.
    $script:Grid = [ordered]@{
        Ratio                         = 0.5, 0.8
        Structure                     = 'Connection', 'Neuron'
        Bits                          = 3, 6
        FineTuneEpochs                = 1
        'Quantization.FineTuneEpochs' = 1
    }

    # What must agree between engines: everything but where and how fast a point ran, and the
    # file's size (FileBytes, BaselineFileBytes), whose metadata holds the times of the history
    # records: their JSON drops trailing zeros and a compressed preamble compresses them
    # differently, so two runs' files differ by a few bytes.
    function script:Get-Comparable($Results) {
        @($Results | Sort-Object Point | ForEach-Object {
                $r = $_
                ($r.Point, $r.Settings, $r.Seed, $r.SweepId, $r.Points, $r.Metric.ToString('R'), $r.BaselineMetric.ToString('R'), $r.StoredBytes, $r.Weights,
                $r.NonZeroWeights, $r.Parameters, $r.Neurons, $r.Flops, $r.Threads, $r.Ratio, $r.Structure, $r.Bits) -join '|'
            })
    }
}

Describe 'Grid expansion' {
    It 'expands a hashtable of lists into the cartesian product, keys alphabetically, the first key slowest' {
        $r = $Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Structure = 'Neuron', 'Connection'; Ratio = 0.2, 0.4 }
        @($r).Count | Should -Be 4
        $r.Settings | Should -Be @('Ratio=0.2; Structure=Neuron', 'Ratio=0.2; Structure=Connection', 'Ratio=0.4; Structure=Neuron', 'Ratio=0.4; Structure=Connection')
        $r.Point | Should -Be @(0, 1, 2, 3)
        $r | ForEach-Object { $_.Points | Should -Be 4 }
    }

    It 'keeps the key order of an [ordered] hashtable' {
        $r = $Model | Invoke-PruningSweep -Dataset $Data -Grid ([ordered]@{ Structure = 'Neuron'; Ratio = 0.2, 0.4 })
        $r.Settings | Should -Be @('Structure=Neuron; Ratio=0.2', 'Structure=Neuron; Ratio=0.4')
    }

    It 'takes each hashtable of a list as one point, a list value as one array parameter, and scriptblocks as points' {
        $grid = @(
            @{ Ratio = 0.5; Layer = 0, 1 }
            { $_ | Set-Sparsity -Sparsity 0.5 }
        )
        $r = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $grid)
        $r.Count | Should -Be 2
        $r[0].Settings | Should -Be 'Layer=0,1; Ratio=0.5'
        $r[0].Layer | Should -Be '0,1'
        # The same as the cmdlet run directly with the array as its -Layer.
        $direct = $Model | Copy-Mlp | Invoke-Pruning -Dataset $Data -Ratio 0.5 -Layer 0, 1 -Seed 0 | Get-CompressionReport -Dataset $Data
        $r[0].Weights | Should -Be $direct.Weights
        $r[0].Metric | Should -Be $direct.Metric
        $r[1].Settings | Should -BeLike 'Script={*Set-Sparsity -Sparsity 0.5*}'
        $r[1].OverallSparsity | Should -BeGreaterOrEqual 0.5
        $r[1].PrunedWeights | Should -Be 0
    }

    It 'gives every point the sweep''s seed unless the point sets its own' {
        $r = $Model | Invoke-PruningSweep -Dataset $Data -Seed 11 -Grid @(@{ Ratio = 0.3 }, @{ Ratio = 0.3; Seed = 5 })
        $r.Seed | Should -Be @(11, 5)
    }

    It 'refuses <Case> before any work, leaving the model as it was' -ForEach @(
        @{ Case = 'an unknown key'; Grid = @{ Ratoi = 0.5 }; Id = 'UnknownSweepParameter' }
        @{ Case = '-Dataset in a point'; Grid = @{ Dataset = 'x' }; Id = 'UnknownSweepParameter' }
        @{ Case = 'an empty list'; Grid = @(); Id = 'EmptySweepGrid' }
        @{ Case = 'a key without values'; Grid = @{ Ratio = @() }; Id = 'InvalidSweepGrid' }
        @{ Case = 'a number as the grid'; Grid = 5; Id = 'InvalidSweepGrid' }
        @{ Case = 'an object as a value'; Grid = @{ Ratio = [pscustomobject]@{ a = 1 } }; Id = 'InvalidSweepGrid' }
    ) {
        $before = Get-ModelFingerprint $Model
        { $Model | Invoke-PruningSweep -Dataset $Data -Grid $Grid } | Should -Throw -ErrorId "$Id,SparsePrune.Cmdlets.InvokePruningSweepCommand"
        Get-ModelFingerprint $Model | Should -Be $before
    }

    It 'refuses a shard outside 0..n-1 and a result folder that does not exist' {
        { $Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.5 } -Shard 3/3 } | Should -Throw -ErrorId 'InvalidShard,*'
        { $Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.5 } -ResultPath (Join-Path $TestDrive 'nowhere') } | Should -Throw -ErrorId 'DirectoryNotFound,*'
    }
}

Describe 'The same results from every engine' {
    BeforeAll {
        # The session at the workers' thread count: results are bit-identical per thread count.
        $script:Serial = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $Grid -ThreadsPerWorker 1 -PassThru)
        $output = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $Grid -ThrottleLimit 2 -PassThru -Verbose 4>&1)
        $script:Workers = @($output | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] })
        $script:WorkersStarted = @($output | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Worker process * started*' })
        $script:ShardFolder = Join-Path $TestDrive 'shards'
        New-Item -ItemType Directory $ShardFolder | Out-Null
        $script:ShardOutput = foreach ($i in 0..2) { , @($Model | Invoke-PruningSweep -Dataset $Data -Grid $Grid -Shard "$i/3" -ResultPath $ShardFolder -ThreadsPerWorker 1) }
        $script:Merged = @(Import-SweepResult $ShardFolder)
    }

    It 'runs 8 points in the session, one result each, the model untouched' {
        $Serial.Count | Should -Be 8
        ($Serial.Point | Sort-Object) | Should -Be (0..7)
        $Serial | ForEach-Object { $_.Threads | Should -Be 1; $_.Worker | Should -Be 'session'; $_.Attempts | Should -Be 1 }
        @($Model.History).Count | Should -Be 1 -Because 'each point ran on its own copy'
    }

    It 'gives the same result objects over 2 worker processes, each with half the cores' {
        $Workers.Count | Should -Be 8
        Get-Comparable $Workers | Should -Be (Get-Comparable $Serial)
        # Both processes take points from one queue; which runs how many depends on timing, and on
        # a loaded machine one may finish every point before the other has started (the sweep then
        # ends without waiting for it). So: every worker that gave a result said it started.
        $Workers.Worker | ForEach-Object { $_ | Should -BeIn @('process 1 of 2', 'process 2 of 2') }
        $WorkersStarted.Count | Should -BeIn 1, 2
        foreach ($name in @($Workers.Worker | Sort-Object -Unique)) {
            @($WorkersStarted | Where-Object Message -Like "Worker $name started*").Count | Should -Be 1 -Because "$name gave results"
        }
        $Workers | ForEach-Object { $_.Threads | Should -Be ([Math]::Max(1, [Math]::Floor([Environment]::ProcessorCount / 2))) }
    }

    It 'gives bit-identical compressed models over workers (-PassThru)' {
        foreach ($p in 0..7) {
            $a = $Serial | Where-Object Point -EQ $p
            $b = $Workers | Where-Object Point -EQ $p
            Get-ModelFingerprint $b.Model | Should -Be (Get-ModelFingerprint $a.Model) -Because "point $p"
        }
    }

    It 'runs every third point per shard, and the merged shards equal the serial run' {
        $ShardOutput[0].Point | Should -Be @(0, 3, 6)
        $ShardOutput[1].Point | Should -Be @(1, 4, 7)
        $ShardOutput[2].Point | Should -Be @(2, 5)
        $Merged.Count | Should -Be 8
        Get-Comparable $Merged | Should -Be (Get-Comparable $Serial)
        @(Get-ChildItem $ShardFolder -Force).Name | Should -Be (0..7 | ForEach-Object { 'point-{0:D4}.json' -f $_ }) -Because 'one file per point and no temporary file left'
    }

    It 'ends its worker processes' {
        Get-ChildPwsh | Should -BeNullOrEmpty
    }

    It 'draws the results in Export-CompressionReport, named after their settings' {
        $html = Join-Path $TestDrive 'sweep.html'
        $Workers | Export-CompressionReport -Path $html
        $text = Get-Content $html -Raw
        $text | Should -Match 'point 0: Bits=3; FineTuneEpochs=1; Quantization.FineTuneEpochs=1; Ratio=0.5; Structure=Connection|point 0: Ratio=0.5; Structure=Connection; Bits=3'
        ([regex]::Matches($text, '<details')).Count | Should -Be 8
        $text | Should -Match 'Pareto'
    }
}

Describe 'Result files' {
    It 'does not run a point again whose result file is there, and refuses the files of another sweep' {
        $folder = Join-Path $TestDrive 'resume'
        New-Item -ItemType Directory $folder | Out-Null
        $first = @($Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.3, 0.6 } -Shard 0/2 -ResultPath $folder)
        $all = @($Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.3, 0.6 } -ResultPath $folder)
        $all.Count | Should -Be 2
        ($all | Where-Object Point -EQ 0).Seconds | Should -Be $first[0].Seconds -Because 'point 0 came from its file'
        { $Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.4, 0.6 } -ResultPath $folder } | Should -Throw -ErrorId 'SweepResultMismatch,*'
    }

    It 'warns of missing points, and refuses mixed sweeps and damaged files' {
        $folder = Join-Path $TestDrive 'partial'
        New-Item -ItemType Directory $folder | Out-Null
        $null = $Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.1, 0.2, 0.3 } -Shard 1/3 -ResultPath $folder
        $r = @(Import-SweepResult $folder -WarningVariable warned 3>$null)
        $r.Point | Should -Be @(1)
        "$warned" | Should -BeLike '*2 of 3 point(s)*0, 2*'

        $other = Join-Path $TestDrive 'other'
        New-Item -ItemType Directory $other | Out-Null
        $null = $Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.5, 0.9 } -Shard 0/2 -ResultPath $other
        Copy-Item (Join-Path $other 'point-0000.json') $folder
        { Import-SweepResult $folder } | Should -Throw -ErrorId 'MixedSweeps,*'

        Set-Content (Join-Path $folder 'point-0000.json') '{ "format": "sparseprune-sweep-result", "version": 1 }'
        { Import-SweepResult $folder } | Should -Throw -ErrorId 'CorruptSweepResult,*'
        Set-Content (Join-Path $folder 'point-0000.json') 'not json'
        { Import-SweepResult $folder } | Should -Throw -ErrorId 'CorruptSweepResult,*'
    }
}

Describe 'Shards in separate processes, as a batch scheduler runs them' {
    It 'agree on the sweep from the same model file, and merge into the session''s results' {
        $folder = Join-Path $TestDrive 'pods'
        New-Item -ItemType Directory $folder | Out-Null
        $file = Join-Path $TestDrive 'trained.spmlp'
        $Model | Export-Mlp -Path $file
        $grid = "@{ Ratio = 0.3, 0.6, 0.9; FineTuneEpochs = 1 }"
        foreach ($shard in '0/2', '1/2') {
            $run = Invoke-InFreshPwsh "Import-Mlp '$file' | Invoke-PruningSweep -Dataset (Get-Dataset Digits) -Grid $grid -Shard $shard -ResultPath '$folder' -ThreadsPerWorker 1 | Out-Null"
            $run.ExitCode | Should -Be 0 -Because ($run.Output -join "`n")
        }
        $merged = @(Import-SweepResult $folder)
        $session = @(Import-Mlp $file | Invoke-PruningSweep -Dataset (Get-Dataset Digits) -Grid (Invoke-Expression $grid) -ThreadsPerWorker 1)
        Get-Comparable $merged | Should -Be (Get-Comparable $session)
    }
}

Describe 'Failures' {
    It 'reports a failing point as a non-terminating error and runs the others' {
        $r = @($Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.5, 1.5 } -ErrorVariable failed -ErrorAction SilentlyContinue)
        $r.Point | Should -Be @(0)
        $failed.Count | Should -Be 1
        $failed[0].FullyQualifiedErrorId | Should -BeLike 'SweepPointFailed,*'
        "$($failed[0])" | Should -BeLike '*Point 1 (Ratio=1.5)*'
    }

    It 'gives the point of a worker that dies mid-point to another, once, and says so' {
        # The point's script ends its own worker process the first time it runs.
        $marker = Join-Path $TestDrive 'died-once'
        $killer = [scriptblock]::Create("if (-not (Test-Path '$marker')) { Set-Content '$marker' 'x'; [Environment]::Exit(9) }; `$_ | Set-Sparsity -Sparsity 0.7")
        $grid = @(@{ Ratio = 0.2 }, @{ Ratio = 0.4 }, $killer, @{ Ratio = 0.6 }, @{ Ratio = 0.8 })
        $r = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $grid -ThrottleLimit 2 -WarningVariable warned 3>$null)
        ($r.Point | Sort-Object) | Should -Be (0..4) -Because 'every point appears exactly once'
        $moved = $r | Where-Object Point -EQ 2
        $moved.Attempts | Should -Be 2
        $moved.Note | Should -BeLike 'worker process * of 2 was lost while running it*'
        $moved.OverallSparsity | Should -BeGreaterThan 0.69
        "$warned" | Should -BeLike '*was lost while running point 2*'
        Get-ChildPwsh | Should -BeNullOrEmpty
    }

    It 'ends with SweepWorkersLost when every worker is gone' {
        $killer = { [Environment]::Exit(9) }
        { $Model | Invoke-PruningSweep -Dataset $Data -Grid @($killer) -ThrottleLimit 1 -WarningAction SilentlyContinue } | Should -Throw -ErrorId 'SweepWorkersLost,*'
        Get-ChildPwsh | Should -BeNullOrEmpty
    }
}

Describe 'A sweep with -Teacher' {
    BeforeAll {
        # Another width than the model: distillation needs only the same inputs and outputs.
        $script:Teacher = New-Mlp -Layers 64, 48, 10 -Seed 9 -Name teacher | Invoke-Training -Dataset $Data -Epochs 4 -Seed 9
        $script:TeacherPrint = Get-ModelFingerprint $Teacher
        $script:KdGrid = [ordered]@{ Ratio = 0.5, 0.8; FineTuneEpochs = 1; Temperature = 2, 4 }
        $script:Distilled = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $KdGrid -Teacher $Teacher)
    }

    It 'distils every point: each result is what Invoke-Pruning -Teacher gives run by hand' {
        $Distilled.Count | Should -Be 4
        foreach ($r in $Distilled) {
            $direct = $Model | Copy-Mlp | Invoke-Pruning -Dataset $Data -Ratio $r.Ratio -FineTuneEpochs 1 -Temperature $r.Temperature -Teacher $Teacher -Seed 0 |
                Get-CompressionReport -Dataset $Data
            $r.Metric.ToString('R') | Should -Be $direct.Metric.ToString('R') -Because "point $($r.Point) ($($r.Settings)) distils as the cmdlet does"
        }
        Get-ModelFingerprint $Teacher | Should -BeExactly $TeacherPrint -Because 'the teacher is only read'
    }

    It 'gives the same results over worker processes, and a sweep id of its own' {
        $session = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $KdGrid -Teacher $Teacher -ThreadsPerWorker 1)
        $workers = @($Model | Invoke-PruningSweep -Dataset $Data -Grid $KdGrid -Teacher $Teacher -ThrottleLimit 2)
        Get-Comparable $workers | Should -Be (Get-Comparable $session)
        ($workers.Temperature | Sort-Object -Unique) | Should -Be @(2, 4)
        $other = New-Mlp -Layers 64, 16, 10 -Seed 10 | Invoke-Training -Dataset $Data -Epochs 1 -Seed 10
        $withOther = @($Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.5; FineTuneEpochs = 1 } -Teacher $other)
        $without = @($Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.5; FineTuneEpochs = 1 })
        $withOther[0].SweepId | Should -Not -Be $without[0].SweepId -Because 'result files of a sweep with another teacher must not be taken for this one'
        Get-ChildPwsh | Should -BeNullOrEmpty
    }

    It 'fails a point whose pruning does not train, saying what to give, and runs the others' {
        $r = @($Model | Invoke-PruningSweep -Dataset $Data -Grid @(@{ Ratio = 0.5 }, @{ Ratio = 0.5; FineTuneEpochs = 1 }) -Teacher $Teacher -ErrorVariable failed -ErrorAction SilentlyContinue)
        $r.Point | Should -Be @(1)
        $failed.Count | Should -Be 1
        "$($failed[0])" | Should -BeLike '*-FineTuneEpochs*'
    }

    It 'refuses Teacher as a grid key: the sweep gives it' {
        { $Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Teacher = 'x' } } | Should -Throw -ErrorId 'UnknownSweepParameter,*'
    }
}

Describe 'Results in the pipeline' {
    BeforeAll { $script:Results = @($Model | Invoke-PruningSweep -Dataset $Data -Grid @{ Ratio = 0.3, 0.7; Bits = 4 }) }

    It 'exports to CSV with one column per grid key' {
        $csv = Join-Path $TestDrive 'sweep.csv'
        $Results | Export-Csv $csv
        $rows = @(Import-Csv $csv)
        $rows.Count | Should -Be 2
        $rows[0].Ratio | Should -Be '0.3'
        $rows[0].Bits | Should -Be '4'
        [double]$rows[1].CompressionRatio | Should -Be $Results[1].CompressionRatio
        [double]$rows[1].WeightCompressionRatio | Should -Be $Results[1].WeightCompressionRatio
        [long]$rows[1].FileBytes | Should -Be $Results[1].FileBytes
        $Results[1].CompressionRatio | Should -Be ($Results[1].BaselineFileBytes / $Results[1].FileBytes)
        $rows[0].PSObject.Properties.Name | Should -Not -Contain 'Layers'
    }

    It 'converts to JSON and sorts by any column' {
        $json = $Results | ConvertTo-Json -Depth 3 | ConvertFrom-Json
        $json[0].Settings | Should -Be 'Bits=4; Ratio=0.3'
        ($Results | Sort-Object Metric)[0].Metric | Should -Be ([Math]::Min($Results[0].Metric, $Results[1].Metric))
        ($Results | Sort-Object CompressionRatio -Descending)[0].Ratio | Should -Be 0.7
    }
}
