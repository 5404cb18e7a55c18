# Export-Mlp -Format SafeTensors and Import-Mlp: the same Invoke-Mlp outputs on raw rows after a
# round trip, the format by extension or -Format, -Force, -WhatIf, damaged files, plain state
# dicts; and PyTorch, running the loader exactly as docs/interop.md shows it, agreeing with
# Invoke-Mlp within 1e-5.
BeforeDiscovery {
    # Debian's python3-torch; build.ps1 test installs it where it can.
    $script:HasTorch = $false
    if (Test-Path /usr/bin/python3) {
        & /usr/bin/python3 -c 'import torch' 2>$null
        $script:HasTorch = $LASTEXITCODE -eq 0
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:IrisRows = Import-Csv (Join-Path $PSScriptRoot 'data/iris.csv')
    $script:IrisData = $IrisRows | ConvertTo-Dataset -TargetProperty species
    $script:Features = 'sepal_length', 'sepal_width', 'petal_length', 'petal_width'
    # trained (normalization to fold), masked, connection- and neuron-pruned
    $script:Model = New-Mlp 4, 16, 8, 3 -Seed 6 -Name 'iris-st' -Activation LeakyReLU |
        Invoke-Training -Dataset $IrisData -Epochs 10 -LearningRate 0.01 -Seed 1 |
        Set-Sparsity 0.5 |
        Invoke-Pruning -Ratio 0.3 |
        Invoke-Pruning -Structure Neuron -Ratio 0.25

    # The largest difference between two lists of predictions (probabilities or values).
    function Get-MaxDifference {
        param([object[]] $Expected, [object[]] $Actual)
        $Expected.Count | Should -Be $Actual.Count
        $worst = 0.0
        for ($i = 0; $i -lt $Expected.Count; $i++) {
            $a = if ($Expected[$i].PSObject.Properties['Probabilities']) { $Expected[$i].Probabilities } else { @($Expected[$i].Value) }
            $b = if ($Actual[$i].PSObject.Properties['Probabilities']) { $Actual[$i].Probabilities } else { @($Actual[$i].Value) }
            $a.Count | Should -Be $b.Count
            for ($k = 0; $k -lt $a.Count; $k++) { $worst = [Math]::Max($worst, [Math]::Abs($a[$k] - $b[$k])) }
        }
        $worst
    }

    # The first bytes of a file: SafeTensors has a JSON header ('{') after an 8-byte length.
    function Get-FileKind([string] $Path) {
        $b = [IO.File]::ReadAllBytes($Path)
        if ($b[0] -eq 0x89 -and [Text.Encoding]::ASCII.GetString($b, 1, 5) -eq 'SPMLP') { 'Spmlp' }
        elseif ($b.Length -gt 8 -and $b[8] -eq [byte][char]'{') { 'SafeTensors' }
        else { 'Other' }
    }
}

Describe 'Export-Mlp -Format SafeTensors and Import-Mlp' {
    BeforeAll {
        $script:Path = Join-Path $TestDrive 'iris.safetensors'
        $script:ExportOutput = @($Model | Export-Mlp -Path $Path -Format SafeTensors)
        $script:Loaded = Import-Mlp -Path $Path
    }

    It 'writes one SafeTensors file, emits nothing and leaves no temporary file' {
        $ExportOutput.Count | Should -Be 0
        Get-FileKind $Path | Should -Be 'SafeTensors'
        @(Get-ChildItem $TestDrive -Force | Where-Object Name -Like '*.tmp').Count | Should -Be 0
    }

    It 'gives the same Invoke-Mlp outputs on raw Import-Csv rows after Import-Mlp (within 1e-5)' {
        $a = @($IrisRows | Invoke-Mlp -Model $Model)
        $b = @($IrisRows | Invoke-Mlp -Model $Loaded)
        ($b.Label -join ',') | Should -Be ($a.Label -join ',')
        Get-MaxDifference $a $b | Should -BeLessThan 1e-5
    }

    It 'gives back name, activation, task, widths, class and feature names, with the normalization folded in' {
        $Loaded.Name | Should -Be 'iris-st'
        "$($Loaded.Activation)" | Should -Be 'LeakyReLU'
        "$($Loaded.Task)" | Should -Be 'Classification'
        ($Loaded.Widths -join ',') | Should -Be ($Model.Widths -join ',')
        ($Loaded.Widths -join ',') | Should -Be '4,12,6,3'
        ($Loaded.ClassNames -join ',') | Should -Be 'setosa,versicolor,virginica'
        ($Loaded.FeatureNames -join ',') | Should -Be ($Features -join ',')
        "$($Loaded.InputNormalization)" | Should -Be 'None'
        $Loaded.NonZeroWeights | Should -Be $Model.NonZeroWeights -Because 'masked and deleted weights are zeros in the file'
        $Loaded.History.Count | Should -Be 0 -Because 'history, masks and baseline are only in .spmlp files'
    }

    It 'measures the same accuracy with -Dataset (its rows are mapped back to raw values)' {
        $withData = Import-Mlp $Path -Dataset $IrisData
        [Math]::Abs((Measure-Mlp $withData -Repeat 1).Accuracy - (Measure-Mlp $Model -Dataset $IrisData -Repeat 1).Accuracy) |
            Should -BeLessOrEqual (1.0 / $IrisData.TestCount)
    }

    It 'takes the format from a .safetensors extension when -Format is not given; -Format decides when it is' {
        $byExtension = Join-Path $TestDrive 'by-extension.safetensors'
        $Model | Export-Mlp $byExtension
        Get-FileKind $byExtension | Should -Be 'SafeTensors'
        $spmlp = Join-Path $TestDrive 'by-default.spmlp'
        $Model | Export-Mlp $spmlp
        Get-FileKind $spmlp | Should -Be 'Spmlp'
        $forced = Join-Path $TestDrive 'forced.safetensors'
        $Model | Export-Mlp $forced -Format Spmlp
        Get-FileKind $forced | Should -Be 'Spmlp'
        $other = Join-Path $TestDrive 'model.bin'
        $Model | Export-Mlp $other -Format SafeTensors
        Get-FileKind $other | Should -Be 'SafeTensors'
        # Import-Mlp goes by content: the .safetensors-named .spmlp keeps its history.
        (Import-Mlp $forced).History.Count | Should -Be $Model.History.Count
        (Import-Mlp $other).History.Count | Should -Be 0
    }

    It 'refuses to replace a file without -Force (ModelFileExists, file untouched) and replaces it with -Force' {
        $p = Join-Path $TestDrive 'replace.safetensors'
        New-Mlp 4, 3 -Seed 1 -Name first | Export-Mlp $p
        $before = (Get-FileHash $p).Hash
        $e = Get-ThrownError { $Model | Export-Mlp $p -Format SafeTensors }
        $e | Should -Not -BeNullOrEmpty
        $e.FullyQualifiedErrorId | Should -BeLike 'ModelFileExists,*'
        "$($e.CategoryInfo.Category)" | Should -Be 'ResourceExists'
        (Get-FileHash $p).Hash | Should -Be $before
        $Model | Export-Mlp $p -Format SafeTensors -Force
        (Get-FileHash $p).Hash | Should -Not -Be $before
        (Import-Mlp $p).Name | Should -Be 'iris-st'
        @(Get-ChildItem $TestDrive -Force | Where-Object Name -Like '*.tmp').Count | Should -Be 0
    }

    It '-WhatIf writes no file, keeps an existing one with -Force, and says which format it would write' {
        $new = Join-Path $TestDrive 'whatif.safetensors'
        @($Model | Export-Mlp $new -WhatIf -PassThru).Count | Should -Be 0
        Test-Path $new | Should -BeFalse
        $existing = Join-Path $TestDrive 'whatif-existing.safetensors'
        New-Mlp 4, 3 -Seed 2 | Export-Mlp $existing
        $before = (Get-FileHash $existing).Hash
        $Model | Export-Mlp $existing -Force -WhatIf
        (Get-FileHash $existing).Hash | Should -Be $before
        # ShouldProcess writes the What-if text to the host: read it from a fresh pwsh.
        $run = Invoke-InFreshPwsh "New-Mlp 4, 3 -Seed 2 -Name preview | Export-Mlp '$new' -WhatIf"
        $run.ExitCode | Should -Be 0
        ($run.Output -join "`n") | Should -Match "What if: .*Export model 'preview' as SafeTensors"
        Test-Path $new | Should -BeFalse
    }

    It 'refuses a damaged SafeTensors file with a terminating error (<Case>)' -ForEach @(
        @{ Case = 'data cut short'; ErrorId = 'TruncatedModelFile'; Damage = { param($b) $b[0..($b.Length - 5)] } }
        @{ Case = 'a NaN weight'; ErrorId = 'CorruptModelFile'; Damage = { param($b) $n = [BitConverter]::ToInt32($b, 0); $c = [byte[]]$b.Clone(); [BitConverter]::GetBytes([float]::NaN).CopyTo($c, 8 + $n); $c } }
        @{ Case = 'bytes after the last tensor'; ErrorId = 'CorruptModelFile'; Damage = { param($b) [byte[]]($b + [byte[]](0, 0, 0, 0)) } }
        @{ Case = 'header length beyond the file'; ErrorId = 'TruncatedModelFile'; Damage = { param($b) $c = [byte[]]$b.Clone(); $c[6] = 1; $c } }
        @{ Case = 'dtype F16'; ErrorId = 'UnsupportedModelFile'; Damage = { param($b) $s = [Text.Encoding]::Latin1.GetString($b); [Text.Encoding]::Latin1.GetBytes($s.Replace('"dtype":"F32","shape":[12,4]', '"dtype":"F16","shape":[12,4]')) } }
    ) {
        $bytes = [IO.File]::ReadAllBytes($Path)
        $damaged = Join-Path $TestDrive "damaged-$($Case -replace '\W', '-').safetensors"
        [IO.File]::WriteAllBytes($damaged, [byte[]](& $Damage $bytes))
        $e = Get-ThrownError { Import-Mlp $damaged }
        $e | Should -Not -BeNullOrEmpty
        $e.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        $e.Exception.Message | Should -BeLike "*$damaged*"
        # the session goes on
        (Import-Mlp $Path).Name | Should -Be 'iris-st'
    }

    It 'imports a plain state dict (no SparsePrune metadata) only with -Activation' {
        # The exported file with its __metadata__ emptied: what torch's own savers would write.
        $bytes = [IO.File]::ReadAllBytes($Path)
        $n = [BitConverter]::ToInt32($bytes, 0)
        $header = [Text.Encoding]::UTF8.GetString($bytes, 8, $n) | ConvertFrom-Json -AsHashtable
        $header.Remove('__metadata__')
        $json = ($header.GetEnumerator() | Sort-Object { $_.Value.data_offsets[0] } | ForEach-Object {
            '"{0}":{{"dtype":"F32","shape":[{1}],"data_offsets":[{2},{3}]}}' -f $_.Key, ($_.Value.shape -join ','), $_.Value.data_offsets[0], $_.Value.data_offsets[1]
        }) -join ','
        $text = "{$json}"
        $text = $text.PadRight([Math]::Ceiling($text.Length / 8) * 8)
        $plain = Join-Path $TestDrive 'plain.safetensors'
        [IO.File]::WriteAllBytes($plain, [byte[]]([BitConverter]::GetBytes([uint64]$text.Length) + [Text.Encoding]::UTF8.GetBytes($text) + $bytes[(8 + $n)..($bytes.Length - 1)]))

        $e = Get-ThrownError { Import-Mlp $plain }
        $e.FullyQualifiedErrorId | Should -BeLike 'ActivationRequired,*'
        $e.Exception.Message | Should -Match '-Activation'
        $m = Import-Mlp $plain -Activation LeakyReLU
        $m.Name | Should -Be 'plain'
        ($m.Widths -join ',') | Should -Be '4,12,6,3'
        $rows = @($IrisRows | ForEach-Object { $r = $_; , [double[]]@($Features | ForEach-Object { [double]$r.$_ }) })
        Get-MaxDifference @($rows | Invoke-Mlp -Model $Model) @($rows | Invoke-Mlp -Model $m) | Should -BeLessThan 1e-5
        # A file that names its activation takes no other; a .spmlp file takes no -Activation.
        (Get-ThrownError { Import-Mlp $Path -Activation ReLU }).FullyQualifiedErrorId | Should -BeLike 'ActivationMismatch,*'
        (Get-ThrownError { Import-Mlp (Join-Path $TestDrive 'by-default.spmlp') -Activation ReLU }).FullyQualifiedErrorId | Should -BeLike 'ParameterNotApplicable,*'
    }
}

Describe 'PyTorch runs the exported file with the loader of docs/interop.md' {
    BeforeAll {
        # The loader block of docs/interop.md, verbatim: the one source of the lines users copy.
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../docs/interop.md')
        $match = [regex]::Match($readme, '<!-- safetensors-loader[^>]*-->\s*```python\r?\n(?<code>.*?)\r?\n```', 'Singleline')
        $script:Loader = $match.Groups['code'].Value
        $script:Harness = @'

# --- test harness, appended to the loader of docs/interop.md ---
import sys
rows = torch.tensor(json.load(open(sys.argv[1])), dtype=torch.float32)
results = {}
for path in sys.argv[2:]:
    model, meta = load_sparseprune(path)
    with torch.no_grad():
        out = model(rows[:, : model[0].in_features])
        if meta["task"] == "Classification":
            out = out.softmax(1)
    results[path] = {"outputs": out.double().tolist(), "modules": [type(m).__name__ for m in model], "repr": repr(model)}
print(json.dumps(results))
'@
    }

    It 'finds the loader block in docs/interop.md' {
        $Loader | Should -Match 'def load_sparseprune\(path\):'
        $Loader | Should -Match 'load_state_dict'
    }

    It 'gives Invoke-Mlp''s outputs for raw rows within 1e-5, for every activation and a regressor (skipped when /usr/bin/python3 cannot import torch)' -Skip:(-not $HasTorch) {
        $rows = @($IrisRows | Select-Object -First 40 | ForEach-Object { $r = $_; , [double[]]@($Features | ForEach-Object { [double]$r.$_ }) })
        $rowsPath = Join-Path $TestDrive 'rows.json'
        ConvertTo-Json -InputObject $rows -Depth 3 -Compress | Set-Content $rowsPath

        $models = [ordered]@{}
        foreach ($activation in 'ReLU', 'Tanh', 'Sigmoid', 'GELU', 'LeakyReLU') {
            $models[$activation] = New-Mlp 4, 10, 6, 3 -Activation $activation -Seed 11 |
                Invoke-Training -Dataset $IrisData -Epochs 5 -LearningRate 0.01 -Seed 2 |
                Set-Sparsity 0.4 | Invoke-Pruning -Structure Neuron -Ratio 0.3
        }
        $models['pruned'] = $Model
        # A regressor of petal_width from the other three measurements.
        $regressionData = $IrisRows | Select-Object sepal_length, sepal_width, petal_length, petal_width |
            ConvertTo-Dataset -TargetProperty petal_width -Task Regression
        $models['regressor'] = New-Mlp 3, 8, 1 -Activation GELU -Seed 12 | Invoke-Training -Dataset $regressionData -Epochs 5 -Seed 3

        $files = foreach ($key in $models.Keys) {
            $file = Join-Path $TestDrive "torch-$key.safetensors"
            $models[$key] | Export-Mlp $file -Format SafeTensors
            $file
        }
        $script = Join-Path $TestDrive 'loader.py'
        Set-Content -Path $script -Value ($Loader + "`n" + $Harness) -Encoding utf8NoBOM
        $out = & /usr/bin/python3 $script $rowsPath @files 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $results = ($out | Where-Object { $_ -is [string] -and $_.StartsWith('{') } | Select-Object -Last 1) | ConvertFrom-Json -AsHashtable

        $i = 0
        foreach ($key in $models.Keys) {
            $m = $models[$key]
            $r = $results[$files[$i++]]
            $r | Should -Not -BeNullOrEmpty -Because "PyTorch should have loaded $key"
            $inputs = @($rows | ForEach-Object { , [double[]]$_[0..($m.InputFeatures - 1)] })
            $expected = @($inputs | Invoke-Mlp -Model $m)
            $torch = @($r.outputs | ForEach-Object { if ($m.Task -eq 'Classification') { [pscustomobject]@{ Probabilities = [double[]]$_ } } else { [pscustomobject]@{ Value = [double]$_[0] } } })
            Get-MaxDifference $expected $torch | Should -BeLessThan 1e-5 -Because "$key in PyTorch: $($r.repr)"
            # Linear and activation modules numbered as the file's tensors are.
            $linear = @($r.modules | Where-Object { $_ -eq 'Linear' }).Count
            $linear | Should -Be $m.LayerCount
            @($r.modules).Count | Should -Be (2 * $m.LayerCount - 1)
            if ($key -in 'ReLU', 'Tanh', 'Sigmoid', 'GELU', 'LeakyReLU') { $r.modules[1] | Should -Be $key }
        }
        $results[$files[4]].repr | Should -Match 'LeakyReLU\(negative_slope=0\.01\)'
    }
}
