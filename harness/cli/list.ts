// bhyve-smoke list: the tests the config yields (suites × hosts × guests).
import { planTests } from '../run/plan.ts';
import { PACKAGE_ROOT, suitesFor } from '../run/suites.ts';
import { join, relative } from 'node:path';
import type { Command } from './command.ts';
import { CONFIG_OPTION, loadWithHost } from './context.ts';

export const listCommand: Command = {
  name: 'list',
  summary: 'list the suites and where each comes from, the tests (suite/host/guest) the config yields, and why any would be skipped',
  usage: 'bhyve-smoke list [SUITE...] [options]',
  options: {
    config: CONFIG_OPTION,
    host: { type: 'string', help: 'only this configured host or pool' },
    guest: { type: 'string', help: 'only this configured guest' },
  },
  async run(values, positionals) {
    const { config, source } = await loadWithHost(values.config as string | undefined, undefined);
    const { suites, names } = await suitesFor(config, source, positionals);
    const tests = planTests(config, suites, { suites: names, host: values.host as string | undefined, guest: values.guest as string | undefined, repeatEach: 1 });
    process.stdout.write(`config: ${source}\n`);
    // Where each suite comes from: the package's own, or the user's file.
    for (const s of suites.values()) if (!names.length || names.includes(s.name)) process.stdout.write(`suite ${s.name.padEnd(20)} ${s.source.startsWith(join(PACKAGE_ROOT, 'suites/')) ? `bhyve-smoke's suites/${relative(join(PACKAGE_ROOT, 'suites'), s.source)}` : s.source}\n`);
    for (const t of tests) process.stdout.write(`${t.id.padEnd(40)} ${t.skip ? `skip: ${t.skip}` : t.suite.description}\n`);
    // Known from the platform alone are the skips above; what a host has is probed when a run starts.
    const needs = [...new Set(tests.filter((t) => !t.skip).flatMap((t) => t.suite.needs))];
    if (needs.length) process.stdout.write(`needs ${needs.join(', ')}: probed on each host when the run starts (bhyve-smoke doctor shows what each has); a host without skips the tests\n`);
    return 0;
  },
};
