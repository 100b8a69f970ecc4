// Windows Update through the Windows Update Agent API, in PowerShell over the
// guest's OpenSSH server. The API refuses to download or install from a
// remote session (E_ACCESSDENIED, 0x80070005: an ssh logon is a network
// logon), so the update runs as a one-off scheduled task under SYSTEM, writes
// `BSM-WU` lines to a log, and the ssh command waits for the task's end line
// and prints the log.
import { lastMatch, tailOf, type UpdateRecipe } from './recipe.ts';

const TASK = 'bhyve-smoke-windows-update';

/** The job the scheduled task runs. OperationResultCode: 2 succeeded, 3 with errors, 4 failed, 5 aborted. */
const JOB = `$log = Join-Path $env:ProgramData 'bhyve-smoke\\windows-update.log'
function Say($text) { Add-Content -Path $log -Value $text -Encoding UTF8 }
try {
  $session = New-Object -ComObject Microsoft.Update.Session
  $found = $session.CreateUpdateSearcher().Search("IsInstalled=0 and Type='Software' and IsHidden=0").Updates
  Say "BSM-WU found $($found.Count)"
  if ($found.Count -gt 0) {
    foreach ($u in $found) { if (-not $u.EulaAccepted) { $u.AcceptEula() } }
    $downloader = $session.CreateUpdateDownloader(); $downloader.Updates = $found
    Say "BSM-WU download $($downloader.Download().ResultCode)"
    $installer = $session.CreateUpdateInstaller(); $installer.Updates = $found
    $result = $installer.Install()
    for ($i = 0; $i -lt $found.Count; $i++) { Say "BSM-WU result $($result.GetUpdateResult($i).ResultCode) $($found.Item($i).Title)" }
    Say "BSM-WU install $($result.ResultCode) reboot $($result.RebootRequired)"
  }
  Say 'BSM-WU end 0'
} catch { Say "BSM-WU error $('0x{0:X8}' -f $_.Exception.HResult) $($_.Exception.Message)"; Say 'BSM-WU end 1' }`;

export const windowsUpdate: UpdateRecipe = {
  method: 'windows-update',
  real: true,
  detect: "if ((Get-Service -Name wuauserv -ErrorAction SilentlyContinue) -eq $null) { exit 1 }",
  command: `$ErrorActionPreference = 'Stop'
$dir = Join-Path $env:ProgramData 'bhyve-smoke'
New-Item -ItemType Directory -Force -Path $dir | Out-Null
$log = Join-Path $dir 'windows-update.log'; $job = Join-Path $dir 'windows-update.ps1'
Remove-Item -Force -ErrorAction SilentlyContinue $log
Set-Content -Path $job -Encoding UTF8 -Value @'
${JOB}
'@
$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File \`"$job\`""
Register-ScheduledTask -TaskName '${TASK}' -Action $action -User 'SYSTEM' -RunLevel Highest -Force | Out-Null
Start-ScheduledTask -TaskName '${TASK}'
while (-not (Select-String -Path $log -Pattern '^BSM-WU end' -Quiet -ErrorAction SilentlyContinue)) { Start-Sleep -Seconds 5 }
Unregister-ScheduledTask -TaskName '${TASK}' -Confirm:$false
Get-Content -Path $log
if (Select-String -Path $log -Pattern '^BSM-WU end 0' -Quiet) { exit 0 } else { exit 1 }`,
  parse(output, status) {
    const found = lastMatch(output, /^BSM-WU found (\d+)$/);
    const install = lastMatch(output, /^BSM-WU install (\d+) reboot (True|False)$/);
    const error = lastMatch(output, /^BSM-WU error (.*)$/);
    if (status !== 0 || !found || error) return { ok: false, summary: `Windows Update failed${error ? `: ${error[1]}` : ` (exit ${status}): ${tailOf(output)}`}` };
    const count = Number(found[1]);
    if (count === 0) return { ok: true, installed: 0, rebootRequired: false, summary: 'Windows Update: no updates to install' };
    const failedTitles = output.split('\n').map((l) => /^BSM-WU result ([3-5]) (.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => m[2]);
    const code = install?.[1];
    return {
      ok: code === '2',
      installed: count - failedTitles.length,
      rebootRequired: install?.[2] === 'True',
      summary: code === '2'
        ? `Windows Update: ${count} updates installed`
        : `Windows Update: install result ${code ?? 'missing'} (2 is success); ${failedTitles.length ? `not installed: ${failedTitles.join('; ')}` : tailOf(output)}`,
    };
  },
  verify: {
    // Searching is allowed from a remote session; only downloading and installing are not.
    command: `$pending = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher().Search("IsInstalled=0 and Type='Software' and IsHidden=0").Updates.Count
$os = Get-CimInstance Win32_OperatingSystem
"BSM-WU os $($os.Caption) $($os.Version)"
"BSM-WU pending $pending reboot $((New-Object -ComObject Microsoft.Update.SystemInfo).RebootRequired)"`,
    parse(output, status) {
      const os = lastMatch(output, /^BSM-WU os (.*)$/)?.[1] ?? 'unknown';
      const m = lastMatch(output, /^BSM-WU pending (\d+) reboot (True|False)$/);
      if (status !== 0 || !m) return { ok: false, summary: `the Windows Update search failed (exit ${status}): ${tailOf(output)}` };
      return { ok: m[1] === '0' && m[2] === 'False', summary: `${os}; ${m[1]} updates pending; reboot ${m[2] === 'True' ? 'still required' : 'not required'}` };
    },
  },
};
