import { execFileSync } from 'node:child_process';
// npm run bench -- [NAME...]: runs the named benchmarks (all when none) and prints figures.
const benches: Record<string, () => Promise<void>> = {
  lab: async () => (await import('./lab.ts')).benchLab(),
  smoke: async () => (await import('./smoke.ts')).benchSmoke(),
  stress: async () => (await import('./stress.ts')).benchStress(),
  gate: async () => (await import('./gate.ts')).benchGate(),
  report: async () => (await import('./report.ts')).benchReport(),
  images: async () => (await import('./images.ts')).benchImages(),
  history: async () => (await import('./history.ts')).benchHistory(),
  dose: async () => (await import('./dose.ts')).benchDose(),
  'host-output': async () => (await import('./host-output.ts')).benchHostOutput(),
  'false-alarms': async () => (await import('./false-alarms.ts')).benchFalseAlarms(),
  'gate-boots': async () => (await import('./gate-boots.ts')).benchGateBoots(),
  pinning: async () => (await import('./pinning.ts')).benchPinning(),
};

const wanted = process.argv.slice(2);
// The benchmarks run the CLI as users do, compiled: build it from the sources first.
execFileSync(process.execPath, [new URL('../bin/build-dist.mjs', import.meta.url).pathname], { stdio: 'ignore' });
const unknown = wanted.filter((name) => !(name in benches));
if (unknown.length) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')} (known: ${Object.keys(benches).join(', ')})`);
  process.exit(2);
}
for (const name of wanted.length ? wanted : Object.keys(benches)) {
  console.log(`== ${name}`);
  await benches[name]();
}
