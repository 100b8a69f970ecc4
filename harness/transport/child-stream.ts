// A child process's stdin and stdout as one stream (a console reached through a command).
import type { ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';

/** stdin and stdout of a child as one Duplex; destroying it (or the child ending) closes both and runs `kill`. */
export function streamOf(child: ChildProcess, kill: () => void): Duplex {
  const duplex = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
  duplex.on('error', () => {}); // destroying a Duplex.from pair reports an AbortError; the end is seen as 'close'
  duplex.once('close', kill);
  child.once('exit', () => duplex.destroy());
  return duplex;
}
