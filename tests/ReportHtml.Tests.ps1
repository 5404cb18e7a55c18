# Export-CompressionReport: the HTML file is self-contained and well-formed, shows the report's own
# figures, renders in headless Chromium with its charts, and bad input is refused or documented.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $data = Get-Dataset Digits
    # The seed pipeline (fewer epochs), and six models of a ratio comparison.
    $script:Demo = New-Mlp -Layers 64, 128, 64, 10 -Seed 1 | Invoke-Training -Dataset $data -Epochs 3 |
        Set-Sparsity -Sparsity 0.8 | Invoke-Pruning -Structure Neuron -Ratio 0.3 -FineTuneEpochs 1
    $base = New-Mlp -Layers 64, 128, 64, 10 -Seed 2 | Invoke-Training -Dataset $data -Epochs 3
    $script:Six = foreach ($r in 0.3, 0.5, 0.7, 0.8, 0.9, 0.95) { $base | Copy-Mlp -Name "ratio $r" | Invoke-Pruning -Ratio $r }
    $script:DemoPath = Join-Path $TestDrive 'demo.html'
    $script:SixPath = Join-Path $TestDrive 'six.html'
    $script:Demo | Export-CompressionReport $script:DemoPath
    $script:Six | Export-CompressionReport $script:SixPath -Title 'Six ratios'

    # The page parsed as XML (it is written XHTML-compatible), after the HTML5 doctype.
    function script:Read-Page([string] $Path) {
        $text = Get-Content -Raw -LiteralPath $Path
        $text | Should -Match '^<!DOCTYPE html>'
        [xml]($text -replace '^<!DOCTYPE html>\s*', '')
    }

    # Counts pixels near given colours in a PNG (SkiaSharp, staged with the module, decodes it).
    $skia = Join-Path (Split-Path $script:ModulePath) 'SkiaSharp.dll'
    if (-not ('ReportScreenshot' -as [type])) {
        Add-Type -IgnoreWarnings -ReferencedAssemblies $skia -TypeDefinition @'
public static class ReportScreenshot
{
    public static int[] Size(string path) { using var b = SkiaSharp.SKBitmap.Decode(path); return new[] { b.Width, b.Height }; }
    // Pixels within 'tolerance' of each colour (0xRRGGBB) per channel; the last count is every non-white pixel.
    public static long[] Count(string path, int[] colours, int tolerance)
    {
        using var b = SkiaSharp.SKBitmap.Decode(path);
        var counts = new long[colours.Length + 1];
        foreach (var p in b.Pixels)
        {
            if (p.Red < 245 || p.Green < 245 || p.Blue < 245) counts[colours.Length]++;
            for (int k = 0; k < colours.Length; k++)
            {
                int r = (colours[k] >> 16) & 255, g = (colours[k] >> 8) & 255, bl = colours[k] & 255;
                if (System.Math.Abs(p.Red - r) <= tolerance && System.Math.Abs(p.Green - g) <= tolerance && System.Math.Abs(p.Blue - bl) <= tolerance) counts[k]++;
            }
        }
        return counts;
    }
    // The advance of a text in a font at a size, as Skia (which draws the charts) measures it.
    public static float Advance(string text, string family, float size)
    {
        using var typeface = SkiaSharp.SKTypeface.FromFamilyName(family);
        using var font = new SkiaSharp.SKFont(typeface, size);
        return font.MeasureText(text);
    }
    // The lowest row holding a non-white pixel: how far down the page content reaches.
    public static int LastContentRow(string path)
    {
        using var b = SkiaSharp.SKBitmap.Decode(path);
        for (int y = b.Height - 1; y >= 0; y--)
            for (int x = 0; x < b.Width; x++) { var p = b.GetPixel(x, y); if (p.Red < 245 || p.Green < 245 || p.Blue < 245) return y; }
        return -1;
    }
}
'@
    }
    # Reports made up for a comparison: overall sparsity 1 - NonZero / 1000; a file of 100 bytes
    # besides the weights, so compression (the file's) 500 / (StoredBytes + 100), the weights' 400 / StoredBytes.
    # -FileBytes 0: a sweep result file of an earlier release, which did not record the file.
    function script:New-MadeUpReport([string] $Name, [long] $NonZero, [long] $StoredBytes, [double] $Accuracy, [long] $FileBytes = $StoredBytes + 100) {
        [SparsePrune.CompressionReport]@{
            Model = $Name; MetricName = 'Accuracy'; BaselineMetric = 0.95; Metric = $Accuracy
            Weights = 1000; NonZeroWeights = $NonZero; BaselineWeights = 1000
            BaselineDenseBytes = 400; StoredBytes = $StoredBytes; FileBytes = $FileBytes; BaselineFileBytes = 500; Flops = 10; BaselineFlops = 20
        }
    }
    # The models a table column marks 'yes', by name.
    function script:Get-Marked($Table, [string] $Header) {
        $k = [array]::IndexOf([string[]]@($Table.thead.tr.th | ForEach-Object InnerText), $Header)
        $k | Should -BeGreaterOrEqual 0 -Because "the table has a column '$Header'"
        @($Table.tbody.tr | Where-Object { $_.td[$k] -eq 'yes' } | ForEach-Object { $_.td[0] } | Sort-Object)
    }
    # The trade-off charts of a page's comparison, by what they plot the metric against: their
    # description (the svg's title) and the diamonds drawn (one per Pareto-best model and one in
    # the legend; a diamond is a closed path of four points at equal distance from its centre).
    function script:Get-TradeOffChart($Page) {
        foreach ($svg in $Page.SelectNodes('//section[h2="Comparison"]//*[local-name()="svg"]')) {
            $title = $svg.SelectSingleNode('*[local-name()="title"]').InnerText
            $diamonds = @($svg.SelectNodes('.//*[local-name()="path"][@fill="#C62828"]') | Where-Object {
                    $m = [regex]::Match($_.d, '^M([-\d.]+) ([-\d.]+)L([-\d.]+) ([-\d.]+)L([-\d.]+) ([-\d.]+)L([-\d.]+) ([-\d.]+)L\1 \2Z$')
                    if (-not $m.Success) { return $false }
                    $v = @(1..8 | ForEach-Object { [double]$m.Groups[$_].Value })
                    $r = $v[0] - $v[2]
                    $r -gt 0 -and [Math]::Abs($v[3] - $v[1] - $r) -lt 0.01 -and [Math]::Abs($v[0] - $v[4] - 2 * $r) -lt 0.01 -and
                    [Math]::Abs($v[5] - $v[1]) -lt 0.01 -and [Math]::Abs($v[6] - $v[2]) -lt 0.01 -and [Math]::Abs($v[1] - $v[7] - $r) -lt 0.01
                })
            [pscustomobject]@{
                Axis     = if ($title -match ' against (.+?), one point per model') { $Matches[1] }
                Best     = if ($title -match 'Pareto-best models marked with diamonds: (.+)\.$') { @($Matches[1] -split ', ' | Where-Object { $_ -ne 'none' } | Sort-Object) }
                Diamonds = $diamonds.Count
                Svg      = $svg
            }
        }
    }
    # Pareto-best on (x, accuracy), recomputed: no other report has both an x and an accuracy at
    # least as high, one of them higher.
    function script:Get-ParetoBest($Reports, [scriptblock] $X) {
        @(foreach ($mine in $Reports) {
                $dominated = @($Reports | Where-Object { (& $X $_) -ge (& $X $mine) -and $_.Metric -ge $mine.Metric -and
                        ((& $X $_) -gt (& $X $mine) -or $_.Metric -gt $mine.Metric) }).Count -gt 0
                if (-not $dominated) { $mine.Model }
            }) | Sort-Object
    }

    $script:Chromium = (Get-Command chromium -ErrorAction Ignore).Source
    function script:Get-Screenshot([string] $Html, [string] $Png) {
        # Headless Chromium as root needs --no-sandbox; a D-Bus complaint on stderr is harmless.
        $null = & $script:Chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "--screenshot=$Png" --window-size=1280,2400 "file://$Html" 2>&1
        Test-Path $Png | Should -BeTrue -Because 'Chromium writes the screenshot'
    }
}

Describe 'Export-CompressionReport' {
    It 'writes one self-contained, well-formed HTML5 page: no outside reference, one title, every svg closed' {
        foreach ($path in $script:DemoPath, $script:SixPath) {
            $text = Get-Content -Raw -LiteralPath $path
            # Namespace names are identifiers, not references; nothing else may name a web address.
            $text -replace 'xmlns(:\w+)?="http://www\.w3\.org/[^"]*"', '' | Should -Not -Match 'https?://'
            $text | Should -Not -Match '<link\b|<img\b|<iframe\b|@import|<script[^>]*\bsrc='
            $text | Should -Not -Match 'url\(\s*[''"]?(?!#)'
            $page = Read-Page $path
            $page.SelectNodes('/html/head/title').Count | Should -Be 1
            # The charts' own titles are SVG elements (their namespace); the page has one title.
            $page.SelectNodes('//title').Count | Should -Be 1
            $page.SelectNodes('/html/head/meta[@charset="utf-8"]').Count | Should -Be 1
            ([regex]::Matches($text, '<svg\b')).Count | Should -Be ([regex]::Matches($text, '</svg>')).Count
            ([regex]::Matches($text, '<svg\b')).Count | Should -BeGreaterThan 0
        }
    }

    It 'shows the report''s own figures in the headline and a chart per layer, histogram and history' {
        $r = $script:Demo | Get-CompressionReport
        $page = Read-Page $script:DemoPath
        $page.html.head.title | Should -Be 'SparsePrune compression report'
        # The first figure is the overall sparsity, from the report's own counts; then the pruning ratio and the sparsity of the weights left.
        $terms = @($page.SelectNodes('//dl[@class="headline"]/dt') | ForEach-Object InnerText)
        $terms[0..2] | Should -Be @('Overall sparsity (of the original weights)', 'Pruning ratio (deleted)', 'Sparsity of the weights left')
        $first = $page.SelectSingleNode('//dl[@class="headline"]/dd[1]').InnerText
        $first | Should -Be ('1 − K / N₀ = 1 − {0:N0} / {1:N0} = {2:0.00} %' -f $r.NonZeroWeights, $r.BaselineWeights, (100 * (1 - $r.NonZeroWeights / $r.BaselineWeights)))
        $headline = $page.SelectSingleNode('//dl[@class="headline"]').InnerText
        $headline | Should -Match ([regex]::Escape(('({0:N0} − {1:N0}) / {0:N0}' -f $r.Weights, $r.NonZeroWeights)))
        $headline | Should -Match ([regex]::Escape(('M / N₀ = {0:N0} / {1:N0}' -f $r.PrunedWeights, $r.BaselineWeights)))
        $headline | Should -Match ([regex]::Escape(('{0:N0} stored of {1:N0}' -f $r.StoredBytes, $r.BaselineDenseBytes)))
        $r.FileBytes | Should -BeGreaterThan 0
        $headline | Should -Match ([regex]::Escape(('{0:N0} bytes, the dense float32 file at baseline {1:N0}; compression ratio {1:N0} / {0:N0} = ' -f $r.FileBytes, $r.BaselineFileBytes)))
        $headline | Should -Match ([regex]::Escape(('{0:0.####} → {1:0.####}' -f $r.BaselineMetric, $r.Metric)))
        # One layer chart, a histogram per layer, the timeline.
        $page.SelectNodes('//*[local-name()="svg"]').Count | Should -Be (1 + $script:Demo.LayerCount + 1)
        # The layer table: a row per layer with its stored bytes; the history table: a row per step.
        $tables = $page.SelectNodes('//table')
        $layers = $tables | Where-Object { $_.caption -like 'Layers of*' }
        @($layers.tbody.tr).Count | Should -Be $script:Demo.LayerCount
        $k = [array]::IndexOf([string[]]@($layers.thead.tr.th | ForEach-Object InnerText), 'stored bytes')
        $layers.tbody.tr[0].td[$k].'#text' | Should -Be ('{0:N0}' -f $r.Layers[0].StoredBytes)
        # Overall sparsity leads the ratios there too.
        $layers.thead.tr.th[2].InnerText | Should -Be 'overall sparsity'
        $layers.tbody.tr[0].td[2].'#text' | Should -Be ('{0:0.00} %' -f (100 * $r.Layers[0].OverallSparsity))
        $history = $tables | Where-Object { $_.caption -like 'History of*' }
        @($history.tbody.tr).Count | Should -Be @($script:Demo.History).Count
    }

    It 'compares several models: two trade-off charts, the Pareto-best marked, a row per model' {
        $page = Read-Page $script:SixPath
        $page.html.head.title | Should -Be 'Six ratios'
        $comparison = $page.SelectSingleNode('//section[h2="Comparison"]')
        $comparison.SelectNodes('.//*[local-name()="svg"]').Count | Should -Be 2
        $rows = @($comparison.table.tbody.tr)
        $rows.Count | Should -Be 6
        # Pareto-best, recomputed per axis, in the table and on the chart of that axis.
        $reports = $script:Six | Get-CompressionReport
        $charts = @(Get-TradeOffChart $page)
        foreach ($axis in @{ Name = 'compression ratio (file)'; X = { $args[0].CompressionRatio } }, @{ Name = 'overall sparsity'; X = { $args[0].OverallSparsity } }) {
            $expected = Get-ParetoBest $reports $axis.X
            Get-Marked $comparison.table "Pareto-best by $($axis.Name)" | Should -Be $expected -Because $axis.Name
            $chart = $charts | Where-Object Axis -EQ $axis.Name
            $chart.Best | Should -Be $expected -Because "the $($axis.Name) chart"
            $chart.Diamonds | Should -Be ($expected.Count + 1) -Because "a diamond per Pareto-best model on the $($axis.Name) chart, and the legend's"
        }
        # Each model's section is folded, its charts inside.
        $page.SelectNodes('//details[not(@open)]').Count | Should -Be 6
    }

    It 'marks the same Pareto-best models in each chart and the table, when the two axes disagree' {
        # On compression ratio 'quantized' (500 / 150 = 3.3×, 0.92) beats every other model; on overall sparsity
        # 'churn-budget-1pt' and 'churn-budget-2pt' are Pareto-best too (sparser, if less accurate).
        $reports = @(
            New-MadeUpReport 'churn-budget-1pt' -NonZero 100 -StoredBytes 100 -Accuracy 0.90
            New-MadeUpReport 'quantized' -NonZero 500 -StoredBytes 50 -Accuracy 0.92
            New-MadeUpReport 'churn-budget-2pt' -NonZero 50 -StoredBytes 200 -Accuracy 0.85
            New-MadeUpReport 'dominated' -NonZero 600 -StoredBytes 400 -Accuracy 0.80
        )
        $path = Join-Path $TestDrive 'axes.html'
        $reports | Export-CompressionReport $path
        $page = Read-Page $path
        $table = $page.SelectSingleNode('//section[h2="Comparison"]').table
        $charts = @(Get-TradeOffChart $page)
        $charts.Axis | Should -Be @('compression ratio (file)', 'overall sparsity')
        $byRatio = Get-ParetoBest $reports { $args[0].CompressionRatio }
        $bySparsity = Get-ParetoBest $reports { $args[0].OverallSparsity }
        $byRatio | Should -Be @('quantized')
        $bySparsity | Should -Be @('churn-budget-1pt', 'churn-budget-2pt', 'quantized')
        foreach ($case in @{ Axis = 'compression ratio (file)'; Best = $byRatio }, @{ Axis = 'overall sparsity'; Best = $bySparsity }) {
            Get-Marked $table "Pareto-best by $($case.Axis)" | Should -Be $case.Best -Because $case.Axis
            $chart = $charts | Where-Object Axis -EQ $case.Axis
            $chart.Best | Should -Be $case.Best -Because "the $($case.Axis) chart's description"
            $chart.Diamonds | Should -Be ($case.Best.Count + 1) -Because "the $($case.Axis) chart draws a diamond per Pareto-best model and one in its legend"
        }
    }

    It 'leaves a report without a file size (an earlier release''s sweep result) off the file-ratio chart, and says so in the table' {
        $reports = @(
            New-MadeUpReport 'known' -NonZero 100 -StoredBytes 100 -Accuracy 0.90
            New-MadeUpReport 'old result' -NonZero 50 -StoredBytes 50 -Accuracy 0.93 -FileBytes 0
        )
        $reports[1].CompressionRatio | Should -Be 0
        $path = Join-Path $TestDrive 'unknown-file.html'
        $reports | Export-CompressionReport $path
        $page = Read-Page $path
        $charts = @(Get-TradeOffChart $page)
        ($charts | Where-Object Axis -EQ 'compression ratio (file)').Best | Should -Be @('known')
        ($charts | Where-Object Axis -EQ 'overall sparsity').Best | Should -Be @('old result')
        $table = $page.SelectSingleNode('//section[h2="Comparison"]').table
        $k = [array]::IndexOf([string[]]@($table.thead.tr.th | ForEach-Object InnerText), 'compression ratio (file)')
        $table.tbody.tr[1].SelectNodes('td')[$k].InnerText | Should -Be 'not recorded'
        $table.tbody.tr[0].SelectNodes('td')[$k].InnerText | Should -Be '2.5×'
    }

    It 'draws every model''s name whole inside the plot area, or shortened with its full name as a tooltip' {
        # 'churn-budget-1pt' is the rightmost point on both charts: drawn right of it, it was cut at the edge.
        $long = 'a model with a long, descriptive name that no chart of 600 pixels has room for beside its point'
        $reports = @(
            New-MadeUpReport 'churn-budget-1pt' -NonZero 20 -StoredBytes 40 -Accuracy 0.88
            New-MadeUpReport 'churn-budget-5pt' -NonZero 300 -StoredBytes 200 -Accuracy 0.93
            New-MadeUpReport $long -NonZero 500 -StoredBytes 300 -Accuracy 0.91
        )
        $path = Join-Path $TestDrive 'labels.html'
        $reports | Export-CompressionReport $path
        $page = Read-Page $path
        $charts = @(Get-TradeOffChart $page)
        $charts.Count | Should -Be 2
        foreach ($chart in $charts) {
            $texts = @($chart.Svg.SelectNodes('.//*[local-name()="text"]'))
            foreach ($name in $reports.Model) {
                # The name as drawn: whole, or a start of it and an ellipsis with the name as the text's title.
                $label = @($texts | Where-Object {
                        $shown = (@($_.ChildNodes | Where-Object NodeType -EQ 'Text').Value -join '').Trim()
                        $shown -eq $name -or ($shown.EndsWith('…') -and $name.StartsWith($shown.TrimEnd('…')) -and
                            $_.SelectSingleNode('*[local-name()="title"]').InnerText -eq $name)
                    })
                $label.Count | Should -Be 1 -Because "'$name' is drawn once on the $($chart.Axis) chart"
                $label = $label[0]
                $shown = (@($label.ChildNodes | Where-Object NodeType -EQ 'Text').Value -join '').Trim()
                if ($name -ne $long) { $shown | Should -Be $name -Because 'a short name fits on one side of its point' }
                # Its extent: the translation, the first glyph's start and the last glyph's start and advance.
                $translate = [regex]::Match($label.transform, '^translate\(([-\d.]+) ([-\d.]+)\)$')
                $translate.Success | Should -BeTrue -Because "'$shown' is placed by a translation ($($label.transform))"
                $tx = [double]$translate.Groups[1].Value
                $glyphs = @($label.x -split ' ' | ForEach-Object { [double]$_ })
                $glyphs.Count | Should -Be $shown.Length
                $left = $tx + $glyphs[0]
                $right = $tx + $glyphs[-1] + [ReportScreenshot]::Advance($shown.Substring($shown.Length - 1), $label.'font-family', [float]$label.'font-size')
                # The plot area is the clip rectangle of the group the name is drawn in.
                $clipId = $label.ParentNode.'clip-path' -replace '^url\(#(.+)\)$', '$1'
                $rect = $chart.Svg.SelectSingleNode(".//*[local-name()='clipPath'][@id='$clipId']/*[local-name()='rect']")
                $rect | Should -Not -BeNullOrEmpty -Because "'$name' is drawn clipped to the plot area"
                $left | Should -BeGreaterOrEqual ([double]$rect.x) -Because "'$shown' starts inside the $($chart.Axis) chart"
                $right | Should -BeLessOrEqual ([double]$rect.x + [double]$rect.width) -Because "'$shown' ends inside the $($chart.Axis) chart"
            }
        }
    }

    It 'renders in headless Chromium: not blank, the charts'' colours present, a sensible page size' -Skip:(-not (Get-Command chromium -ErrorAction Ignore)) {
        # (Skipped without Debian's chromium, which build.ps1 test installs.)
        foreach ($case in @(@{ Html = $script:DemoPath; Colours = 0x2E7D32, 0xF9A825, 0xC62828, 0x1565C0 }, @{ Html = $script:SixPath; Colours = 0xC62828, 0x1565C0 })) {
            $png = [IO.Path]::ChangeExtension($case.Html, '.png')
            Get-Screenshot $case.Html $png
            [ReportScreenshot]::Size($png) | Should -Be @(1280, 2400)
            $counts = [ReportScreenshot]::Count($png, [int[]]$case.Colours, 12)
            $total = 1280 * 2400
            $counts[-1] / $total | Should -BeGreaterThan 0.02 -Because 'the page is not blank'
            for ($k = 0; $k -lt $case.Colours.Count; $k++) { $counts[$k] | Should -BeGreaterThan 150 -Because ('colour #{0:X6} is drawn' -f $case.Colours[$k]) }
            # The content fills the page's width without running off it, and reaches well down the page.
            [ReportScreenshot]::LastContentRow($png) | Should -BeGreaterThan 500
        }
    }

    It 'draws sensitivity curves given by -Sensitivity or piped in' {
        $rows = $script:Six[0] | Measure-LayerSensitivity -Ratio 0.5, 0.9
        $a = Join-Path $TestDrive 'sens-a.html'; $b = Join-Path $TestDrive 'sens-b.html'
        $script:Six[0] | Export-CompressionReport $a -Sensitivity $rows
        $rows | Export-CompressionReport $b
        foreach ($path in $a, $b) {
            $section = (Read-Page $path).SelectSingleNode('//section[h2="Layer sensitivity"]')
            $section.SelectNodes('.//*[local-name()="svg"]').Count | Should -Be 1
            @($section.table.tbody.tr).Count | Should -Be @($rows).Count
        }
    }

    It 'reports a Get-CompressionReport object without weights, and a model with no data set as "no metric"' {
        $path = Join-Path $TestDrive 'plain.html'
        $fresh = New-Mlp -Layers 8, 6, 3 -Seed 1
        ($fresh | Get-CompressionReport), $fresh | Export-CompressionReport $path
        $text = Get-Content -Raw $path
        $text | Should -Match 'no metric'
        $text | Should -Match 'Built from a compression report alone'
        (Read-Page $path).SelectNodes('//details').Count | Should -Be 2
    }

    It '-WhatIf writes nothing, -PassThru gives the file, -Force replaces it, and no temporary file remains' {
        $folder = Join-Path $TestDrive 'switches'
        New-Item -ItemType Directory $folder | Out-Null
        $path = Join-Path $folder 'r.html'
        $script:Demo | Export-CompressionReport $path -WhatIf
        Test-Path $path | Should -BeFalse
        $file = $script:Demo | Export-CompressionReport $path -PassThru
        $file | Should -BeOfType [IO.FileInfo]
        $file.FullName | Should -Be $path
        Set-Content $path 'old'
        $script:Demo | Export-CompressionReport $path -Force
        Get-Content -Raw $path | Should -Match '^<!DOCTYPE html>'
        @(Get-ChildItem -Force $folder).Name | Should -Be @('r.html')
    }

    It 'refuses <Case> with <ErrorId> and leaves what was there' -ForEach @(
        @{ Case = 'an existing file without -Force'; ErrorId = 'ReportFileExists'; Setup = { Set-Content (Join-Path $TestDrive 'x.html') 'keep' }; Target = 'x.html'; Given = { $script:Demo } }
        @{ Case = 'a folder as -Path'; ErrorId = 'PathIsDirectory'; Setup = { New-Item -ItemType Directory -Force (Join-Path $TestDrive 'folder.html') | Out-Null }; Target = 'folder.html'; Given = { $script:Demo } }
        @{ Case = 'a missing folder'; ErrorId = 'DirectoryNotFound'; Setup = {}; Target = 'missing/x.html'; Given = { $script:Demo } }
        @{ Case = 'an empty pipeline'; ErrorId = 'NothingToReport'; Setup = {}; Target = 'empty.html'; Given = { @() } }
        @{ Case = 'something that is not a model'; ErrorId = 'UnsupportedReportInput'; Setup = {}; Target = 'other.html'; Given = { 'a string' } }
    ) {
        & $Setup
        $path = Join-Path $TestDrive $Target
        $before = if (Test-Path $path -PathType Leaf) { Get-Content -Raw $path }
        $fingerprint = Get-ModelFingerprint $script:Demo
        $e = { & $Given | Export-CompressionReport $path } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        $e.Exception.Message | Should -Not -BeNullOrEmpty
        if ($null -ne $before) { Get-Content -Raw $path | Should -Be $before }
        elseif (-not (Test-Path $path -PathType Container)) { Test-Path $path | Should -BeFalse }
        Get-ModelFingerprint $script:Demo | Should -Be $fingerprint
    }
}
