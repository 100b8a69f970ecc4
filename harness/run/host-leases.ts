// Host leases: a run's claim on a host's slots, kept on the host itself so
// that every process reaching the host sees it — shards on other CI workers,
// an engineer at the desk, a gate. A slot is a folder made with mkdir (atomic
// on every platform: one maker wins), holding who took it (`owner`) and when
// it last said it was alive (`alive`, the host's clock in seconds, so no two
// clocks are compared). A run renews its leases while it lives; one not
// renewed for thresholds.leaseStale is stale — its run died — and the next
// process that finds it breaks it, saying whose it was.
//
// Slots are numbered from 0: a test takes one of slot-0..slot-(capacity-1); an
// exclusive test (a measurement) or a gate takes `whole`, which no slot may be
// taken beside, so it holds the whole host against every process, whatever
// capacity each thinks the host has.
import { hostname, userInfo } from 'node:os';
import { InfraError, messageOf } from '../errors.ts';
import type { Host } from '../host.ts';
import { shQuote } from '../transport/quote.ts';

/** Who holds a lease, as written in its `owner` file. */
export interface LeaseOwner {
  /** The run id: the lease's token. */
  run: string;
  pid: number;
  /** The bhyve-smoke command line of the run. */
  command: string;
  /** user@machine the run runs on. */
  where: string;
  /** When it took the lease (ISO). */
  since: string;
  /**
   * Seconds without renewal after which this lease is stale, where longer than
   * the breaker's own: a gate holds its host through reboots, when no renewal
   * reaches it.
   */
  stale?: number;
}

/** A lease found on a host: its entry (`slot-N`, `whole`), its owner (fields as read: a lease may be half written) and seconds since it was last renewed. */
export interface FoundLease {
  slot: LeaseEntry;
  ageS: number;
  owner: Partial<Record<keyof LeaseOwner, string>>;
}

/** The owner of this process's leases. */
export function ownerOfThisRun(run: string, argv = process.argv.slice(2)): LeaseOwner {
  const command = `bhyve-smoke ${argv.join(' ')}`.slice(0, 300);
  return { run, pid: process.pid, command, where: `${userInfo().username}@${hostname()}`, since: new Date().toISOString() };
}

const ownerFile = (o: LeaseOwner) =>
  (Object.keys(o) as Array<keyof LeaseOwner>).filter((k) => o[k] !== undefined).map((k) => `${k}=${String(o[k]).replace(/[\n\t\r]/g, ' ')}`).join('\n');

/** One line for a person: whose lease, from where, since when. */
export function describeLease(l: FoundLease): string {
  const o = l.owner;
  const who = o.run ? `run ${o.run}` : 'a run that had not yet written its name';
  const detail = [o.command && `\`${o.command}\``, o.pid && `pid ${o.pid}`, o.where && `on ${o.where}`, o.since && `since ${o.since}`].filter(Boolean).join(', ');
  return `${who}${detail ? ` (${detail})` : ''}, renewed ${l.ageS} s ago`;
}

/** The entries a taker of up to `capacity` slots looks at: the whole host's and its slots'. */
const entriesUpTo = (capacity: number) => ['whole', ...Array.from({ length: capacity }, (_, i) => `slot-${i}`)].join(' ');
/** The slot folders present (a slot's break lock is none). */
const slotFolders = (root: string) => `$(cd "${root}" 2>/dev/null && ls -d slot-* 2>/dev/null | grep -v '[.]break$')`;
/** Every entry there is (an exclusive taker's, and clean's): the whole host's and every slot folder present. */
const EVERY_ENTRY = (root: string) => `whole ${slotFolders(root)}`;

/**
 * The shell that breaks the stale leases among `entries`: under a break lock
 * (`NAME.break`, itself stale after a minute), re-read and removed only if
 * still stale, so two processes breaking at once cannot remove a lease one
 * of them has just taken. A lease with no `alive` yet is being written: it is
 * read again a second later before it counts as stale.
 */
const breakStale = (root: string, entries: string, staleS: number) => `
now=$(date +%s)
age() { a=$(cat "$1/alive" 2>/dev/null) || a=; case "$a" in ''|*[!0-9]*) a=0;; esac; echo $(( $(date +%s) - a )); }
limit() { l=$(sed -n 's/^stale=//p' "$1/owner" 2>/dev/null); case "$l" in ''|*[!0-9]*) l=0;; esac; [ "$l" -gt ${staleS} ] && echo "$l" || echo ${staleS}; }
for s in ${entries}; do
  d="${root}/$s"
  [ -d "$d" ] || continue
  [ "$(age "$d")" -gt "$(limit "$d")" ] || continue
  if [ -d "$d.break" ]; then b=$(cat "$d.break/at" 2>/dev/null) || b=0; case "$b" in ''|*[!0-9]*) b=0;; esac; [ $((now - b)) -gt 60 ] && rm -rf "$d.break"; fi
  mkdir "$d.break" 2>/dev/null || continue
  echo "$now" > "$d.break/at"
  [ -f "$d/alive" ] || sleep 1
  if [ -d "$d" ] && [ "$(age "$d")" -gt "$(limit "$d")" ]; then
    printf 'broke\t%s\t%s\t' "$s" "$(age "$d")"; tr '\n' '\t' < "$d/owner" 2>/dev/null; echo
    rm -rf "$d"
  fi
  rm -rf "$d.break"
done`;

/** Lists the leases among `entries`: one `held` line each. */
const listHeld = (root: string, entries: string) => `
for s in ${entries}; do
  d="${root}/$s"
  [ -d "$d" ] || continue
  printf 'held\t%s\t%s\t' "$s" "$(age "$d")"; tr '\n' '\t' < "$d/owner" 2>/dev/null; echo
done`;

/**
 * Takes a slot of `capacity`, or (exclusive) the whole host. Each side makes
 * its folder first and then looks for the other's, so of two that race at
 * least one sees the other and lets go: a slot taker backs off from a
 * \`whole\` folder, the whole-host taker from any slot folder. Prints \`took\tNAME\`.
 */
const takeEntry = (root: string, capacity: number, owner: string, exclusive: boolean) => {
  const make = (name: string) => `mkdir "${root}/${name}" 2>/dev/null && { printf '%s\\n' ${owner} > "${root}/${name}/owner"; date +%s > "${root}/${name}/alive"; }`;
  return exclusive ? `
if ${make('whole')}; then
  if [ -z "${slotFolders(root)}" ]; then echo "took	whole"; exit 0; fi
  rm -rf "${root}/whole"
fi` : `
for s in ${Array.from({ length: capacity }, (_, i) => `slot-${i}`).join(' ')}; do
  if ${make('$s')}; then
    [ -d "${root}/whole" ] || { echo "took	$s"; exit 0; }
    rm -rf "${root}/$s"
    break
  fi
done`;
};

/** A lease's folder: `slot-N`, or `whole` (an exclusive test's, or a gate's). */
export type LeaseEntry = string;

/** How a person reads an entry. */
export const entryName = (entry: LeaseEntry) => (entry === 'whole' ? 'the whole host' : entry.replace(/^slot-/, 'slot '));

/** Parses `broke`/`held`/`lost` lines: TAG, entry, age, then the owner's key=value fields. */
export function parseLeaseLines(output: string, tag: 'broke' | 'held' | 'lost'): FoundLease[] {
  return output.split('\n').filter((l) => l.startsWith(`${tag}\t`)).map((line) => {
    const [, entry, age, ...fields] = line.split('\t');
    if (!/^(?:whole|slot-\d+)$/.test(entry) || !/^-?\d+$/.test(age)) throw new InfraError(`a lease line that is not "${tag} ENTRY AGE FIELDS…": ${JSON.stringify(line)}`);
    const owner: FoundLease['owner'] = {};
    for (const f of fields) {
      const eq = f.indexOf('=');
      if (eq > 0) (owner as Record<string, string>)[f.slice(0, eq)] = f.slice(eq + 1);
    }
    return { slot: entry, ageS: Number(age), owner };
  });
}

/** The slots taken, or (none taken) who holds them; and the stale leases broken on the way. */
export interface TakeResult {
  taken?: LeaseEntry[];
  heldBy: FoundLease[];
  broke: FoundLease[];
}

/**
 * This process's leases on one host. Its commands run one at a time (a renewal
 * never races a release), and while it holds any slot it renews them every
 * quarter of the stale time.
 */
export class HostLeases {
  private readonly held = new Set<LeaseEntry>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Renewals are failing (a host rebooting or away): said once, not every quarter of the stale time. */
  private renewalFailing = false;
  private timer?: NodeJS.Timeout;
  private readonly root: string;

  constructor(
    private readonly host: Host,
    private readonly owner: LeaseOwner,
    private readonly staleMs: number,
    /** Something the run should know: a lease of ours broken by another process, a renewal that failed. */
    private readonly note: (line: string) => void,
  ) {
    this.root = host.platform.leaseRoot;
  }

  private get staleS() {
    return Math.max(1, Math.round(this.staleMs / 1000));
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Tries once to take a slot of 0..capacity-1 (exclusive: the whole host), breaking stale leases first. */
  take(capacity: number, exclusive: boolean): Promise<TakeResult> {
    return this.serial(async () => {
      const entries = exclusive ? EVERY_ENTRY(this.root) : entriesUpTo(capacity);
      const script = [
        `mkdir -p "${this.root}" || exit 1`,
        breakStale(this.root, entries, this.staleS),
        takeEntry(this.root, capacity, shQuote(ownerFile(this.owner)), exclusive),
        listHeld(this.root, entries),
      ].join('\n');
      const r = await this.host.exec(script, { doing: `taking a lease on ${this.host.name} (${this.root})` });
      const broke = parseLeaseLines(r.stdout, 'broke');
      const took = r.stdout.split('\n').find((l) => l.startsWith('took\t'));
      if (!took) {
        const heldBy = parseLeaseLines(r.stdout, 'held');
        // Every slot free yet none taken: mkdir failed for another reason (a full or read-only folder).
        if (heldBy.length === 0) throw new InfraError(`no lease could be taken on ${this.host.name} though no slot is held: cannot make a folder in ${this.root}\n${r.stdout}${r.stderr}`);
        return { heldBy, broke };
      }
      const taken = [took.slice(5).trim()];
      for (const s of taken) this.held.add(s);
      this.startRenewing();
      return { taken, heldBy: [], broke };
    });
  }

  release(slots: LeaseEntry[]): Promise<void> {
    return this.serial(async () => {
      for (const s of slots) this.held.delete(s);
      if (this.held.size === 0) this.stopRenewing();
      await this.host.exec(this.forEachOurs(slots, 'rm -rf "$d"', ''), { doing: `releasing the lease on ${this.host.name}` });
    });
  }

  /** Lets go of every lease still held (the run's end). */
  async releaseAll(): Promise<void> {
    if (this.held.size) await this.release([...this.held]).catch((e) => this.note(`the leases on ${this.host.name} could not be released (they go stale in ${this.staleS} s): ${messageOf(e).split('\n')[0]}`));
    this.stopRenewing();
  }

  private renew(): Promise<void> {
    return this.serial(async () => {
      if (this.held.size === 0) return;
      const r = await this.host.exec(this.forEachOurs([...this.held], 'date +%s > "$d/alive"', `printf 'lost\\t%s\\t%s\\t' "$s" 0; tr '\\n' '\\t' < "$d/owner" 2>/dev/null; echo`),
        { doing: `renewing the leases on ${this.host.name}` });
      for (const lost of parseLeaseLines(r.stdout, 'lost')) {
        this.held.delete(lost.slot);
        this.note(`lease on ${this.host.name} (${entryName(lost.slot)}) was broken by another process${lost.owner.run ? ` and is now ${describeLease(lost)}` : ''}: this run's leases were not renewed within ${this.staleS} s`);
      }
    });
  }

  /** A command for each of `slots` that are still ours (their owner names this run): `ours`, else `theirs`. */
  private forEachOurs(slots: LeaseEntry[], ours: string, theirs: string) {
    return `for s in ${slots.join(' ')}; do d="${this.root}/$s"; if grep -qx ${shQuote(`run=${this.owner.run}`)} "$d/owner" 2>/dev/null; then ${ours}; ${theirs ? `else ${theirs}; ` : ''}fi; done; true`;
  }

  private startRenewing() {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.renew().then(() => {
        if (this.renewalFailing) this.note(`the leases on ${this.host.name} are renewed again`);
        this.renewalFailing = false;
      }, (e) => {
        if (!this.renewalFailing) this.note(`renewing the leases on ${this.host.name} failed (tried again every ${Math.round(this.staleMs / 4000)} s): ${messageOf(e).split('\n')[0]}`);
        this.renewalFailing = true;
      });
    }, Math.max(500, this.staleMs / 4));
    this.timer.unref();
  }

  private stopRenewing() {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Every lease on a host (for `clean`), and the stale ones broken. */
export async function inspectLeases(host: Host, staleMs: number): Promise<{ held: FoundLease[]; broke: FoundLease[] }> {
  const root = host.platform.leaseRoot;
  const staleS = Math.max(1, Math.round(staleMs / 1000));
  const r = await host.exec(`[ -d "${root}" ] || exit 0\n${breakStale(root, EVERY_ENTRY(root), staleS)}\n${listHeld(root, EVERY_ENTRY(root))}`, { doing: `reading the leases on ${host.name} (${root})` });
  return { held: parseLeaseLines(r.stdout, 'held'), broke: parseLeaseLines(r.stdout, 'broke') };
}

/** Breaks the leases a dead run left (clean's reaping of that run): only those naming it. */
export async function releaseLeasesOf(host: Host, run: string): Promise<number> {
  const root = host.platform.leaseRoot;
  const r = await host.exec(`[ -d "${root}" ] || exit 0; n=0; for d in "${root}"/whole "${root}"/slot-*; do [ -d "$d" ] || continue; if grep -qx ${shQuote(`run=${run}`)} "$d/owner" 2>/dev/null; then rm -rf "$d"; n=$((n + 1)); fi; done; echo "$n"`,
    { doing: `releasing the leases of run ${run} on ${host.name}` });
  const n = Number(r.stdout.trim());
  if (!Number.isInteger(n)) throw new InfraError(`releasing the leases of run ${run} on ${host.name} printed ${JSON.stringify(r.stdout)}, not a count`);
  return n;
}
