# README.md as a user meets it after the install steps: every ```powershell block runs as
# written, in order (the seed pipeline first, then the tour), in ONE fresh pwsh started in an
# empty temporary folder, where SparsePrune and Pester 6 are found by name on PSModulePath
# (nothing is imported by path). Each block's output and the files it writes are checked against
# what the README says of them, and so is the sample output in the ```text block after a block.
# Blocks in a plain ``` fence are not run: they install from the gallery (not reachable here),
# build from source, or need root (apt-get); a test below keeps those fences to such commands.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
    $script:Readme = Get-Content -Raw (Join-Path $RepoRoot 'README.md')

    # Every fenced block: its language tag and its code.
    $fenceMatches = [regex]::Matches($Readme, '(?ms)^```(?<lang>[^\r\n]*)\r?\n(?<code>.*?)\r?\n```[ \t]*$')
    $script:Fences = @($fenceMatches | ForEach-Object { [pscustomobject]@{ Lang = $_.Groups['lang'].Value.Trim(); Code = $_.Groups['code'].Value } })
    # A ```text block right after a run block is that block's sample output.
    $script:Blocks = [Collections.Generic.List[object]]::new()
    foreach ($f in $Fences) {
        if ($f.Lang -eq 'powershell') { $Blocks.Add([pscustomobject]@{ Code = $f.Code; Sample = $null; Output = @() }) }
        elseif ($f.Lang -eq 'text' -and $Blocks.Count) { $Blocks[$Blocks.Count - 1].Sample = $f.Code }
    }

    # A user's folder: empty, under the temp folder. The child's modules: the staged module's
    # parent folder (which holds a SparsePrune folder) and a copy of Pester 6.2.0 as Pester/6.2.0.
    $script:Root = New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "sparseprune-readme-$([guid]::NewGuid().ToString('N'))")
    $script:Work = New-Item -ItemType Directory -Path (Join-Path $Root 'work')
    $modules = New-Item -ItemType Directory -Path (Join-Path $Root 'modules/Pester')
    $packages = & (Join-Path $PSScriptRoot '../tools/Restore-BuildTools.ps1')
    Copy-Item -Recurse -LiteralPath (Join-Path $packages 'pester/6.2.0/tools') -Destination (Join-Path $modules '6.2.0')
    $script:StagedFolder = Split-Path $ModulePath
    (Split-Path -Leaf $StagedFolder) | Should -Be 'SparsePrune' -Because 'Import-Module SparsePrune finds a folder of that name'
    $childModulePath = @((Split-Path $StagedFolder), (Split-Path $modules)) + @($env:PSModulePath -split [IO.Path]::PathSeparator | Where-Object { $_ })
    $childModulePath = $childModulePath -join [IO.Path]::PathSeparator

    # One script: each block dot-sourced in the script's scope (its variables stay for the next),
    # its output formatted as the console would, after a marker line.
    $script:Marker = '##### README BLOCK '
    $childScript = [Text.StringBuilder]::new("`$ErrorActionPreference = 'Stop'`n`$PSStyle.OutputRendering = 'PlainText'`n")
    for ($i = 0; $i -lt $Blocks.Count; $i++) {
        $null = $childScript.Append("'$Marker$i'`n. {`n$($Blocks[$i].Code)`n} | Out-String -Stream -Width 160`n")
    }
    $null = $childScript.Append("'${Marker}END'`n")
    $file = Join-Path $Root 'readme-blocks.ps1'
    Set-Content -LiteralPath $file -Value $childScript.ToString()

    $psi = [Diagnostics.ProcessStartInfo]::new($PwshCommand[0])
    foreach ($a in @($PwshCommand | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $file)) { $psi.ArgumentList.Add($a) }
    $psi.WorkingDirectory = $Work.FullName
    $psi.Environment['PSModulePath'] = $childModulePath
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $p = [Diagnostics.Process]::Start($psi)
    $outTask = $p.StandardOutput.ReadToEndAsync(); $errTask = $p.StandardError.ReadToEndAsync()
    # A hang guard, not a measure of speed: the blocks take seconds.
    if (-not $p.WaitForExit(600000)) { $p.Kill($true); throw "The README's blocks did not finish within 600 s (process $($p.Id))." }
    $p.WaitForExit()
    $script:ExitCode = $p.ExitCode
    $script:Stdout = @($outTask.GetAwaiter().GetResult() -split '\r?\n')
    $script:Stderr = @($errTask.GetAwaiter().GetResult() -split '\r?\n' | Where-Object { $_ -ne '' })
    $script:Everything = ($Stdout + $Stderr) -join "`n"

    # Each block's output lines: those after its marker.
    $current = -1; $lines = @{}
    foreach ($line in $Stdout) {
        if ($line.StartsWith($Marker)) { $current = $line.Substring($Marker.Length); $lines[$current] = [Collections.Generic.List[string]]::new(); continue }
        if ($current -ne -1) { $lines[$current].Add($line) }
    }
    for ($i = 0; $i -lt $Blocks.Count; $i++) { if ($lines.ContainsKey("$i")) { $Blocks[$i].Output = @($lines["$i"]) } }
    $script:Finished = $lines.ContainsKey('END')
    # This process reads the files the blocks wrote.
    Import-Module $ModulePath

    # The run blocks that hold a piece of code, and the output of the first of them.
    function script:Get-BlockWith([string] $Pattern) { @($Blocks | Where-Object { $_.Code -match $Pattern }) }
    function script:Get-OutputOf([string] $Pattern) {
        $b = Get-BlockWith $Pattern
        $b.Count | Should -BeGreaterThan 0 -Because "a powershell block of README.md must hold /$Pattern/"
        $b[0].Output -join "`n"
    }
}

AfterAll {
    if ($script:Root) { Remove-Item -LiteralPath $script:Root -Recurse -Force -ErrorAction Ignore }
}

Describe 'README.md' {
    It 'runs every powershell block, in order, in one session, without an error or a warning' {
        $Blocks.Count | Should -BeGreaterThan 5
        $ExitCode | Should -Be 0 -Because $Everything
        $Finished | Should -BeTrue -Because "the last block must end the script: $Everything"
        $Stderr | Should -BeNullOrEmpty -Because $Everything
        @($Stdout -match '^\s*WARNING:') | Should -BeNullOrEmpty -Because 'an example as written should not need to be warned about'
    }

    It 'opens with the seed pipeline, which runs before any Import-Module (the module loads by name)' {
        $first = $Blocks[0]
        $first.Code | Should -Match 'New-Mlp -Layers 64,128,64,10 -Seed 1'
        $first.Code | Should -Not -Match 'Import-Module'
        $out = $first.Output -join "`n"
        $out | Should -Match '(?m)^OverallSparsity\s+:\s+\d+\.\d %'
        $out | Should -Match '(?m)^Neurons\s+:\s+202 → \d+'
        $out | Should -Match '(?m)^Metric\s+:\s+Accuracy \d'
    }

    It 'starts the tour with Import-Module SparsePrune, by name, and imports nothing by path' {
        $Blocks[1].Code -split '\r?\n' | Select-Object -First 1 | Should -Be 'Import-Module SparsePrune'
        @(Get-BlockWith 'Import-Module\s+\S*[\\/]') | Should -BeNullOrEmpty -Because 'a user who installed the module imports it by name'
    }

    It 'tours <Step>' -ForEach @(
        @{ Step = 'an embedded data set'; Pattern = 'Get-Dataset (Digits|Iris)' }
        @{ Step = 'training'; Pattern = 'New-Mlp[^\n]*\n?[^\n]*Invoke-Training' }
        @{ Step = 'sparsifying'; Pattern = 'Set-Sparsity' }
        @{ Step = 'pruning'; Pattern = 'Invoke-Pruning' }
        @{ Step = 'the report'; Pattern = 'Get-CompressionReport' }
        @{ Step = 'measuring'; Pattern = 'Measure-Mlp' }
        @{ Step = 'quantizing'; Pattern = 'Invoke-Quantization' }
        @{ Step = 'saving and loading'; Pattern = 'Import-Mlp' }
        @{ Step = 'ONNX'; Pattern = 'Export-Mlp \S+\.onnx -Format Onnx' }
        @{ Step = 'the HTML report'; Pattern = 'Export-CompressionReport \S+\.html' }
        @{ Step = 'a CSV it writes itself'; Pattern = '(?s)Export-Csv (\S+\.csv).*Import-Dataset \1' }
        @{ Step = 'predicting'; Pattern = 'Invoke-Mlp' }
        @{ Step = 'a Pester test'; Pattern = '(?s)Should-HaveSparsity.*Should-HaveAccuracy.*Invoke-Pester' }
    ) {
        @(Get-BlockWith $Pattern | Where-Object { $_ -ne $Blocks[0] }) | Should -Not -BeNullOrEmpty -Because "the tour's powershell blocks must show $Step (/$Pattern/)"
    }

    It 'shows what Set-Sparsity -WhatIf would change, and a report after sparsifying and after pruning' {
        $out = Get-OutputOf 'Set-Sparsity -Sparsity [\d.]+ -WhatIf'
        $out | Should -Match 'What if: Set sparsity'
        $out | Should -Match '(?m)^\s*layer 0 \(64x128\): \d+ of 8192 weights zero'
        @([regex]::Matches($out, '(?m)^OverallSparsity\s+:')).Count | Should -Be 2
        $out | Should -Match '(?m)^OverallSparsity\s+:\s+50\.0 %'
        $out | Should -Match '(?m)^\s*Layer\s+Shape\s+OverallSparsity\s+Pruned\s+SparsityLeft'
    }

    It 'prints the sample output the README shows after a block' {
        $withSample = @($Blocks | Where-Object Sample)
        $withSample | Should -Not -BeNullOrEmpty
        foreach ($b in $withSample) {
            foreach ($line in @($b.Sample -split '\r?\n' | Where-Object { $_.Trim() -and $_.Trim() -ne '...' })) {
                @($b.Output | ForEach-Object TrimEnd) | Should -Contain $line.TrimEnd() -Because "README.md shows '$line' after the block that begins '$(($b.Code -split '\r?\n')[0])'"
            }
        }
    }

    It 'measures accuracy, and latency at each batch size' {
        $out = Get-OutputOf 'Measure-Mlp -Model \$dense'
        $out | Should -Match '(?m)^Model\s+Dataset\s+Accuracy\s+Loss'
        $out | Should -Match '(?m)^digits-dense\s+Digits\s+\d+\.\d %'
        $out = Get-OutputOf '-Latency -BatchSize 1,256'
        $out | Should -Match '(?m)^\S+\s+1\s+[\d.]+'
        $out | Should -Match '(?m)^\S+\s+256\s+[\d.]+'
    }

    It 'quantizes to 4 bits, which the report shows as a higher compression ratio than pruning alone' {
        $ratio = { param($Text) @([regex]::Matches($Text, '(?m)^CompressionRatio\s+:\s+([\d.]+) ×') | ForEach-Object { [double]::Parse($_.Groups[1].Value, [Globalization.CultureInfo]::InvariantCulture) }) }
        $quantized = & $ratio (Get-OutputOf 'Invoke-Quantization -Bits 4')
        $pruned = & $ratio (Get-OutputOf 'Invoke-Pruning -Ratio [\d.]+ -FineTuneEpochs')
        (Get-OutputOf 'Invoke-Quantization -Bits 4') | Should -Match '(?m)^Model\s+:\s+digits-4bit'
        $quantized.Count | Should -Be 1
        $pruned.Count | Should -BeGreaterThan 0
        $quantized[0] | Should -BeGreaterThan $pruned[-1]
    }

    It 'writes <Name> where the user is' -ForEach @(
        @{ Name = 'the .spmlp file'; Pattern = 'Export-Mlp (\S+\.spmlp)' }
        @{ Name = 'the ONNX file'; Pattern = 'Export-Mlp (\S+\.onnx)' }
        @{ Name = 'the SafeTensors file'; Pattern = 'Export-Mlp (\S+\.safetensors)' }
        @{ Name = 'the HTML report'; Pattern = 'Export-CompressionReport (\S+\.html)' }
        @{ Name = 'the sweep''s CSV'; Pattern = 'Invoke-PruningSweep[\s\S]*Export-Csv (\S+\.csv)' }
        @{ Name = 'the data CSV'; Pattern = 'Export-Csv (\S+\.csv)\s*\r?\n\S+ = Import-Dataset' }
        @{ Name = 'the Pester test'; Pattern = 'Set-Content (\S+\.Tests\.ps1)' }
    ) {
        $b = Get-BlockWith $Pattern
        $b | Should -Not -BeNullOrEmpty -Because "README.md must hold /$Pattern/"
        $path = Join-Path $Work ([regex]::Match($b[0].Code, $Pattern).Groups[1].Value)
        Test-Path -LiteralPath $path -PathType Leaf | Should -BeTrue -Because "the tour writes $path"
        (Get-Item -LiteralPath $path).Length | Should -BeGreaterThan 0
    }

    It 'saves a model that reads back alike from .spmlp, ONNX and SafeTensors' {
        $spmlp = Import-Mlp (Join-Path $Work 'digits.spmlp')
        ($spmlp | Get-CompressionReport).OverallSparsity | Should -BeGreaterOrEqual 0.79
        $onnx = Import-Mlp (Join-Path $Work 'digits.onnx')
        $safe = Import-Mlp (Join-Path $Work 'digits.safetensors')
        $onnx.Widths | Should -Be $spmlp.Widths
        $safe.Widths | Should -Be $spmlp.Widths
        $row = , [double[]](0..63 | ForEach-Object { $_ % 17 })
        $expected = (Invoke-Mlp $spmlp -InputObject $row).Label
        (Invoke-Mlp $onnx -InputObject $row).Label | Should -Be $expected
        (Invoke-Mlp $safe -InputObject $row).Label | Should -Be $expected
    }

    It 'writes an HTML report of the three models, charts inline' {
        $html = Get-Content -Raw (Join-Path $Work 'digits.html')
        $html | Should -Match '<svg'
        foreach ($name in 'digits-dense', 'digits-small', 'digits-4bit') { $html | Should -Match ([regex]::Escape($name)) }
    }

    It 'sweeps one point per ratio into a CSV' {
        $rows = @(Import-Csv (Join-Path $Work 'sweep.csv'))
        $ratios = [regex]::Match((Get-BlockWith 'Invoke-PruningSweep')[0].Code, 'Ratio = ([\d., ]+);').Groups[1].Value -split ',\s*'
        $rows.Count | Should -Be $ratios.Count
        $rows[0].PSObject.Properties.Name | Should -Contain 'OverallSparsity'
        (Get-OutputOf 'Invoke-PruningSweep') | Should -Match '(?m)^\s*Point\s+Ratio\s+CompressionRatio\s+OverallSparsity\s+Metric'
    }

    It 'reads the CSV it wrote as a data set, trains on it and predicts from its rows' {
        $out = Get-OutputOf 'Import-Dataset'
        $out | Should -Match '(?m)^mlp-2-16-2\s+flowers\s+\d+\.\d %'
        $out = Get-OutputOf 'Invoke-Mlp'
        @([regex]::Matches($out, '(?m)^\s*\d+\s+(large|small)\s+\d\s+[\d.]+')).Count | Should -Be 4 -Because "three rows of the file and one object: $out"
    }

    It 'runs its Pester test, and every test of it passes' {
        $b = (Get-BlockWith 'Invoke-Pester')[0]
        $count = [regex]::Matches($b.Code, '(?m)^\s*It ').Count
        $count | Should -BeGreaterThan 1
        ($b.Output -join "`n") + "`n" + $Everything | Should -Match "Tests Passed: $count, Failed: 0"
    }

    It 'keeps the blocks it does not run to install, build and root commands' {
        $notRun = @($Fences | Where-Object Lang -EQ '')
        $notRun | Should -Not -BeNullOrEmpty
        foreach ($line in @($notRun.Code -split '\r?\n' | Where-Object { $_.Trim() })) {
            $line | Should -Match '^(dotnet |sudo apt-get |(Install|Update|Uninstall)-PSResource |Register-PSResourceRepository |Import-Module )' -Because 'any other PowerShell in README.md belongs in a ```powershell block, which this test runs'
        }
        @($Fences | Where-Object { $_.Lang -notin '', 'powershell', 'text' }) | Should -BeNullOrEmpty
    }

    It 'keeps the two commands from a clone, and names no file outside the repository' {
        $Readme | Should -Match ([regex]::Escape('dotnet tool restore && dotnet pwsh ./build.ps1 demo   # builds, stages, runs the main job'))
        $Readme | Should -Match ([regex]::Escape('dotnet tool restore && dotnet pwsh ./build.ps1 test   # builds, stages, runs every test'))
        $Readme | Should -Not -Match '\.\./'
        # Every path it names in the tree (a wildcard, a folder or an output folder aside) exists.
        $paths = [regex]::Matches($Readme, '`((?:docs|bench|tests|tools|Core|help|\.ci)/[\w./-]+|[\w.-]+\.(?:ps1|json))(?<!/)`') | ForEach-Object { $_.Groups[1].Value } | Sort-Object -Unique
        $paths | Should -Not -BeNullOrEmpty
        foreach ($p in $paths) { Test-Path (Join-Path $RepoRoot $p) | Should -BeTrue -Because "README.md names $p" }
    }
}
