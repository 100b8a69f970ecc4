// bhyve ends its QEMU process group on SIGINT/SIGTERM; fbuf becomes QEMU's
// VNC with a websocket on 127.0.0.1.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { checkedPid, isAlive, labRunRoot, readPid, startLabVm } from '../../helpers/lab.ts';

const qemuPidOnceUp = async (dir: string): Promise<number> => {
  for (let i = 0; i < 100; i++) {
    try {
      readFileSync(`${dir}/vcpus`); // written once QMP answered
      return readPid(`${dir}/qemu.pid`);
    } catch {
      await sleep(100);
    }
  }
  throw new Error(`no QEMU came up in ${dir}`);
};

describe('lab signals and framebuffer', { timeout: 120_000 }, () => {
  for (const [signal, status] of [['SIGTERM', 1], ['SIGINT', 4]] as const) {
    it(`${signal} to bhyve ends QEMU and exits ${status}; the vm stays until destroy`, async () => {
      const run = labRunRoot();
      const vm = startLabVm('sig1', run.env);
      try {
        const qemu = await qemuPidOnceUp(vm.dir);
        process.kill(vm.bhyve.pid!, signal);
        assert.equal((await vm.bhyve).exitCode, status);
        await sleep(200);
        assert.equal(isAlive(qemu), false, `QEMU ${qemu} survived ${signal}`);
      } finally {
        await vm.bhyvectl('--destroy');
        run.cleanup();
      }
    });
  }

  it('a QEMU left running by a bhyve killed outright cannot be frozen: --wrlock-cycle exits ENXIO (6) and prints nothing, as bhyvectl.c does', async () => {
    const run = labRunRoot();
    const vm = startLabVm('orphan1', run.env);
    try {
      const qemu = await qemuPidOnceUp(vm.dir);
      process.kill(checkedPid(vm.bhyve.pid!, 'bhyve'), 'SIGKILL');
      await vm.bhyve;
      assert.equal(isAlive(qemu), true, 'SIGKILL runs no exit handler: QEMU is left running');
      const r = await vm.bhyvectl('--wrlock-cycle');
      assert.deepEqual([r.exitCode, r.stdout, r.stderr], [6, '', '']);
    } finally {
      await vm.bhyvectl('--destroy');
      run.cleanup();
    }
  });

  it('fbuf serves RFB over a websocket on 127.0.0.1', async () => {
    const run = labRunRoot();
    const vm = startLabVm('vnc1', run.env, ['-s', '30,fbuf,rfb=127.0.0.1:5987,w=800,h=600']);
    try {
      await qemuPidOnceUp(vm.dir);
      const { vnc } = JSON.parse(readFileSync(`${vm.dir}/net.json`, 'utf8'));
      assert.equal(vnc.rfb, '127.0.0.1:5987');
      const [host, port] = vnc.websocket.split(':');
      assert.equal(host, '127.0.0.1');
      const reply = await new Promise<string>((resolve, reject) => {
        const s = connect(Number(port), host, () => {
          s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\r\n');
        });
        let data = '';
        const timer = setTimeout(() => { s.destroy(); reject(new Error(`no RFB greeting; got ${JSON.stringify(data)}`)); }, 10_000);
        s.on('data', (d) => {
          data += d.toString('latin1');
          if (data.includes('RFB 003.008')) { clearTimeout(timer); s.destroy(); resolve(data); }
        });
        s.on('error', reject);
      });
      assert.match(reply, /^HTTP\/1\.1 101 Switching Protocols/);
    } finally {
      await vm.bhyvectl('--destroy');
      run.cleanup();
    }
  });
});
