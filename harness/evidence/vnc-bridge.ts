// noVNC speaks RFB over a websocket; bhyve's fbuf speaks plain RFB on a unix
// socket or TCP port on its host. The bridge is a websocket server on
// 127.0.0.1 that, per connection, opens the framebuffer through the host's
// transport (an ssh forward for a remote host) and pipes the two together.
// Its path carries a random token: another local user cannot reach the screen
// through it.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { messageOf } from '../errors.ts';

export interface VncBridge {
  /** ws://127.0.0.1:PORT/websockify/TOKEN */
  url: string;
  /** Why the last connection to the framebuffer failed, if it did. */
  lastError?: string;
  close(): Promise<void>;
}

export async function openVncBridge(connect: () => Promise<Duplex>): Promise<VncBridge> {
  // ws loads with the first screenshot, not with every command.
  const { createWebSocketStream, WebSocketServer } = await import('ws');
  const path = `/websockify/${randomBytes(16).toString('hex')}`;
  const server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path, handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false) });
  const open = new Set<Duplex>();
  const bridge: VncBridge = {
    url: '',
    close: async () => {
      for (const s of open) s.destroy();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((done) => wss.close(() => server.close(() => done())));
    },
  };
  wss.on('connection', (ws) => {
    connect().then((rfb) => {
      open.add(rfb);
      const socket = createWebSocketStream(ws);
      const end = () => {
        open.delete(rfb);
        rfb.destroy();
        socket.destroy();
      };
      rfb.on('error', (e) => { bridge.lastError = messageOf(e); end(); });
      rfb.on('close', end);
      socket.on('error', end);
      socket.on('close', end);
      rfb.pipe(socket).pipe(rfb);
    }, (e) => {
      bridge.lastError = `cannot reach the framebuffer: ${messageOf(e)}`;
      ws.close(1011, 'framebuffer unreachable');
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const { port } = server.address() as { port: number };
  bridge.url = `ws://127.0.0.1:${port}${path}`;
  return bridge;
}
