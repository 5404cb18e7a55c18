# Compress-Mlp: the smallest (or fastest) model within a budget judged on a validation split
# carved from the training split. A search that meets its budget and says so (the test split's
# drop beside it), -WhatIf, a budget nothing meets, a stop (Ctrl+C) and -TimeLimit, -PassThru's
# candidates, -Objective Flops and Latency, a regression, bad input, and candidates made on sweep
# workers (-ThrottleLimit, -HostName on a private sshd) equal to the serial search's. Every
# expectation is read from the search's own output (its candidates, its History), never copied
# from a run.
# Searches are kept short (-Epochs 2 or 3, -FineTuneEpochs 1, a 64-32-10 model): what is tested is
# what the search does with what it finds, not how far it compresses (bench/ measures that).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Invariant = [Globalization.CultureInfo]::InvariantCulture
    $script:Digits = Get-Dataset Digits
    # Trained once; each test compresses a copy.
    $script:Trained = New-Mlp -Layers 64, 32, 10 -Seed 1 -Name digits | Invoke-Training -Dataset $Digits -Epochs 10 -Seed 1

    # The bytes Export-Mlp writes, with its save time fixed (the file stamps it): equal for equal models.
    $script:CanonicalBytes = [SparsePrune.Mlp].Assembly.GetType('SparsePrune.SpmlpFormat').GetMethod('CanonicalBytes', [Reflection.BindingFlags]'Static, NonPublic')
    function script:Get-CanonicalHash($Model) { [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([byte[]]$CanonicalBytes.Invoke($null, [object[]]@($Model.psobject.BaseObject)))) }

    # The candidates a 'Compress' record's note lists: '#3 Sparsity 6177 B cost 0.0223 within'.
    function script:Get-TriedFromNote([string] $Note) {
        $tried = ($Note -split '; tried ', 2)[1]
        @([regex]::Matches($tried, '#(\d+) (\w+) (\d+) B cost (-?[0-9.]+) (within|over)') | ForEach-Object {
                [pscustomobject]@{
                    Candidate = [int]$_.Groups[1].Value; Stage = $_.Groups[2].Value; FileBytes = [long]$_.Groups[3].Value
                    Cost = [double]::Parse($_.Groups[4].Value, $Invariant); Within = $_.Groups[5].Value -eq 'within'
                }
            })
    }

    # Runs Compress-Mlp on $Model in a second runspace (a console pipeline) and stops it, what
    # Ctrl+C does, as soon as it writes a progress record whose status matches $StopAt: that
    # record is written when that stage has begun, so what was finished before it is known.
    function script:Invoke-CompressAndStop($Model, [hashtable] $Arguments, [string] $StopAt) {
        $shell = [powershell]::Create()
        try {
            $null = $shell.AddScript({
                    param($ModulePath, $Model, $Arguments)
                    Import-Module $ModulePath
                    $Model | Compress-Mlp @Arguments
                }).AddArgument($script:ModulePath).AddArgument($Model).AddArgument($Arguments)
            $handle = $shell.BeginInvoke()
            $statuses = [Collections.Generic.List[string]]::new()
            $seen = 0; $reached = $false
            $wait = [Diagnostics.Stopwatch]::StartNew()
            # A hang guard, not a timing: the stop comes from the progress record.
            while (-not $reached -and -not $handle.IsCompleted -and $wait.Elapsed.TotalSeconds -lt 120) {
                $progress = $shell.Streams.Progress
                while ($seen -lt $progress.Count) {
                    $status = "$($progress[$seen].StatusDescription)"; $seen++
                    if ($statuses.Count -eq 0 -or $statuses[-1] -ne $status) { $statuses.Add($status) }
                    if ($status -match $StopAt) { $reached = $true; break }
                }
                if (-not $reached) { Start-Sleep -Milliseconds 20 }
            }
            $shell.Stop()
            [pscustomobject]@{ Reached = $reached; State = "$($shell.InvocationStateInfo.State)"; Statuses = @($statuses) }
        }
        finally { $shell.Dispose() }
    }
}

Describe 'Compress-Mlp -MaxAccuracyDrop 0.05 on Digits: a search that meets its budget and says so' {
    BeforeAll {
        $script:Model = $Trained | Copy-Mlp
        $script:HistoryBefore = $Model.History.Count
        $script:TestBefore = (Measure-Mlp $Model -Repeat 1).Accuracy
        $script:Candidates = @($Model | Compress-Mlp -MaxAccuracyDrop 0.05 -Epochs 3 -FineTuneEpochs 1 -Seed 1 -PassThru -WarningVariable warned -WarningAction SilentlyContinue)
        $script:Warned = @($warned)
        $script:Chosen = @($Candidates | Where-Object Chosen)
        $script:Last = $Model.History[-1]
        $script:Report = $Model | Get-CompressionReport
    }

    It 'writes one CompressionCandidate per candidate tried, numbered in order, exactly one of them Chosen' {
        $Candidates.Count | Should -BeGreaterThan 1
        foreach ($c in $Candidates) { $c | Should -BeOfType SparsePrune.CompressionCandidate }
        @($Candidates.Candidate) | Should -Be @(1..$Candidates.Count)
        $Chosen.Count | Should -Be 1
        $Warned | Should -BeNullOrEmpty -Because 'a budget met needs no warning'
    }

    It 'chose a candidate whose bound is within the budget, and the smallest file of those within it' {
        $c = $Chosen[0]
        $c.WithinBudget | Should -BeTrue
        $c.Bound | Should -BeLessOrEqual 0.05
        $c.Bound | Should -BeGreaterOrEqual $c.Cost -Because 'the bound is the measured cost plus a margin'
        $c.FileBytes | Should -Be (($Candidates | Where-Object WithinBudget | Measure-Object FileBytes -Minimum).Minimum)
        $c.PruningRatio | Should -BeGreaterThan 0
        foreach ($x in $Candidates) {
            $x.WithinBudget | Should -Be ($x.Bound -le 0.05) -Because "candidate $($x.Candidate) has bound $($x.Bound)"
            $x.MetricName | Should -Be 'Accuracy'
            $x.Cost | Should -BeLessThan ($x.ReferenceMetric - $x.ValidationMetric + 1e-12)
            $x.Cost | Should -BeGreaterThan ($x.ReferenceMetric - $x.ValidationMetric - 1e-12)
        }
        @($Candidates.ReferenceMetric | Sort-Object -Unique).Count | Should -Be 1 -Because 'every candidate is judged against the one reference'
        foreach ($x in $Candidates) { $x.LatencyMs | Should -BeNullOrEmpty -Because '-Objective FileSize (the default) measures no latency' }
    }

    It 'turned the model into the chosen candidate' {
        $c = $Chosen[0]
        $Report.PruningRatio | Should -BeGreaterThan 0
        $Report.PruningRatio | Should -BeGreaterThan ($c.PruningRatio - 1e-9)
        $Report.PruningRatio | Should -BeLessThan ($c.PruningRatio + 1e-9)
        $Model.Weights | Should -Be $c.Weights
        $bits = @($Model.Layers | ForEach-Object { $_.Bits } | Sort-Object -Unique)
        if ($null -eq $c.Bits) { $bits | Should -BeNullOrEmpty } else { $bits | Should -Be @($c.Bits) }
        (Measure-Mlp $Model -Dataset $Digits -Repeat 1).Accuracy | Should -Be $Report.Metric
    }

    It 'ends the History with a Compress record: the budget, the validation split, the search and the choice' {
        $Last.Operation | Should -Be 'Compress'
        $s = $Last.Settings
        $s['MaxAccuracyDrop'] | Should -Be 0.05
        "$($s['Objective'])" | Should -Be 'FileSize'
        $s['Confidence'] | Should -Be 0.95
        $s['Epochs'] | Should -Be 3
        $s['FineTuneEpochs'] | Should -Be 1
        $s.Contains('Teacher') | Should -BeFalse -Because 'without -Teacher nothing distils (a copy of the model as given was measured to hurt)'
        $s['Candidates'] | Should -Be $Candidates.Count
        $s['Chosen'] | Should -Be $Chosen[0].Candidate
        $Last.MetricName | Should -Be 'Accuracy'
        $Last.Metric | Should -Be $Chosen[0].ValidationMetric -Because 'the record keeps the validation metric the choice was made on'
        $Last.Note | Should -Match ('chose #' + $Chosen[0].Candidate + ' ')
        $Last.Note | Should -Match ([regex]::Escape($Chosen[0].Settings))
        @(Get-TriedFromNote $Last.Note).Count | Should -Be $Candidates.Count
    }

    It 'judged on a validation split carved from the training split, never the test split' {
        $s = $Last.Settings
        $fraction = [double]$s['ValidationFraction']
        $fraction | Should -BeGreaterThan 0
        $fraction | Should -BeLessThan 1
        $s['ValidationRows'] | Should -Be (Get-FloorCount $fraction $Digits.TrainCount)
        $s['ValidationRows'] | Should -Not -Be $Digits.TestCount
    }

    It 'records the chosen candidate''s steps before the Compress record, so a user can repeat them by hand' {
        $ops = @($Model.History | Select-Object -Skip $HistoryBefore | ForEach-Object Operation)
        $ops[-1] | Should -Be 'Compress'
        $ops[0] | Should -Be 'GradualPrune'
        $ops | Should -Contain 'Prune'
        if ($null -ne $Chosen[0].Bits) {
            # Weight sharing, then (a Lean candidate) the input offsets folded and perhaps the biases coded.
            $shared = [array]::IndexOf($ops, 'Quantize')
            $shared | Should -BeGreaterThan 0
            $ops[$shared + 1] | Should -Be 'FineTune'
            $lean = @($ops | Select-Object -Skip ($shared + 2) | Select-Object -SkipLast 1)
            if ($Chosen[0].Stage -eq 'Lean') { $lean[0] | Should -Be 'FoldInputScaling' } else { $lean | Should -BeNullOrEmpty }
            foreach ($op in $lean) { $op | Should -BeIn 'FoldInputScaling', 'QuantizeBiases' }
            ($Model.History | Where-Object Operation -EQ 'Quantize')[-1].Note | Should -Match "KMeans $($Chosen[0].Bits)-bit"
        }
        $ratio = Get-Ratio ($Model.History | Where-Object Operation -EQ 'Prune')[-1].Settings.ToString()
        $Chosen[0].Settings | Should -Match ("Ratio=$([regex]::Escape($ratio.ToString($Invariant))) ")
    }

    It 'reports the test split''s drop beside it: Get-CompressionReport, the model as given against the model returned' {
        $Report.MetricName | Should -Be 'Accuracy'
        $Report.BaselineMetric | Should -Be $TestBefore -Because 'the baseline is the model as given, on the test split'
        $drop = $Report.BaselineMetric - $Report.Metric
        # The budget holds on the validation split with 95 % confidence; the test split (360 rows,
        # one 0.28 points) is other rows. A drop past twice the budget means the search judged wrong.
        $drop | Should -BeLessOrEqual 0.10 -Because "validation bound $($Chosen[0].Bound) against the budget 0.05; test drop $drop"
    }

    It 'writes candidates that Export-Csv keeps and Import-Csv reads back, every column and value' {
        $csv = Join-Path $TestDrive 'candidates.csv'
        $Candidates | Export-Csv -Path $csv -NoTypeInformation
        $back = @(Import-Csv $csv)
        $back.Count | Should -Be $Candidates.Count
        $columns = 'Candidate', 'Stage', 'Settings', 'PruningRatio', 'NeuronRatio', 'Bits', 'Weights', 'Parameters', 'FileBytes', 'CompressionRatio',
        'LatencyMs', 'Flops', 'MetricName', 'ReferenceMetric', 'ValidationMetric', 'Cost', 'Bound', 'WithinBudget', 'Chosen', 'Seconds'
        foreach ($name in $columns) { $back[0].PSObject.Properties.Name | Should -Contain $name }
        for ($i = 0; $i -lt $back.Count; $i++) {
            [int]$back[$i].Candidate | Should -Be $Candidates[$i].Candidate
            $back[$i].Settings | Should -Be $Candidates[$i].Settings
            [long]$back[$i].FileBytes | Should -Be $Candidates[$i].FileBytes
            [double]::Parse($back[$i].Bound, $Invariant) | Should -Be $Candidates[$i].Bound
            $back[$i].Chosen | Should -Be "$($Candidates[$i].Chosen)"
        }
        @($back | Where-Object Chosen -EQ 'True').Count | Should -Be 1
    }

    It 'writes candidates that ConvertTo-Json takes' {
        $parsed = @($Candidates | ConvertTo-Json -Depth 2 | ConvertFrom-Json)
        $parsed.Count | Should -Be $Candidates.Count
        @($parsed | Where-Object Chosen).Count | Should -Be 1
        $parsed[0].FileBytes | Should -Be $Candidates[0].FileBytes
    }

    It 'hands its candidates to Export-CompressionReport, which draws each with its file ratio and validation metric' {
        $html = Join-Path $TestDrive 'search.html'
        $Candidates | Export-CompressionReport -Path $html
        $text = Get-Content $html -Raw
        foreach ($c in $Candidates) { $text | Should -Match ([regex]::Escape("candidate $($c.Candidate)")) }
        $text | Should -Match ([regex]::Escape("candidate $($Chosen[0].Candidate) (chosen)"))
        # A candidate read back from CSV has no counts: a clear error, no file.
        $csv = Join-Path $TestDrive 'back.csv'
        $Candidates | Export-Csv -Path $csv -NoTypeInformation
        { Import-Csv $csv | Export-CompressionReport -Path (Join-Path $TestDrive 'csv.html') } | Should -Throw -ErrorId 'UnsupportedReportInput*'
    }

    It 'shows the candidates as a table of the columns that compare them' {
        $text = $Candidates | Format-Table | Out-String -Width 200
        $header = @($text -split '\r?\n' | Where-Object { $_.Trim() })[0]
        ($header -split '\s+' | Where-Object { $_ }) | Should -Be @('Candidate', 'Stage', 'Pruned', 'Bits', 'FileBytes', 'Ratio', 'LatencyMs', 'Validation', 'Cost', 'Bound', 'Within', 'Chosen')
        @($text -split '\r?\n' | Where-Object { $_.Trim() }).Count | Should -Be (2 + $Candidates.Count) -Because "one line per candidate, nothing wrapped:`n$text"
        $text | Should -Not -Match '…'
        $chosenLine = @($text -split '\r?\n' | Where-Object { $_ -match "^\s*$($Chosen[0].Candidate) " })
        $chosenLine[0] | Should -Match ('{0:0.0} %' -f (100 * $Chosen[0].PruningRatio))
        $chosenLine[0] | Should -Match "\b$($Chosen[0].FileBytes)\b"
        ($Candidates | Format-List | Out-String -Width 200) | Should -Match 'Settings\s*:'
    }
}

Describe 'Compress-Mlp -WhatIf' {
    It 'says what it would do and changes nothing: weights, history, file bytes' {
        $model = $Trained | Copy-Mlp
        $state = Get-ModelState $model
        $bytes = Get-CanonicalHash $model
        $out = @($model | Compress-Mlp -MaxAccuracyDrop 0.01 -Epochs 2 -WhatIf)
        $out.Count | Should -Be 0 -Because 'a command that did nothing emits nothing'
        Assert-ModelUnchanged $model $state
        $model.Baseline | Should -BeNullOrEmpty
        Get-CanonicalHash $model | Should -Be $bytes -Because 'the file Export-Mlp would write is the same, byte for byte'
    }

    It 'refuses bad input under -WhatIf too (the checks come before the question)' {
        $model = $Trained | Copy-Mlp
        $err = Get-ThrownError { param($m) $m | Compress-Mlp -MaxAccuracyDrop 1 -WhatIf } -ArgumentList $model
        ($err.FullyQualifiedErrorId -split ',')[0] | Should -Be 'InvalidBudget'
    }
}

Describe 'Compress-Mlp with a budget no candidate meets' {
    BeforeAll {
        # Two classes far apart: the reference classifies every validation row right, so no
        # candidate can gain a row on it; its drop is 0 or more, and the paired bound adds a margin
        # above 0 at any confidence above 0.5 (it counts at least one changed row). A drop of 0 at
        # 99 % confidence therefore cannot be met, by any candidate, on any machine.
        $rows = for ($i = 0; $i -lt 400; $i++) {
            $side = if ($i % 2) { 1 } else { -1 }
            [pscustomobject]@{ a = $side * (2 + ($i * 37 % 100) / 100); b = ($i * 53 % 100) / 100 - 0.5; kind = if ($side -gt 0) { 'right' } else { 'left' } }
        }
        $script:Separable = $rows | ConvertTo-Dataset -TargetProperty kind
        $script:Model = New-Mlp 2, 8, 2 -Seed 1 | Invoke-Training -Dataset $Separable -Epochs 20 -Seed 1
        $script:State = Get-ModelState $Model
        $script:Bytes = Get-CanonicalHash $Model
        $script:Out = @($Model | Compress-Mlp -MaxAccuracyDrop 0 -Confidence 0.99 -Epochs 2 -FineTuneEpochs 1 -Seed 1 -PassThru -WarningVariable warned -WarningAction SilentlyContinue)
        $script:Warned = @($warned | ForEach-Object { "$_" })
    }

    It 'had a reference that classifies every validation row right (what makes the budget unmeetable)' {
        $Out.Count | Should -BeGreaterThan 0
        foreach ($c in $Out) { $c.ReferenceMetric | Should -Be 1 }
    }

    It 'tried candidates, none within the budget, none chosen' {
        foreach ($c in $Out) {
            $c.WithinBudget | Should -BeFalse
            $c.Bound | Should -BeGreaterThan 0
            $c.Chosen | Should -BeFalse
        }
    }

    It 'leaves the model as it was' {
        Assert-ModelUnchanged $Model $State
        Get-CanonicalHash $Model | Should -Be $Bytes
    }

    It 'warns, naming the least costly candidate found, its cost and its bound' {
        $least = $Out | Sort-Object Bound | Select-Object -First 1
        $w = @($Warned | Where-Object { $_ -match 'No candidate kept within the budget' })
        $w.Count | Should -Be 1 -Because ($Warned -join "`n")
        $w[0] | Should -Match "model '$([regex]::Escape($Model.Name))' is as it was"
        $w[0] | Should -Match ([regex]::Escape($least.Settings))
        $w[0] | Should -Match ([regex]::Escape("cost $($least.Cost.ToString('0.####', $Invariant)) (bound $($least.Bound.ToString('0.####', $Invariant)))"))
        $w[0] | Should -Match "of the $($Out.Count) tried"
    }

    It 'emits the model, unchanged, without -PassThru' {
        $m = $Model | Copy-Mlp
        $print = Get-ModelFingerprint $m
        $o = @($m | Compress-Mlp -MaxAccuracyDrop 0 -Confidence 0.99 -Epochs 1 -FineTuneEpochs 1 -Seed 2 -WarningAction SilentlyContinue)
        $o.Count | Should -Be 1
        [object]::ReferenceEquals($o[0], $m) | Should -BeTrue
        Get-ModelFingerprint $m | Should -BeExactly $print
    }
}

Describe 'Stopping Compress-Mlp (Ctrl+C)' {
    It 'after two candidates: the model becomes the best of them, and its History says it was stopped' {
        $model = $Trained | Copy-Mlp
        $before = $model.History.Count
        # -Confidence 0.5 puts no margin on the measured drop, and a drop of 0.99 allows anything
        # but a model right on fewer than 1 % of the rows: the first candidates are within it.
        $r = Invoke-CompressAndStop $model @{ MaxAccuracyDrop = 0.99; Confidence = 0.5; Epochs = 3; FineTuneEpochs = 1; Seed = 1 } '^Candidate 3:'
        $r.Reached | Should -BeTrue -Because "the search reached its third candidate before the stop; progress: $($r.Statuses -join ' | ')"
        $r.State | Should -Be 'Stopped'
        @($r.Statuses | Where-Object { $_ -match '^Candidate 1: Structure=' }).Count | Should -BeGreaterThan 0 -Because 'each candidate reports progress'
        @($r.Statuses | Where-Object { $_ -match '^Candidate 2: Structure=' }).Count | Should -BeGreaterThan 0

        $model.History.Count | Should -BeGreaterThan $before
        $last = $model.History[-1]
        $last.Operation | Should -Be 'Compress'
        $last.Note | Should -Match 'stopped \(Ctrl\+C\), the best so far kept'
        # What had finished: the two candidates before the third began (a third only if the stop
        # came after it finished; a candidate cut short is dropped).
        $tried = @(Get-TriedFromNote $last.Note)
        $tried.Count | Should -Be $last.Settings['Candidates']
        $tried.Count | Should -BeGreaterOrEqual 2
        $within = @($tried | Where-Object Within)
        $within.Count | Should -BeGreaterThan 0
        $last.Settings['Chosen'] | Should -BeIn @($within.Candidate)
        ($tried | Where-Object Candidate -EQ $last.Settings['Chosen']).FileBytes | Should -Be (($within | Measure-Object FileBytes -Minimum).Minimum)
        $model.Weights | Should -BeLessThan $model.Baseline.Weights -Because 'the candidates kept were pruned'
        @(Invoke-Mlp -Model $model -InputObject ([double[]]::new(64))).Count | Should -Be 1
        $model | Export-Mlp (Join-Path $TestDrive 'stopped.spmlp')
        (Import-Mlp (Join-Path $TestDrive 'stopped.spmlp')).History[-1].Note | Should -Match 'stopped'
    }

    It 'before any candidate finished: the model is as it was, and its History says the step was undone' {
        $model = $Trained | Copy-Mlp
        $print = Get-ModelFingerprint $model
        $before = $model.History.Count
        # The reference trains 300 epochs before the first candidate starts: the stop comes while it does.
        $r = Invoke-CompressAndStop $model @{ MaxAccuracyDrop = 0.99; Confidence = 0.5; Epochs = 300; TrainingBatchSize = 16; Seed = 1 } 'Epoch'
        $r.Reached | Should -BeTrue -Because "the reference's training had begun; progress: $($r.Statuses -join ' | ')"
        $r.State | Should -Be 'Stopped'
        Get-ModelFingerprint $model | Should -BeExactly $print
        $model.History.Count | Should -Be ($before + 1)
        $model.History[-1].Operation | Should -Be 'Stop'
        $model.History[-1].Note | Should -Match 'stopped'
    }
}

Describe 'Compress-Mlp -TimeLimit' {
    It 'a limit that passes before any candidate: the model as it was, emitted, and a warning' {
        $model = $Trained | Copy-Mlp
        $state = Get-ModelState $model
        # 1 ms, against a reference that trains 50 epochs before the first candidate can start.
        $out = @($model | Compress-Mlp -MaxAccuracyDrop 0.05 -Epochs 50 -TimeLimit 00:00:00.001 -Seed 1 -WarningVariable warned -WarningAction SilentlyContinue)
        $out.Count | Should -Be 1
        [object]::ReferenceEquals($out[0], $model) | Should -BeTrue
        Assert-ModelUnchanged $model $state
        $w = @($warned | ForEach-Object { "$_" } | Where-Object { $_ -match 'time limit' })
        $w.Count | Should -Be 1 -Because "$warned"
        $w[0] | Should -Match 'tried no candidate'
        $w[0] | Should -Match "model '$([regex]::Escape($model.Name))' is as it was"
    }

    It 'with -PassThru: no candidate to write' {
        $model = $Trained | Copy-Mlp
        $out = @($model | Compress-Mlp -MaxAccuracyDrop 0.05 -Epochs 50 -TimeLimit 00:00:00.001 -Seed 1 -PassThru -WarningAction SilentlyContinue)
        $out.Count | Should -Be 0
    }
}

Describe 'Compress-Mlp -Objective' {
    It 'Flops: chooses the candidate with the fewest operations of those within the budget, trying neurons too' {
        $model = $Trained | Copy-Mlp
        $c = @($model | Compress-Mlp -MaxAccuracyDrop 0.05 -Objective Flops -Epochs 3 -Seed 1 -PassThru -WarningAction SilentlyContinue)
        @($c.Stage | Sort-Object -Unique) | Should -Be @('Neurons', 'Sparsity') -Because 'operations fall with connections and with neurons removed'
        @($c | Where-Object Stage -EQ 'Bits') | Should -BeNullOrEmpty -Because 'weight sharing saves bytes, not operations'
        $within = @($c | Where-Object WithinBudget)
        $within.Count | Should -BeGreaterThan 0
        $chosen = @($c | Where-Object Chosen)
        $chosen.Count | Should -Be 1
        $chosen[0].Flops | Should -Be (($within | Measure-Object Flops -Minimum).Minimum)
        $model.History[-1].Settings['Objective'] | Should -Be 'Flops'
        ($model | Get-CompressionReport).Flops | Should -Be $chosen[0].Flops
    }

    It 'Latency: measures every candidate at -BatchSize, and chooses the fastest within the budget' {
        $model = $Trained | Copy-Mlp
        $c = @($model | Compress-Mlp -MaxAccuracyDrop 0.99 -Confidence 0.5 -Objective Latency -BatchSize 4 -Epochs 2 -Seed 1 -PassThru -WarningAction SilentlyContinue)
        $c.Count | Should -BeGreaterThan 0
        foreach ($x in $c) { $x.LatencyMs | Should -BeGreaterThan 0 -Because "candidate $($x.Candidate) was measured" }
        $chosen = @($c | Where-Object Chosen)
        $chosen.Count | Should -Be 1
        $chosen[0].LatencyMs | Should -Be (($c | Where-Object WithinBudget | Measure-Object LatencyMs -Minimum).Minimum)
        $model.History[-1].Settings['Objective'] | Should -Be 'Latency'
    }
}

Describe 'Compress-Mlp -MaxLossIncrease on a regression' {
    BeforeAll {
        $script:Synthetic = Get-Dataset Synthetic
        $script:Regressor = New-Mlp 10, 32, 1 -Seed 1 | Invoke-Training -Dataset $Synthetic -Epochs 10 -Seed 1
    }

    It 'judges the relative rise of the validation loss, and records the budget' {
        $model = $Regressor | Copy-Mlp
        # -Confidence 0.5: the bound is the measured rise, so the formula can be checked exactly.
        $c = @($model | Compress-Mlp -MaxLossIncrease 0.5 -Confidence 0.5 -Epochs 3 -FineTuneEpochs 1 -Seed 1 -PassThru -WarningAction SilentlyContinue)
        $c.Count | Should -BeGreaterThan 0
        foreach ($x in $c) {
            $x.MetricName | Should -Be 'Loss'
            $x.ReferenceMetric | Should -BeGreaterThan 0
            $rise = ($x.ValidationMetric - $x.ReferenceMetric) / $x.ReferenceMetric
            [Math]::Abs($x.Cost - $rise) | Should -BeLessThan 1e-9
            [Math]::Abs($x.Bound - $x.Cost) | Should -BeLessThan 1e-9 -Because 'at confidence 0.5 there is no margin'
            $x.WithinBudget | Should -Be ($x.Bound -le 0.5)
        }
        # 75 % of the connections cost this seed's search about 30 % more loss: some candidate is within.
        $within = @($c | Where-Object WithinBudget)
        $within.Count | Should -BeGreaterThan 0
        $chosen = @($c | Where-Object Chosen)
        $chosen.Count | Should -Be 1
        $chosen[0].FileBytes | Should -Be (($within | Measure-Object FileBytes -Minimum).Minimum)
        $model.History[-1].Operation | Should -Be 'Compress'
        $model.History[-1].Settings['MaxLossIncrease'] | Should -Be 0.5
        $model.History[-1].Settings.ContainsKey('MaxAccuracyDrop') | Should -BeFalse
        $model.History[-1].MetricName | Should -Be 'Loss'
        $report = $model | Get-CompressionReport
        $report.MetricName | Should -Be 'Loss'
        $report.PruningRatio | Should -BeGreaterThan 0
    }
}

Describe 'Compress-Mlp bad input' {
    BeforeAll {
        $script:Regressor = New-Mlp 10, 8, 1 -Seed 1 | Invoke-Training -Dataset (Get-Dataset Synthetic) -Epochs 1 -Seed 1
        $script:Quantized = $Trained | Copy-Mlp | Invoke-Quantization -Bits 4
        $script:Masked = $Trained | Copy-Mlp | Set-Sparsity 0.5
        $script:Iris = Get-Dataset Iris
        $script:IrisModel = New-Mlp 4, 8, 3 -Seed 1
        $script:Ctx = @{ Trained = $Trained; Regressor = $Regressor; Quantized = $Quantized; Masked = $Masked; Iris = $Iris; IrisModel = $IrisModel; Digits = $Digits }
    }

    It '<Case>: <ErrorId>' -ForEach @(
        @{ Case = '-MaxAccuracyDrop -0.1'; ErrorId = 'InvalidBudget'; Hint = 'at least 0'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop -0.1 } }
        @{ Case = '-MaxAccuracyDrop 1'; ErrorId = 'InvalidBudget'; Hint = 'below 1'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 1 } }
        @{ Case = '-MaxLossIncrease -0.5'; ErrorId = 'InvalidBudget'; Hint = '0 or more'; Model = 'Regressor'
            Act = { param($m, $c) $m | Compress-Mlp -MaxLossIncrease -0.5 } }
        @{ Case = '-MaxAccuracyDrop on a regression'; ErrorId = 'BudgetDoesNotFit'; Hint = '-MaxLossIncrease'; Model = 'Regressor'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 } }
        @{ Case = '-MaxLossIncrease on a classifier'; ErrorId = 'BudgetDoesNotFit'; Hint = '-MaxAccuracyDrop'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxLossIncrease 0.1 } }
        @{ Case = 'both budgets'; ErrorId = 'ParameterNotApplicable'; Hint = 'one budget'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -MaxLossIncrease 0.1 } }
        @{ Case = 'no budget'; ErrorId = 'BudgetRequired'; Hint = '-MaxAccuracyDrop'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp } }
        @{ Case = 'a model never trained, without -Dataset'; ErrorId = 'NoDataset'; Hint = '-Dataset'; Model = 'IrisModel'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 } }
        @{ Case = 'a quantized model'; ErrorId = 'ModelAlreadyQuantized'; Hint = 'before Invoke-Quantization'; Model = 'Quantized'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 } }
        @{ Case = 'a model with a Set-Sparsity mask'; ErrorId = 'ModelMasked'; Hint = 'Set-Sparsity'; Model = 'Masked'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 } }
        @{ Case = '-TimeLimit 0'; ErrorId = 'InvalidTimeLimit'; Hint = 'longer than zero'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -TimeLimit 0 } }
        @{ Case = '-TimeLimit -00:01:00'; ErrorId = 'InvalidTimeLimit'; Hint = 'longer than zero'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -TimeLimit ([TimeSpan]::FromMinutes(-1)) } }
        @{ Case = '-BatchSize without -Objective Latency'; ErrorId = 'ParameterNotApplicable'; Hint = '-TrainingBatchSize'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -BatchSize 8 } }
        @{ Case = 'a -Teacher for other inputs'; ErrorId = 'TeacherMismatch'; Hint = 'input'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -Teacher $c.IrisModel } }
        @{ Case = 'the model as its own -Teacher'; ErrorId = 'TeacherIsStudent'; Hint = 'Copy-Mlp'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -Teacher $m } }
        @{ Case = '-ValidationFraction 1'; ErrorId = 'InvalidValidationFraction'; Hint = 'below 1'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -ValidationFraction 1 } }
        @{ Case = '-Confidence 0.4'; ErrorId = 'InvalidConfidence'; Hint = '0.5'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -Confidence 0.4 } }
        @{ Case = '-Epochs 0'; ErrorId = 'InvalidEpochs'; Hint = 'at least 1'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -Epochs 0 } }
        @{ Case = '-Dataset with other features'; ErrorId = 'FeatureMismatch'; Hint = '64'; Model = 'Trained'
            Act = { param($m, $c) $m | Compress-Mlp -MaxAccuracyDrop 0.01 -Dataset $c.Iris } }
    ) {
        $model = $Ctx[$Model] | Copy-Mlp
        $state = Get-ModelState $model
        $err = Get-ThrownError -Action $Act -ArgumentList $model, $Ctx
        $err | Should -Not -BeNullOrEmpty -Because "$Case must fail"
        $err | Should -BeOfType System.Management.Automation.ErrorRecord
        ($err.FullyQualifiedErrorId -split ',')[0] | Should -BeExactly $ErrorId
        ($err.FullyQualifiedErrorId -split ',')[1] | Should -Be 'SparsePrune.Cmdlets.CompressMlpCommand'
        "$($err.CategoryInfo.Category)" | Should -Be 'InvalidArgument'
        $err.Exception | Should -BeOfType SparsePrune.SparsePruneException
        $err.Exception.Message | Should -BeLike "*$Hint*"
        Assert-ModelUnchanged $model $state
    }
}

Describe 'Compress-Mlp over the sweep engine (-ThrottleLimit, -HostName)' {
    BeforeAll {
        # A budget that some candidates meet and some do not, so the search bisects both ways and
        # reaches weight sharing and the lean stage; short runs, as above.
        $script:Search = @{ MaxAccuracyDrop = 0.2; Confidence = 0.6; Epochs = 3; FineTuneEpochs = 1; Seed = 3; PassThru = $true; WarningAction = 'SilentlyContinue' }
        $script:ThreadsBefore = [TorchSharp.torch]::get_num_threads()
        # The serial search at the workers' thread count (2 processes on this machine's cores): the
        # same seed and thread count give the same bits, in this session or in a worker process.
        $script:WorkerThreads = [Math]::Max(1, [Math]::Floor([Environment]::ProcessorCount / 2))
        $script:SerialModel = $Trained | Copy-Mlp
        $script:Serial = @($SerialModel | Compress-Mlp @Search -ThreadsPerWorker $WorkerThreads)
        $script:ParallelModel = $Trained | Copy-Mlp
        $out = @($ParallelModel | Compress-Mlp @Search -ThrottleLimit 2 -Verbose 4>&1)
        $script:Parallel = @($out | Where-Object { $_ -is [SparsePrune.CompressionCandidate] })
        $script:Started = @($out | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Worker process * started*' })
        $script:ThreadsAfter = [TorchSharp.torch]::get_num_threads()
        $script:Before = $Trained.History.Count
        function script:Get-Comparable($Candidates) {
            $Candidates | ForEach-Object { '{0} {1} {2} | {3} B {4} flops | {5:R} {6:R} {7:R} {8} {9}' -f $_.Candidate, $_.Stage, $_.Settings, $_.FileBytes, $_.Flops, $_.ValidationMetric, $_.Cost, $_.Bound, $_.WithinBudget, $_.Chosen }
        }
        function script:Get-ComparableHistory($Model) {
            $Model.History | Select-Object -Skip $Before | ForEach-Object { '{0} {1} | {2} {3:R} | {4}' -f $_.Operation, $_.Settings, $_.MetricName, $_.Metric, $_.Note }
        }
    }

    It 'searched the serial way through every stage: pruning both ways, weight sharing, the lean stage' {
        @($Serial.Stage | Sort-Object -Unique) | Should -Be @('Bits', 'Lean', 'Sparsity')
        @($Serial | Where-Object { $_.Stage -eq 'Sparsity' -and $_.WithinBudget }).Count | Should -BeGreaterThan 0
        @($Serial | Where-Object { $_.Stage -eq 'Sparsity' -and -not $_.WithinBudget }).Count | Should -BeGreaterThan 0
        @($Serial | Where-Object Chosen).Count | Should -Be 1
    }

    It 'lists the same candidates over 2 worker processes: order, settings, bytes, metrics, costs, choice' {
        $Parallel.Count | Should -Be $Serial.Count -Because 'a candidate made ahead that the search never asked for is not listed'
        Get-Comparable $Parallel | Should -Be (Get-Comparable $Serial)
    }

    It 'chooses a bit-identical model, with the same History' {
        Get-ModelFingerprint $ParallelModel | Should -BeExactly (Get-ModelFingerprint $SerialModel)
        $ParallelModel.History[-1].Operation | Should -Be 'Compress'
        $ParallelModel.History[-1].Note | Should -BeExactly $SerialModel.History[-1].Note
        $ParallelModel.History[-1].Settings.ToString() | Should -BeExactly $SerialModel.History[-1].Settings.ToString()
        Get-ComparableHistory $ParallelModel | Should -Be (Get-ComparableHistory $SerialModel) -Because 'the chosen candidate''s own steps (with their Threads) come first'
        @(Get-TriedFromNote $ParallelModel.History[-1].Note).Count | Should -Be $Parallel.Count
    }

    It 'ran on worker processes with the machine''s cores split between them, and ended them' {
        $Started.Count | Should -BeIn 1, 2 -Because 'a worker that started after the last candidate was asked for is not reported'
        foreach ($s in $Started) { $s.Message | Should -BeLike "* with $WorkerThreads LibTorch thread(s)." }
        Get-ChildPwsh | Should -BeNullOrEmpty
    }

    It 'gives the session its own LibTorch threads back' {
        $ThreadsAfter | Should -Be $ThreadsBefore
    }

    It 'refuses -ThrottleLimit 0 before anything runs, the model unchanged' {
        $model = $Trained | Copy-Mlp
        $state = Get-ModelState $model
        $err = Get-ThrownError { param($m) $m | Compress-Mlp -MaxAccuracyDrop 0.05 -ThrottleLimit 0 } -ArgumentList $model
        ($err.FullyQualifiedErrorId -split ',')[0] | Should -Be 'ParameterArgumentValidationError'
        "$($err.Exception.Message)" | Should -Match 'ThrottleLimit'
        Assert-ModelUnchanged $model $state
    }

    It 'fails with CompressionWorkersLost when no host can be reached, naming it; the model unchanged' {
        $model = $Trained | Copy-Mlp
        $state = Get-ModelState $model
        $print = Get-ModelFingerprint $model
        $err = Get-ThrownError { param($m) $m | Compress-Mlp -MaxAccuracyDrop 0.05 -Epochs 2 -HostName 'no-such-host.invalid' -WarningAction SilentlyContinue } -ArgumentList $model
        ($err.FullyQualifiedErrorId -split ',')[0] | Should -Be 'CompressionWorkersLost'
        $err.Exception.Message | Should -Match 'no-such-host\.invalid'
        $err.Exception.Message | Should -Match 'The model is as it was'
        Assert-ModelUnchanged $model $state
        Get-ModelFingerprint $model | Should -BeExactly $print
    }

    It '-TimeLimit over workers: the search ends at the limit and so do its worker processes' {
        $model = $Trained | Copy-Mlp
        $state = Get-ModelState $model
        # 1 ms: the limit passes while the worker processes start, before any candidate is made.
        $out = @($model | Compress-Mlp -MaxAccuracyDrop 0.05 -Epochs 50 -TimeLimit 00:00:00.001 -Seed 1 -ThrottleLimit 2 -WarningVariable warned -WarningAction SilentlyContinue)
        $out.Count | Should -Be 1
        [object]::ReferenceEquals($out[0], $model) | Should -BeTrue
        Assert-ModelUnchanged $model $state
        "$warned" | Should -Match 'time limit'
        Get-ChildPwsh | Should -BeNullOrEmpty
    }

    It 'stopped (Ctrl+C) over workers: keeps the best so far and ends its worker processes' {
        $model = $Trained | Copy-Mlp
        $r = Invoke-CompressAndStop $model @{ MaxAccuracyDrop = 0.99; Confidence = 0.5; Epochs = 3; FineTuneEpochs = 1; Seed = 1; ThrottleLimit = 2 } '^Candidate 3:'
        $r.Reached | Should -BeTrue -Because "progress: $($r.Statuses -join ' | ')"
        $r.State | Should -Be 'Stopped'
        $last = $model.History[-1]
        $last.Operation | Should -Be 'Compress'
        $last.Note | Should -Match 'stopped \(Ctrl\+C\), the best so far kept'
        @(Get-TriedFromNote $last.Note).Count | Should -BeGreaterOrEqual 2
        Get-ChildPwsh | Should -BeNullOrEmpty
    }
}

BeforeDiscovery {
    # A private sshd on 127.0.0.1 (tests/tools/Start-SshTestServer.ps1) stands in for the hosts.
    $script:SshServer = & (Join-Path $PSScriptRoot 'tools/Start-SshTestServer.ps1')
}

Describe 'Compress-Mlp -HostName: SSH workers on a private sshd' -Skip:(-not $SshServer.Available) {
    BeforeAll {
        $script:Server = & (Join-Path $PSScriptRoot 'tools/Start-SshTestServer.ps1')
        $hosts = @{ HostName = 'localhost', 'localhost'; UserName = $Server.UserName; KeyFilePath = $Server.KeyFilePath; SshOption = $Server.Options; ModulePath = $script:ModulePath }
        if ($Server.Port -and $Server.Port -ne 22) { $hosts.Port = $Server.Port }
        $search = @{ MaxAccuracyDrop = 0.2; Confidence = 0.6; Epochs = 2; FineTuneEpochs = 1; Seed = 4; PassThru = $true; WarningAction = 'SilentlyContinue'; ThreadsPerWorker = 1 }
        $script:SerialModel = $Trained | Copy-Mlp
        $script:Serial = @($SerialModel | Compress-Mlp @search)
        $script:RemoteModel = $Trained | Copy-Mlp
        $script:OverSsh = @($RemoteModel | Compress-Mlp @search @hosts)
    }

    It 'chooses the model the serial search chooses, with the same candidates and History note' {
        $OverSsh.Count | Should -Be $Serial.Count
        @($OverSsh | ForEach-Object { "$($_.Candidate) $($_.Settings) $($_.FileBytes) $($_.Bound.ToString('R'))" }) |
            Should -Be @($Serial | ForEach-Object { "$($_.Candidate) $($_.Settings) $($_.FileBytes) $($_.Bound.ToString('R'))" })
        Get-ModelFingerprint $RemoteModel | Should -BeExactly (Get-ModelFingerprint $SerialModel)
        $RemoteModel.History[-1].Note | Should -BeExactly $SerialModel.History[-1].Note
    }
}
