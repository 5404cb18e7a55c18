# Dot-sourced by the probes: the resident memory a call adds at its peak, read from /proc.
# Start-PeakMemory collects garbage, reads VmRSS and resets the kernel's peak (VmHWM) by writing 5
# to /proc/<pid>/clear_refs; Stop-PeakMemory reads the peak and the resident set after the call.

function Get-ProcStatus([string] $Name) {
    $line = Get-Content '/proc/self/status' | Where-Object { $_ -like "${Name}:*" }
    [long](($line -split '\s+')[1]) * 1024
}

function Start-PeakMemory {
    # Aggressive: managed memory freed before the call goes back to the OS now, not during the
    # measured call (where its release would hide memory the call adds).
    [GC]::Collect(); [GC]::WaitForPendingFinalizers()
    [GC]::Collect(2, [GCCollectionMode]::Aggressive, $true, $true)
    $measured = $true
    $before = Get-ProcStatus 'VmRSS'
    try { [IO.File]::WriteAllText("/proc/$PID/clear_refs", '5') } catch { $measured = $false }
    [pscustomobject]@{ RssBefore = $before; Measured = $measured }
}

function Stop-PeakMemory($Start) {
    $peak = Get-ProcStatus 'VmHWM'
    [pscustomobject]@{
        PeakAdded = if ($Start.Measured) { $peak - $Start.RssBefore } else { $null }
        Peak = if ($Start.Measured) { $peak } else { $null }
        KeptAdded = (Get-ProcStatus 'VmRSS') - $Start.RssBefore
    }
}
