// Command framing for guests whose console shell is a POSIX sh (Linux, FreeBSD).
// The markers are printed with printf from split arguments, so the echoed
// command line never contains them and only real output can match.
import type { FramedCommand } from './adapter.ts';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A loop printing `BSM-HB <uptime>` every `seconds`, in the foreground. */
export const heartbeatLoop = (uptimeCommand: string, seconds: number) =>
  `while :; do echo "BSM-HB $(${uptimeCommand})"; sleep ${seconds}; done`;

/**
 * The heartbeat loop in the background, written to the console device itself
 * so it reaches the serial line whatever the shell's stdout is at the time.
 */
export const shellHeartbeat = (uptimeCommand: string, consoleDevice: string) => (seconds: number) =>
  `(${heartbeatLoop(uptimeCommand, seconds)}) </dev/null >${consoleDevice} 2>&1 &`;

export function frameShellCommand(command: string, tag: string): FramedCommand {
  const begin = new RegExp(`${escape(tag)}-B\\r?\\n`);
  const end = new RegExp(`\\r?\\n${escape(tag)}-E (\\d+)\\r?\\n`);
  return {
    // stdin from /dev/null: a command must never eat the next line we type.
    line: `printf '%s-B\\n' ${tag}; { ${command}\n} </dev/null 2>&1; printf '\\n%s-E %d\\n' ${tag} $?\n`,
    parse(text) {
      const b = begin.exec(text);
      if (!b) return undefined;
      const rest = text.slice(b.index + b[0].length);
      const e = end.exec(rest);
      if (!e) return undefined;
      return { output: rest.slice(0, e.index).replace(/\r/g, ''), status: Number(e[1]) };
    },
  };
}
