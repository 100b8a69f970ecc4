// Windows guests over their OpenSSH server, in PowerShell. Each script goes as
// `powershell -EncodedCommand` (base64 of UTF-16LE), which survives both of
// OpenSSH's default shells (cmd.exe and PowerShell) without a quoting layer;
// cmd.exe caps a command line at 8191 characters, which every script here
// stays under. Numbers print in the invariant culture, whatever the locale.
import type { RemoteShellAdapter } from './remote-shell.ts';

/** cmd.exe's limit on one command line. */
export const CMD_LINE_MAX = 8191;
const INVARIANT = '[Globalization.CultureInfo]::InvariantCulture';
const UPTIME = `([math]::Round(((Get-Date) - (Get-CimInstance Win32_OperatingSystem).LastBootUpTime).TotalSeconds, 2)).ToString(${INVARIANT})`;

export const encodePowerShell = (script: string): string =>
  Buffer.from(`$ProgressPreference = 'SilentlyContinue'\n${script}`, 'utf16le').toString('base64');

export const windowsAdapter: RemoteShellAdapter = {
  os: 'windows',
  remoteCommand: (script) => `powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${encodePowerShell(script)}`,
  rebootCommand: 'Restart-Computer -Force',
  poweroffCommand: 'Stop-Computer -Force',
  heartbeat: (seconds) => `while ($true) { "BSM-HB $(${UPTIME})"; Start-Sleep -Seconds ${seconds} }`,
  probes: {
    kernel: '$os = Get-CimInstance Win32_OperatingSystem; "$($os.Caption) $($os.Version)"',
    uptimeSeconds: UPTIME,
    interfaces: "Get-NetAdapter | ForEach-Object { '{0} {1}' -f ($_.Name -replace '\\s', '_'), $(if ($_.Status -eq 'Up') { 'up' } else { 'down' }) }",
    diskRead: "$d = [IO.File]::OpenRead('\\\\.\\PhysicalDrive0'); $b = New-Object byte[] 4096; $n = $d.Read($b, 0, 4096); $d.Close(); $n",
    ipv4: "(Get-NetIPAddress -AddressFamily IPv4 | Where-Object { $_.IPAddress -notlike '127.*' -and $_.IPAddress -notlike '169.254.*' } | Select-Object -First 1).IPAddress",
  },
};
