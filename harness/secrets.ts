// The secrets one vm handles, masked wherever the harness writes text down.
/**
 * The secrets one vm handles (its guest and VNC passwords), masked in all the
 * harness writes down. A guest can echo its password: a login that reads it
 * before turning the terminal's echo off puts it on the serial console.
 */
export class Secrets {
  static readonly MASK = '********';
  private readonly values: string[];

  constructor(values: Iterable<string | undefined>) {
    const found = new Set<string>();
    for (const value of values) {
      if (!value) continue;
      found.add(value);
      // The console is read as latin1: a password outside ASCII shows there as its UTF-8 bytes.
      found.add(Buffer.from(value, 'utf8').toString('latin1'));
    }
    // Longest first: a password that contains another is masked whole.
    this.values = [...found].sort((a, b) => b.length - a.length);
  }

  /** The longest secret's length: how far a cut of text can reach into one. */
  get longest(): number {
    return this.values[0]?.length ?? 0;
  }

  mask(text: string): string {
    let masked = text;
    for (const value of this.values) masked = masked.replaceAll(value, Secrets.MASK);
    return masked;
  }

  /** A copy of a plain value (a result, say) with every string in it masked. */
  maskDeep<T>(value: T): T {
    if (this.values.length === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.mask(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(value) as T;
  }
}
