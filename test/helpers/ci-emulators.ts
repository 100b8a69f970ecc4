// The CI systems of docs/examples/ci, small enough to run their nightlies here:
// each reads its file as written (GitHub Actions and GitLab as YAML, a
// Jenkinsfile of the shape the example has), runs its shell steps for real
// with bash or sh in a workspace of its own per job (a fresh checkout: the
// example config as bhyve-smoke.config.yaml), and moves files between jobs and
// nights the way the system does — artifacts within one run, the cache across
// runs, Jenkins' stash within a build. `npx bhyve-smoke` is this checkout's
// CLI, `npm ci` is done already. Anything in a file these do not know is an
// error: an example that drifts from what they run fails its test.
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { CLI } from './cli.ts';

export const CI_EXAMPLES = resolve(import.meta.dirname, '../../docs/examples/ci');

export interface StepLog {
  job: string;
  step: string;
  exitCode: number;
  output: string;
}

/** Where the nights of one CI system keep what outlives a job: its cache, its artifacts and stashes, the agents' homes. */
export interface CiWorld {
  root: string;
  /** Environment every step gets (the sandbox's state, the lab's run root). */
  env: Record<string, string>;
  log: StepLog[];
}

export function ciWorld(root: string, env: Record<string, string>): CiWorld {
  const shims = join(root, 'shims');
  mkdirSync(shims, { recursive: true });
  // The CLI under test for `npx bhyve-smoke`; `npm ci` has nothing left to do.
  writeFileSync(join(shims, 'npx'), `#!/bin/sh\n[ "$1" = bhyve-smoke ] || { echo "npx: only bhyve-smoke here, not $1" >&2; exit 127; }\nshift\nexec node ${CLI} "$@"\n`);
  writeFileSync(join(shims, 'npm'), '#!/bin/sh\n[ "$1" = ci ] || { echo "npm: only npm ci here" >&2; exit 127; }\n');
  for (const f of ['npx', 'npm']) chmodSync(join(shims, f), 0o755);
  mkdirSync(join(root, 'home'), { recursive: true });
  // The agents' home is the world's (Jenkins keeps the history store there); the lab's guest images stay where lab:setup built them.
  const labCache = process.env.BHYVE_LAB_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bhyve-smoke/lab');
  return { root, env: { BHYVE_LAB_CACHE: labCache, ...env, HOME: join(root, 'home'), PATH: `${shims}:${process.env.PATH}` }, log: [] };
}

let workspaces = 0;
/** A job's fresh checkout: the repository's config is the example's. */
function checkout(world: CiWorld, job: string): string {
  const ws = join(world.root, 'ws', `${++workspaces}-${job.replace(/[^\w.-]+/g, '_')}`);
  mkdirSync(ws, { recursive: true });
  cpSync(join(CI_EXAMPLES, 'bhyve-smoke.config.yaml'), join(ws, 'bhyve-smoke.config.yaml'));
  return ws;
}

async function shell(world: CiWorld, job: string, step: string, argv: string[], cwd: string, env: Record<string, string>): Promise<number> {
  const r = await execa(argv[0], argv.slice(1), { cwd, env: { ...world.env, ...env }, reject: false, all: true, timeout: 900_000 });
  world.log.push({ job, step, exitCode: r.exitCode ?? -1, output: String(r.all ?? '') });
  return r.exitCode ?? -1;
}

/** Files matching shell globs in a folder (`shard-*\/`), as the CI's artifact paths do. */
async function globIn(cwd: string, patterns: string[]): Promise<string[]> {
  const r = await execa('bash', ['-c', `shopt -s nullglob; for p in ${patterns.join(' ')}; do printf '%s\\n' "$p"; done`], { cwd });
  return String(r.stdout).split('\n').filter(Boolean).map((p) => p.replace(/\/$/, ''));
}

const copyInto = (from: string, to: string) => {
  mkdirSync(to, { recursive: true });
  cpSync(from, to, { recursive: true });
};

// ---------------------------------------------------------------- GitHub Actions

export interface GithubRun {
  runId: number;
  runNumber: number;
  /** A job instance that never reports (its runner died): no step runs, nothing is uploaded. */
  lost?: (job: string, matrix: Record<string, unknown>) => boolean;
}

/** Runs a workflow's jobs in order of `needs`; returns each job instance's success. */
export async function runGithubWorkflow(world: CiWorld, file: string, run: GithubRun): Promise<Map<string, boolean[]>> {
  const wf = parse(readFileSync(file, 'utf8')) as { jobs: Record<string, GithubJob> };
  const results = new Map<string, boolean[]>();
  const artifacts = join(world.root, 'artifacts', String(run.runId));
  for (const [name, job] of Object.entries(wf.jobs)) {
    const needs = [job.needs ?? []].flat();
    const needsOk = needs.every((n) => results.get(n)?.every(Boolean));
    if (!needsOk && job.if !== 'always()') {
      results.set(name, [false]);
      continue;
    }
    const matrix = job.strategy?.matrix ?? {};
    const keys = Object.keys(matrix);
    if (keys.length > 1) throw new Error(`job ${name}: the emulator expands a matrix of one key`);
    const cells = keys.length ? (matrix[keys[0]] as unknown[]).map((v) => ({ [keys[0]]: v })) : [{}];
    results.set(name, await Promise.all(cells.map(async (cell) => {
      if (run.lost?.(name, cell)) return false;
      const ws = checkout(world, `${name}${keys.length ? `-${Object.values(cell).join('-')}` : ''}`);
      const ctx: Record<string, string> = { 'github.ref_name': 'main', 'github.run_id': String(run.runId), 'github.run_number': String(run.runNumber) };
      for (const [k, v] of Object.entries(cell)) ctx[`matrix.${k}`] = String(v);
      const expr = (s: string) => s.replace(/\$\{\{\s*([\w.]+)\s*\}\}/g, (_, key: string) => {
        if (!(key in ctx)) throw new Error(`job ${name}: the emulator does not know \${{ ${key} }}`);
        return ctx[key];
      });
      let ok = true;
      for (const step of job.steps) {
        if (step.if !== undefined && step.if !== 'always()') throw new Error(`job ${name}: the emulator knows only if: always(), not ${step.if}`);
        if (!ok && step.if !== 'always()') continue;
        const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, expr(String(v))]));
        if (step.run !== undefined) {
          // GitHub's default shell on Linux: bash --noprofile --norc -eo pipefail.
          const code = await shell(world, name, step.run, ['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c', expr(step.run)], ws, {});
          ok &&= code === 0;
          continue;
        }
        const [action] = (step.uses ?? '').split('@');
        switch (action) {
          case 'actions/checkout':
            break;
          case 'actions/cache/restore': {
            const cache = join(world.root, 'cache');
            const entries = existsSync(cache) ? readdirSync(cache).sort() : [];
            const hit = entries.find((e) => e === w.key) ?? entries.filter((e) => w['restore-keys'] && e.startsWith(w['restore-keys'])).at(-1);
            if (hit) copyInto(join(cache, hit, w.path), join(ws, w.path));
            world.log.push({ job: name, step: `cache restore ${w.path}`, exitCode: 0, output: hit ?? 'cache miss' });
            break;
          }
          case 'actions/cache/save': {
            // A key is written once; an existing one is left as it is (GitHub refuses to overwrite).
            const entry = join(world.root, 'cache', w.key);
            if (!existsSync(entry) && existsSync(join(ws, w.path))) copyInto(join(ws, w.path), join(entry, w.path));
            break;
          }
          case 'actions/upload-artifact':
            if (existsSync(join(ws, w.path))) copyInto(join(ws, w.path), join(artifacts, w.name));
            break;
          case 'actions/download-artifact': {
            const names = existsSync(artifacts) ? readdirSync(artifacts) : [];
            const re = new RegExp(`^${(w.pattern ?? w.name).replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
            for (const a of names.filter((n) => re.test(n))) copyInto(join(artifacts, a), w.pattern ? join(ws, w.path, a) : join(ws, w.path));
            break;
          }
          case 'mikepenz/action-junit-report':
            ok &&= existsSync(join(ws, w.report_paths));
            break;
          default:
            throw new Error(`job ${name}: the emulator does not know the action ${step.uses}`);
        }
      }
      return ok;
    })));
  }
  return results;
}

interface GithubJob {
  needs?: string | string[];
  if?: string;
  strategy?: { matrix?: Record<string, unknown> };
  steps: Array<{ uses?: string; run?: string; if?: string; with?: Record<string, unknown> }>;
}

// ---------------------------------------------------------------- GitLab CI

export interface GitlabPipeline {
  iid: number;
  /** A job instance whose runner died: no script, no artifacts. */
  lost?: (job: string, index: number) => boolean;
}

interface GitlabJob {
  stage: string;
  when?: 'always' | 'on_success';
  parallel?: number;
  script: string[];
  cache?: { key: string; paths: string[]; when?: string };
  artifacts?: { when?: string; paths?: string[]; reports?: { junit?: string } };
}

/** Runs a pipeline stage by stage; each job gets the artifacts of the earlier stages' jobs. Returns each job instance's success. */
export async function runGitlabPipeline(world: CiWorld, file: string, p: GitlabPipeline): Promise<Map<string, boolean[]>> {
  const ci = parse(readFileSync(file, 'utf8')) as { stages: string[] } & Record<string, GitlabJob>;
  const jobs = Object.entries(ci).filter(([k]) => !['stages', 'variables', 'default', 'workflow', 'include'].includes(k)) as Array<[string, GitlabJob]>;
  const results = new Map<string, boolean[]>();
  const artifacts = join(world.root, 'artifacts', String(p.iid));
  for (const stage of ci.stages) {
    const earlierOk = [...results.values()].every((r) => r.every(Boolean));
    for (const [name, job] of jobs.filter(([, j]) => j.stage === stage)) {
      if (!earlierOk && job.when !== 'always') {
        results.set(name, [false]);
        continue;
      }
      const n = job.parallel ?? 1;
      results.set(name, await Promise.all(Array.from({ length: n }, async (_, i) => {
        const index = i + 1;
        if (p.lost?.(name, index)) return false;
        const ws = checkout(world, `${name}-${index}`);
        if (existsSync(artifacts)) for (const a of readdirSync(artifacts)) cpSync(join(artifacts, a), ws, { recursive: true });
        const vars: Record<string, string> = { CI_PIPELINE_IID: String(p.iid), CI_COMMIT_REF_SLUG: 'main', CI_PROJECT_DIR: ws, ...(job.parallel ? { CI_NODE_INDEX: String(index), CI_NODE_TOTAL: String(n) } : {}) };
        const expand = (s: string) => s.replace(/\$(\w+)/g, (_, v: string) => vars[v] ?? '');
        const cacheDir = job.cache ? join(world.root, 'cache', expand(job.cache.key)) : undefined;
        if (cacheDir && existsSync(cacheDir)) cpSync(cacheDir, ws, { recursive: true });
        // The script's lines run in one shell, stopping at the first that fails.
        const code = await shell(world, name, job.script.join('\n'), ['bash', '-eo', 'pipefail', '-c', job.script.join('\n')], ws, vars);
        const ok = code === 0;
        if (job.cache && cacheDir && (ok || job.cache.when === 'always')) {
          for (const path of await globIn(ws, job.cache.paths)) copyInto(join(ws, path), join(cacheDir, path));
        }
        if (job.artifacts && (ok || job.artifacts.when === 'always')) {
          for (const path of await globIn(ws, job.artifacts.paths ?? [])) copyInto(join(ws, path), join(artifacts, `${name}-${index}`, path));
          if (job.artifacts.reports?.junit && (await globIn(ws, [job.artifacts.reports.junit])).length === 0) world.log.push({ job: name, step: 'junit report', exitCode: 1, output: `no ${job.artifacts.reports.junit}` });
        }
        return ok;
      })));
    }
  }
  return results;
}

// ---------------------------------------------------------------- Jenkins

export interface JenkinsBuild {
  number: number;
  /** A parallel stage whose agent died: nothing runs, nothing is stashed. */
  lost?: (stage: string) => boolean;
}

/** A declarative step the emulator runs; anything else in a steps or post block is an error. */
const JENKINS_STEP = /^(?:sh '([^']*)'|stash name: '([^']+)', includes: '([^']+)\/\*\*', allowEmpty: true|catchError\(buildResult: 'FAILURE', stageResult: 'FAILURE'\) \{ unstash '([^']+)' \}|junit testResults: '([^']+)', keepProperties: true|archiveArtifacts .*)$/;

/** Runs the Jenkinsfile's parallel stages, then its report stage, as an agent each. Returns each stage's success. */
export async function runJenkinsPipeline(world: CiWorld, file: string, build: JenkinsBuild): Promise<Map<string, boolean>> {
  const text = readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '');
  const stashes = join(world.root, 'stash', String(build.number));
  const results = new Map<string, boolean>();
  const steps = (block: string) => block.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const m = JENKINS_STEP.exec(line);
    if (!m) throw new Error(`Jenkinsfile: the emulator does not know the step \`${line}\``);
    return m;
  });
  const runStage = async (name: string, body: { steps: string; post?: string }) => {
    const ws = checkout(world, name);
    const env = { BUILD_NUMBER: String(build.number), WORKSPACE: ws };
    let ok = true;
    const exec = async (m: RegExpExecArray, always: boolean) => {
      if (!ok && !always) return;
      const [, sh, stashName, stashDir, unstash, junit] = m;
      if (sh !== undefined) ok = (await shell(world, name, sh, ['sh', '-e', '-c', sh], ws, env)) === 0 && ok;
      else if (stashName && existsSync(join(ws, stashDir))) copyInto(join(ws, stashDir), join(stashes, stashName, stashDir));
      else if (unstash) {
        if (existsSync(join(stashes, unstash))) cpSync(join(stashes, unstash), ws, { recursive: true });
        else world.log.push({ job: name, step: `unstash ${unstash}`, exitCode: 1, output: `No such saved stash '${unstash}'` });
      } else if (junit) ok = existsSync(join(ws, junit)) && ok;
    };
    for (const m of steps(body.steps)) await exec(m, false);
    for (const m of steps(body.post ?? '')) await exec(m, true);
    results.set(name, ok);
  };
  const shard = /stage\('([^']+)'\) \{\s*agent \{ label 'bhyve' \}\s*steps \{ (.*) \}\s*post \{ always \{ (.*) \} \}\s*\}/g;
  const parallel = [...text.matchAll(shard)];
  if (parallel.length === 0) throw new Error('Jenkinsfile: no parallel stage of the shape the emulator runs');
  await Promise.all(parallel.map(async ([, name, stepsBlock, post]) => (build.lost?.(name) ? results.set(name, false) : runStage(name, { steps: stepsBlock, post }))));
  const report = /stage\('report'\) \{\s*agent \{ label 'bhyve' \}\s*steps \{([^}]*(?:\{[^}]*\}[^}]*)*)\}\s*post \{\s*always \{([^}]*)\}\s*\}/.exec(text);
  if (!report) throw new Error('Jenkinsfile: no report stage of the shape the emulator runs');
  await runStage('report', { steps: report[1], post: report[2] });
  return results;
}

/** The output of the steps whose command matches. */
export const stepOutput = (world: CiWorld, job: string, command: RegExp): StepLog[] => world.log.filter((s) => s.job === job && command.test(s.step));
