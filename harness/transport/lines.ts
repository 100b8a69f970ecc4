// A command's output line by line, each with the moment it arrived: the
// harness times host-side loops (the hammer) and iperf3 intervals by arrival.
export function onLines(stream: NodeJS.ReadableStream, handle: (line: string, arrivedAt: number) => void): void {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const now = Date.now();
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      handle(buffer.slice(0, nl), now);
      buffer = buffer.slice(nl + 1);
    }
  });
}
