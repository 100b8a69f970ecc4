// Host leases: a run's claim on a host's slots, kept on the host itself so
// that every process reaching the host sees it — shards on other CI workers,
// an engineer at the desk, a gate. A slot is a folder made with mkdir (atomic
// on every platform: one maker wins), holding who took it (`owner`) and when
// it last said it was alive (`alive`, the host's clock in seconds, so no two
// clocks are compared). A run renews its leases while it lives; one not
// renewed for thresholds.leaseStale is stale — its run died — and the next
// process that finds it breaks it, saying whose it was.
//
// Slots are numbered from 0: a test takes one of 0..capacity-1; an exclusive
// test (a measurement) takes every slot there can be (0..MAX_CAPACITY-1), so
// it holds the whole host against processes whatever capacity they think it has.
import { hostname, userInfo } from 'node:os';
import { InfraError, messageOf } from '../errors.ts';
import type { Host } from '../host.ts';
import { shQuote } from '../transport/quote.ts';

/** The most slots a host can have (hosts.X.capacity's bound): an exclusive lease takes all of them. */
export const MAX_CAPACITY = 64;

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

/** A lease found on a host: its slot, its owner (fields as read: a lease may be half written) and seconds since it was last renewed. */
export interface FoundLease {
  slot: number;
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

const slotRange = (n: number) => Array.from({ length: n }, (_, i) => i).join(' ');

/**
 * The shell that breaks the stale leases among `slots`: under a break lock
 * (`slot-N.break`, itself stale after a minute), re-read and removed only if
 * still stale, so two processes breaking at once cannot remove a lease one
 * of them has just taken. A lease with no `alive` yet is being written: it is
 * read again a second later before it counts as stale.
 */
const breakStale = (root: string, slots: string, staleS: number) => `
now=$(date +%s)
age() { a=$(cat "$1/alive" 2>/dev/null) || a=; case "$a" in ''|*[!0-9]*) a=0;; esac; echo $(( $(date +%s) - a )); }
limit() { l=$(sed -n 's/^stale=//p' "$1/owner" 2>/dev/null); case "$l" in ''|*[!0-9]*) l=0;; esac; [ "$l" -gt ${staleS} ] && echo "$l" || echo ${staleS}; }
for s in ${slots}; do
  d="${root}/slot-$s"
  [ -d "$d" ] || continue
  [ "$(age "$d")" -gt "$(limit "$d")" ] || continue
  if [ -d "$d.break" ]; then b=$(cat "$d.break/at" 2>/dev/null) || b=0; case "$b" in ''|*[!0-9]*) b=0;; esac; [ $((now - b)) -gt 60 ] && rm -rf "$d.break"; fi
  mkdir "$d.break" 2>/dev/null || continue
  echo "$now" > "$d.break/at"
  [ -f "$d/alive" ] || sleep 1
  if [ -d "$d" ] && [ "$(age "$d")" -gt "$(limit "$d")" ]; then
    printf 'broke\\t%s\\t%s\\t' "$s" "$(age "$d")"; tr '\\n' '\\t' < "$d/owner" 2>/dev/null; echo
    rm -rf "$d"
  fi
  rm -rf "$d.break"
done`;

/** Lists the leases among `slots`: one `held` line each. */
const listHeld = (root: string, slots: string) => `
for s in ${slots}; do
  d="${root}/slot-$s"
  [ -d "$d" ] || continue
  printf 'held\\t%s\\t%s\\t' "$s" "$(age "$d")"; tr '\\n' '\\t' < "$d/owner" 2>/dev/null; echo
done`;

/** Takes one free slot of `slots`, or (exclusive) all of them or none. Prints `took\tS...`. */
const takeSlots = (root: string, slots: string, owner: string, exclusive: boolean) => exclusive ? `
made=
for s in ${slots}; do
  if mkdir "${root}/slot-$s" 2>/dev/null; then made="$made $s"; printf '%s\\n' ${owner} > "${root}/slot-$s/owner"; date +%s > "${root}/slot-$s/alive"
  else for m in $made; do rm -rf "${root}/slot-$m"; done; made=; break; fi
done
if [ -n "$made" ]; then echo "took	$made"; exit 0; fi` : `
for s in ${slots}; do
  if mkdir "${root}/slot-$s" 2>/dev/null; then printf '%s\\n' ${owner} > "${root}/slot-$s/owner"; date +%s > "${root}/slot-$s/alive"; echo "took	$s"; exit 0; fi
done`;

/** Parses `broke`/`held` lines: TAG, slot, age, then the owner's key=value fields. */
export function parseLeaseLines(output: string, tag: 'broke' | 'held' | 'lost'): FoundLease[] {
  return output.split('\n').filter((l) => l.startsWith(`${tag}\t`)).map((line) => {
    const [, slot, age, ...fields] = line.split('\t');
    if (!/^\d+$/.test(slot) || !/^-?\d+$/.test(age)) throw new InfraError(`a lease line that is not "${tag} SLOT AGE FIELDS…": ${JSON.stringify(line)}`);
    const owner: FoundLease['owner'] = {};
    for (const f of fields) {
      const eq = f.indexOf('=');
      if (eq > 0) (owner as Record<string, string>)[f.slice(0, eq)] = f.slice(eq + 1);
    }
    return { slot: Number(slot), ageS: Number(age), owner };
  });
}

/** The slots taken, or (none taken) who holds them; and the stale leases broken on the way. */
export interface TakeResult {
  taken?: number[];
  heldBy: FoundLease[];
  broke: FoundLease[];
}

/**
 * This process's leases on one host. Its commands run one at a time (a renewal
 * never races a release), and while it holds any slot it renews them every
 * quarter of the stale time.
 */
export class HostLeases {
  private readonly held = new Set<number>();
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
    this.root = `${host.platform.leaseRoot}`;
  }

  private get staleS() {
    return Math.max(1, Math.round(this.staleMs / 1000));
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Tries once to take a slot of 0..capacity-1 (exclusive: every slot), breaking stale leases first. */
  take(capacity: number, exclusive: boolean): Promise<TakeResult> {
    return this.serial(async () => {
      const slots = slotRange(exclusive ? MAX_CAPACITY : capacity);
      const script = [
        `mkdir -p "${this.root}" || exit 1`,
        breakStale(this.root, slots, this.staleS),
        takeSlots(this.root, slots, shQuote(ownerFile(this.owner)), exclusive),
        listHeld(this.root, slots),
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
      const taken = took.slice(5).trim().split(/\s+/).map(Number);
      for (const s of taken) this.held.add(s);
      this.startRenewing();
      return { taken, heldBy: [], broke };
    });
  }

  release(slots: number[]): Promise<void> {
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
        this.note(`lease on ${this.host.name} slot ${lost.slot} was broken by another process${lost.owner.run ? ` and is now ${describeLease(lost)}` : ''}: this run's leases were not renewed within ${this.staleS} s`);
      }
    });
  }

  /** A command for each of `slots` that are still ours (their owner names this run): `ours`, else `theirs`. */
  private forEachOurs(slots: number[], ours: string, theirs: string) {
    return `for s in ${slots.join(' ')}; do d="${this.root}/slot-$s"; if grep -qx ${shQuote(`run=${this.owner.run}`)} "$d/owner" 2>/dev/null; then ${ours}; ${theirs ? `else ${theirs}; ` : ''}fi; done; true`;
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
  const slots = slotRange(MAX_CAPACITY);
  const r = await host.exec(`[ -d "${root}" ] || exit 0\n${breakStale(root, slots, staleS)}\n${listHeld(root, slots)}`, { doing: `reading the leases on ${host.name} (${root})` });
  return { held: parseLeaseLines(r.stdout, 'held'), broke: parseLeaseLines(r.stdout, 'broke') };
}

/** Breaks the leases a dead run left (clean's reaping of that run): only those naming it. */
export async function releaseLeasesOf(host: Host, run: string): Promise<number> {
  const root = host.platform.leaseRoot;
  const r = await host.exec(`[ -d "${root}" ] || exit 0; n=0; for d in "${root}"/slot-*; do [ -d "$d" ] || continue; if grep -qx ${shQuote(`run=${run}`)} "$d/owner" 2>/dev/null; then rm -rf "$d"; n=$((n + 1)); fi; done; echo "$n"`,
    { doing: `releasing the leases of run ${run} on ${host.name}` });
  const n = Number(r.stdout.trim());
  if (!Number.isInteger(n)) throw new InfraError(`releasing the leases of run ${run} on ${host.name} printed ${JSON.stringify(r.stdout)}, not a count`);
  return n;
}
