// Triage: known-issue signatures (config `knownIssues`) matched against a
// failed test's console, evidence and messages. A match labels the failure
// "known: ID" in results, JUnit and the run's output, so a nightly's reader
// sees at once which failures are new.
import { readFileSync } from 'node:fs';

export interface KnownMatch {
  id: string;
  summary?: string;
  /** Where it matched: console, evidence (the attachment's name) or messages. */
  where: string;
  /** The matching line, trimmed. */
  line: string;
}

/** The most of one evidence file that is searched. */
const EVIDENCE_LIMIT = 4 * 1024 * 1024;

function readEvidence(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-EVIDENCE_LIMIT);
  } catch {
    return '';
  }
}

const lineAt = (text: string, index: number) => text.slice(text.lastIndexOf('\n', index) + 1, (text.indexOf('\n', index) + 1 || text.length + 1) - 1).trim().slice(0, 300);

/** Known issues whose signature is in a failed or errored test; none for a test that passed. */
/** A known issue's signature (the config's knownIssues entries are these). */
export interface KnownIssue {
  id: string;
  /** A regular expression, multi-line. */
  pattern: string;
  /** Where to look: the console, the evidence files, the failure messages. */
  in: ReadonlyArray<'console' | 'evidence' | 'messages'>;
  summary?: string;
}

/** What triage reads of a test's result (report/results.ts's TestResult is one). */
export interface TriageInput {
  status: string;
  error?: { message: string };
  checks: ReadonlyArray<{ status: string; message?: string }>;
  consoleTail?: string;
  attachments: ReadonlyArray<{ name: string; path: string }>;
}

export function triage(result: TriageInput, issues: readonly KnownIssue[], read: (path: string) => string = readEvidence): KnownMatch[] {
  if (issues.length === 0 || (result.status !== 'failed' && result.status !== 'error')) return [];
  const messages = [result.error?.message, ...result.checks.filter((c) => c.status === 'failed' || c.status === 'error').map((c) => c.message)].filter(Boolean).join('\n');
  const sources: Array<{ kind: KnownIssue['in'][number]; where: string; text: () => string }> = [
    { kind: 'messages', where: 'messages', text: () => messages },
    { kind: 'console', where: 'console', text: () => result.consoleTail ?? '' },
    ...result.attachments.map((a) => ({ kind: (a.name === 'console' ? 'console' : 'evidence') as KnownIssue['in'][number], where: a.name, text: () => read(a.path) })),
  ];
  const matches: KnownMatch[] = [];
  for (const issue of issues) {
    const pattern = new RegExp(issue.pattern, 'm');
    for (const s of sources.filter((x) => issue.in.includes(x.kind))) {
      const text = s.text();
      const m = pattern.exec(text);
      if (m) {
        matches.push({ id: issue.id, ...(issue.summary ? { summary: issue.summary } : {}), where: s.where, line: lineAt(text, m.index) });
        break;
      }
    }
  }
  return matches;
}
