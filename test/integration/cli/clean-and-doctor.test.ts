// A run killed with SIGKILL cannot tidy up; its run record lets `clean` reap
// exactly its vms. A foreign vm with a similar name is left alone. And
// `doctor` tells a ready host from one that is not.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { execa } from 'execa';
import { cliSandbox, waitForRunVm, inSandbox } from '../../helpers/cli.ts';
import { LAB_BIN, LAB_RUN_ROOT, runBounded, startLabVm } from '../../helpers/lab.ts';

const LAB_VMM = `${LAB_RUN_ROOT}/vmm`;
const dladm = (...args: string[]) => execa(join(LAB_BIN, 'dladm'), args);
const vnics = async () => (await dladm('show-vnic', '-p', '-o', 'link')).stdout.split('\n').filter(Boolean);

describe('clean and doctor', { timeout: 300_000 }, () => {
  it('clean reaps the vms of a run killed with SIGKILL and leaves a foreign vm alone', async () => {
    const box = cliSandbox();
    const foreign = startLabVm('bsm-zz9zz9zz-1', { BHYVE_LAB_RUNDIR: LAB_RUN_ROOT });
    try {
      const child = box.run(['run', 'smoke', '--output', 'out']);
      const { runId, vm } = await waitForRunVm(box.dir, (d) => existsSync(`${d}/qemu.pid`));
      child.kill('SIGKILL');
      await child;
      await sleep(1_000);
      assert.ok(existsSync(`${LAB_VMM}/${vm}`), 'the vm should outlive a SIGKILLed harness');
      assert.ok((await vnics()).includes(vm.replace(/-/g, '_')), 'the vm has its VNIC');
      // A VNIC of the run whose vm is gone already (a run killed between making the link and starting bhyve).
      await dladm('create-vnic', '-t', '-l', 'user0', `bsm_${runId}_9`);

      const r = await box.run(['clean']);
      assert.equal(r.exitCode, 0, String(r.stderr));
      assert.match(String(r.stdout), new RegExp(`run ${runId}: destroyed ${vm} on lab, link bsm_${runId}_9 on lab`));
      assert.ok(!existsSync(`${LAB_VMM}/${vm}`), 'clean left the vm');
      assert.deepEqual((await vnics()).filter((n) => n.includes(runId)), [], 'clean left a VNIC of the run');
      assert.ok((await vnics()).includes('bsm_zz9zz9zz_1'), 'clean touched a VNIC it does not own');
      assert.ok(!existsSync(`/tmp/bhyve-smoke/${runId}`), 'clean left the run folder');
      assert.ok(existsSync(`${LAB_VMM}/bsm-zz9zz9zz-1`), 'clean touched a vm it does not own');
      assert.match(String((await box.run(['clean'])).stdout), /^nothing to clean/);
    } finally {
      await runBounded(join(LAB_BIN, 'bhyvectl'), ['--vm=bsm-zz9zz9zz-1', '--destroy'], {}, 30_000);
      await foreign.bhyve;
      await dladm('delete-vnic', '-t', 'bsm_zz9zz9zz_1');
      box.cleanup();
    }
  });

  it('a run record that cannot be read is set aside and reported, every time, never dropped in silence', async () => {
    await inSandbox(async (box) => {
      const state = join(box.dir, 'state');
      mkdirSync(state, { recursive: true });
      writeFileSync(join(state, 'abcd1234.json'), '{"runId": "abcd1234", "pid": 1, "hos');
      writeFileSync(join(state, 'efgh5678.json'), '{"hello": "world"}\n');
      for (const round of [1, 2]) {
        const r = await box.run(['clean']);
        assert.equal(r.exitCode, 3, `round ${round}: ${r.stdout}${r.stderr}`);
        assert.match(String(r.stdout), /^run record \S+abcd1234\.json cannot be read \(.+\); kept as \S+abcd1234\.json\.corrupt\. The vms and links of its run are not reaped/m, `round ${round}`);
        assert.match(String(r.stdout), /^run record \S+efgh5678\.json cannot be read/m, `round ${round}`);
      }
      assert.ok(existsSync(join(state, 'abcd1234.json.corrupt')) && existsSync(join(state, 'efgh5678.json.corrupt')), 'kept aside, not lost');
      assert.match(readFileSync(join(state, 'abcd1234.json.corrupt'), 'utf8'), /"runId": "abcd1234"/);
    });
  });

  it('doctor passes on the lab and names what is missing', async () => {
    await inSandbox(async (box) => {
      const ok = await box.run(['doctor']);
      assert.equal(ok.exitCode, 0, String(ok.stdout));
      for (const what of ['reachable', 'platform lab', 'bhyve present', 'bhyvectl present', 'vm network user0', 'may create VNICs', 'free memory', 'guest linux bootrom', 'guest linux disk']) {
        assert.match(String(ok.stdout), new RegExp(`^  ok {3}${what}`, 'm'));
      }
      // What the lab offers the tests, each with how it was told.
      for (const c of ['wrlock', 'wrlock-trace', 'vcpu-stats', 'framebuffer', 'links']) assert.match(String(ok.stdout), new RegExp(`^  has  ${c}: \\S`, 'm'));
      writeFileSync(join(box.dir, 'bhyve-smoke.config.yaml'), stringify({
        hosts: { lab: { transport: 'local', platform: 'lab' } },
        guests: { linux: { os: 'linux', image: { bootrom: '@lab/guest', disk: '/nonexistent/golden.img' }, credentials: { passwordEnv: 'X' } } },
      }));
      const bad = await box.run(['doctor']);
      assert.equal(bad.exitCode, 3);
      assert.match(String(bad.stdout), /FAIL guest linux disk: \/nonexistent\/golden\.img is not on the host/);
    });
  });
});
