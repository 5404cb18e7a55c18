# Activations with parameters across PyTorch, ONNX Runtime and SafeTensors (issue 22, must-show 3):
# torch.onnx.export's files of nn.LeakyReLU(0.2), nn.ELU(), nn.SiLU() and nn.Softplus() MLPs at
# opsets 13 and 17 import and give PyTorch's outputs within 1e-5; Export-Mlp's ONNX files of the
# same models run in ONNX Runtime and give Invoke-Mlp's outputs within 1e-5; SafeTensors goes both
# ways (PyTorch's plain state dict in with -Activation, Export-Mlp's file out through the loader of
# docs/interop.md). And New-Mlp's -Activation/-ActivationParameter with their errors.
# The PyTorch files are made once, in BeforeAll, by /usr/bin/python3 (Debian's python3-torch;
# torch.onnx.export of torch 1.13 needs no other package); without torch those tests are skipped.
BeforeDiscovery {
    $script:HasTorch = $false
    if (Test-Path /usr/bin/python3) {
        & /usr/bin/python3 -c 'import torch, torch.onnx' 2>$null
        $script:HasTorch = $LASTEXITCODE -eq 0
    }
    # SparsePrune's spelling of each PyTorch module, and the module as PyTorch prints it.
    $script:Cases = @(
        @{ Key = 'leaky'; Spelling = 'LeakyReLU(0.2)'; Repr = 'LeakyReLU(negative_slope=0.2)' }
        @{ Key = 'elu'; Spelling = 'ELU'; Repr = 'ELU(alpha=1' }
        @{ Key = 'silu'; Spelling = 'SiLU'; Repr = 'SiLU()' }
        @{ Key = 'softplus'; Spelling = 'Softplus'; Repr = 'Softplus(beta=1' }
    )
    $script:Exports = foreach ($c in $Cases) { foreach ($o in 13, 17) { $c + @{ Opset = $o } } }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'Common.ps1')
    Import-Module $script:ModulePath -Force
    $script:Work = Join-Path $TestDrive 'activations'
    New-Item -ItemType Directory -Path $Work | Out-Null
    # As in BeforeDiscovery (its variables do not reach the tests).
    $script:Cases = @(
        @{ Key = 'leaky'; Spelling = 'LeakyReLU(0.2)'; Repr = 'LeakyReLU(negative_slope=0.2)' }
        @{ Key = 'elu'; Spelling = 'ELU'; Repr = 'ELU(alpha=1' }
        @{ Key = 'silu'; Spelling = 'SiLU'; Repr = 'SiLU()' }
        @{ Key = 'softplus'; Spelling = 'Softplus'; Repr = 'Softplus(beta=1' }
    )
    $script:OnnxRun = if ($env:SPARSEPRUNE_ONNXRUN) { $env:SPARSEPRUNE_ONNXRUN } else { Join-Path $PSScriptRoot '../out/tests/OnnxRun/OnnxRun.dll' }

    # 16 rows of 4 features over [-4, 4], the same for PyTorch, ONNX Runtime and Invoke-Mlp.
    $script:Rows = @(for ($r = 0; $r -lt 16; $r++) { , [double[]]@(for ($j = 0; $j -lt 4; $j++) { [Math]::Round([Math]::Sin(1.3 * $r + 0.7 * $j) * 4, 4) }) })
    $script:RowsPath = Join-Path $Work 'rows.json'
    ConvertTo-Json -InputObject $Rows -Depth 3 -Compress | Set-Content $RowsPath

    # Probabilities (softmax of the logits) of PyTorch's outputs, row by row.
    function script:Get-Softmax([double[]] $Logits) {
        $m = ($Logits | Measure-Object -Maximum).Maximum
        $e = @($Logits | ForEach-Object { [Math]::Exp($_ - $m) })
        $s = ($e | Measure-Object -Sum).Sum
        , [double[]]@($e | ForEach-Object { $_ / $s })
    }

    # The largest difference between Invoke-Mlp's probabilities and the given ones (double[][]).
    function script:Get-Difference($Model, [object[]] $Expected) {
        $max = 0.0
        for ($i = 0; $i -lt $Rows.Count; $i++) {
            $p = (Invoke-Mlp -Model $Model -InputObject $Rows[$i]).Probabilities
            $want = [double[]]$Expected[$i]
            $p.Count | Should -Be $want.Count
            for ($k = 0; $k -lt $want.Count; $k++) { $max = [Math]::Max($max, [Math]::Abs($p[$k] - $want[$k])) }
        }
        $max
    }

    # PyTorch's side, run once: each module in a 4-16-8-3 Sequential, exported by torch.onnx.export at
    # opsets 13 and 17, written as a plain state dict (SafeTensors by hand: Debian has no safetensors
    # package), and its outputs on the rows.
    $generator = @'
import json, os, struct, sys, warnings
warnings.filterwarnings("ignore")
import torch
from torch import nn

out, rows_path = sys.argv[1], sys.argv[2]
rows = torch.tensor(json.load(open(rows_path)), dtype=torch.float32)
make = {"leaky": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "silu": nn.SiLU, "softplus": nn.Softplus}
manifest = {}

def save_state_dict(state, path):
    header, data = {}, b""
    for name, t in state.items():
        raw = t.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)

for i, (key, new) in enumerate(make.items()):
    torch.manual_seed(20261207 + i)
    model = nn.Sequential(nn.Linear(4, 16), new(), nn.Linear(16, 8), new(), nn.Linear(8, 3)).eval()
    with torch.no_grad():
        probabilities = model(rows).softmax(1).double().tolist()
    entry = {"probabilities": probabilities, "repr": repr(model[1]), "onnx": {}}
    for opset in (13, 17):
        path = os.path.join(out, f"{key}-opset{opset}.onnx")
        torch.onnx.export(model, torch.randn(2, 4), path, opset_version=opset, input_names=["input"],
                          output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        entry["onnx"][str(opset)] = path
    entry["safetensors"] = os.path.join(out, f"{key}.safetensors")
    save_state_dict(model.state_dict(), entry["safetensors"])
    manifest[key] = entry
json.dump(manifest, open(os.path.join(out, "manifest.json"), "w"))
'@
    $generated = Invoke-TorchGenerator $generator $Work $Work, $RowsPath
    $script:Manifest, $script:GeneratorOutput = $generated.Manifest, $generated.Output
}

Describe 'New-Mlp -Activation with parameters' {
    It 'takes -ActivationParameter, or the parameters in the name, and shows the spelling' {
        "$((New-Mlp 4, 6, 3 -Activation LeakyReLU -ActivationParameter 0.2 -Seed 1).Activation)" | Should -Be 'LeakyReLU(0.2)'
        "$((New-Mlp 4, 6, 3 -Activation 'Softplus(2, 10)' -Seed 1).Activation)" | Should -Be 'Softplus(2,10)'
        "$((New-Mlp 4, 6, 3 -Activation LeakyReLU -Seed 1).Activation)" | Should -Be 'LeakyReLU'
        (New-Mlp 4, 6, 3 -Activation LeakyReLU -Seed 1).Activation.Parameters | Should -Be 0.01
        "$((New-Mlp 4, 6, 3 -Activation logistic -Seed 1).Activation)" | Should -Be 'Sigmoid'
        "$((New-Mlp 4, 6, 3 -Activation Identity -Seed 1).Activation)" | Should -Be 'Identity'
    }

    It 'completes the activation names' {
        $line = 'New-Mlp 4,3 -Activation S'
        $names = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $names | Should -Be 'Sigmoid', 'SiLU', 'Softplus', 'Swish'
    }

    It 'refuses <Case> with <ErrorId>' -ForEach @(
        @{ Case = 'a parameter for an activation that has none'; ErrorId = 'ActivationParameterNotApplicable'; Make = { New-Mlp 4, 3 -Activation GELU -ActivationParameter 0.5 } }
        @{ Case = 'a parameter without -Activation'; ErrorId = 'ActivationParameterNotApplicable'; Make = { New-Mlp 4, 3 -ActivationParameter 0.5 } }
        @{ Case = 'parameters given twice'; ErrorId = 'ActivationParameterNotApplicable'; Make = { New-Mlp 4, 3 -Activation 'LeakyReLU(0.3)' -ActivationParameter 0.2 } }
        @{ Case = 'too many parameters'; ErrorId = 'ActivationParameterNotApplicable'; Make = { New-Mlp 4, 3 -Activation ELU -ActivationParameter 1, 2 } }
        @{ Case = 'an out-of-range value'; ErrorId = 'InvalidActivationParameter'; Make = { New-Mlp 4, 3 -Activation Softplus -ActivationParameter 0 } }
        @{ Case = 'an infinite slope'; ErrorId = 'InvalidActivationParameter'; Make = { New-Mlp 4, 3 -Activation LeakyReLU -ActivationParameter ([double]::PositiveInfinity) } }
    ) {
        $e = Get-ThrownError $Make
        $e.FullyQualifiedErrorId | Should -BeLike "$ErrorId,*"
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'refuses an unknown activation naming the known ones' {
        $e = Get-ThrownError { New-Mlp 4, 3 -Activation Mish }
        # PowerShell's binding error (the conversion is Activation.Parse), with SparsePrune's message inside.
        $e.Exception | Should -BeOfType System.Management.Automation.ParameterBindingException
        "$e" | Should -Match 'Mish.*ReLU, Tanh, Sigmoid, GELU, LeakyReLU, ELU, SiLU, Softplus, Identity'
    }

    It 'keeps the parameter through .spmlp' {
        $m = New-Mlp 4, 6, 3 -Activation ELU -ActivationParameter 0.5 -Seed 2
        $path = Join-Path $TestDrive 'elu.spmlp'
        $m | Export-Mlp $path
        "$((Import-Mlp $path).Activation)" | Should -Be 'ELU(0.5)'
    }
}

Describe 'PyTorch''s activation modules through ONNX, ONNX Runtime and SafeTensors' {
    It 'the generator ran (skipped when /usr/bin/python3 cannot import torch)' -Skip:(-not $HasTorch) {
        $Manifest | Should -Not -BeNullOrEmpty -Because $GeneratorOutput
    }

    It '<Spelling>, opset <Opset>: Import-Mlp of torch.onnx.export''s file gives PyTorch''s outputs within 1e-5' -Skip:(-not $HasTorch) -ForEach $Exports {
        $entry = $Manifest[$Key]
        $m = Import-Mlp $entry.onnx["$Opset"]
        "$($m.Activation)" | Should -Be $Spelling
        ($m.Widths -join ',') | Should -Be '4,16,8,3'
        Get-Difference $m $entry.probabilities | Should -BeLessThan 1e-5
    }

    It '<Spelling>, opset <Opset>: ONNX Runtime runs Export-Mlp''s file of the imported model and gives Invoke-Mlp''s outputs within 1e-5' -Skip:(-not $HasTorch) -ForEach $Exports {
        if (-not (Test-Path $OnnxRun)) { throw "ONNX Runtime runner $OnnxRun is missing: build.ps1 test builds it (task OnnxRun)." }
        $m = Import-Mlp $Manifest[$Key].onnx["$Opset"]
        $path = Join-Path $Work "$Key-sparseprune-$Opset.onnx"
        $m | Export-Mlp $path -OpsetVersion $Opset
        $out = & dotnet $OnnxRun $path $RowsPath 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $ort = $out | ConvertFrom-Json -AsHashtable
        Get-Difference $m $ort['probabilities'] | Should -BeLessThan 1e-5
        # And it reads back as the same activation.
        "$((Import-Mlp $path).Activation)" | Should -Be $Spelling
    }

    It '<Spelling>: PyTorch''s plain state dict comes in with -Activation and gives PyTorch''s outputs within 1e-5' -Skip:(-not $HasTorch) -ForEach $Cases {
        $entry = $Manifest[$Key]
        $m = Import-Mlp $entry.safetensors -Activation $Spelling
        "$($m.Activation)" | Should -Be $Spelling
        Get-Difference $m $entry.probabilities | Should -BeLessThan 1e-5
    }

    It 'Export-Mlp''s SafeTensors of each goes back into PyTorch (docs/interop.md''s loader) as the same module with the same outputs within 1e-5' -Skip:(-not $HasTorch) {
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../docs/interop.md')
        $loader = [regex]::Match($readme, '<!-- safetensors-loader[^>]*-->\s*```python\r?\n(?<code>.*?)\r?\n```', 'Singleline').Groups['code'].Value
        $loader | Should -Match 'def load_sparseprune\(path\):'
        $harness = @'

# --- test harness, appended to the loader of docs/interop.md ---
import sys
rows = torch.tensor(json.load(open(sys.argv[1])), dtype=torch.float32)
results = {}
for path in sys.argv[2:]:
    model, meta = load_sparseprune(path)
    with torch.no_grad():
        results[path] = {"probabilities": model(rows).softmax(1).double().tolist(), "repr": repr(model[1])}
print(json.dumps(results))
'@
        $models = [ordered]@{}
        $files = foreach ($c in $Cases) {
            $models[$c.Key] = Import-Mlp $Manifest[$c.Key].onnx['17']
            $file = Join-Path $Work "$($c.Key)-back.safetensors"
            $models[$c.Key] | Export-Mlp $file -Format SafeTensors
            $file
        }
        $script = Join-Path $Work 'loader.py'
        Set-Content -Path $script -Value ($loader + "`n" + $harness) -Encoding utf8NoBOM
        $out = & /usr/bin/python3 $script $RowsPath @files 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $results = ($out | Where-Object { $_ -is [string] -and $_.StartsWith('{') } | Select-Object -Last 1) | ConvertFrom-Json -AsHashtable
        for ($i = 0; $i -lt $Cases.Count; $i++) {
            $c = $Cases[$i]
            $r = $results[$files[$i]]
            $r.repr | Should -BeLike "$($c.Repr)*" -Because "$($c.Spelling) should come back as PyTorch's module"
            Get-Difference $models[$c.Key] $r.probabilities | Should -BeLessThan 1e-5 -Because "$($c.Spelling) in PyTorch"
            # PyTorch's original network and the one that went through SparsePrune agree too.
            $max = 0.0
            for ($k = 0; $k -lt $Rows.Count; $k++) { for ($j = 0; $j -lt 3; $j++) { $max = [Math]::Max($max, [Math]::Abs($r.probabilities[$k][$j] - $Manifest[$c.Key].probabilities[$k][$j])) } }
            $max | Should -BeLessThan 1e-5
        }
    }
}
