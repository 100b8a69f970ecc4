#!/usr/bin/env node
// The bhyve-smoke command. The harness is TypeScript, loaded through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../harness/cli/main.ts');
// Exit explicitly: a lingering ssh master or timer must not hold a finished run open.
process.exit(await main(process.argv.slice(2)));
