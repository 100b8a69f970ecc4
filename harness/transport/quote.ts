// Quoting for POSIX sh. A command sent to a host is parsed by its login shell
// (illumos sh/ksh, FreeBSD sh, dash), so bash's $'...' quoting (zx's default)
// is not an option: single quotes, with ' written as '\''.

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** One word for sh: left bare when safe, single-quoted otherwise. */
export const shQuote = (word: string): string => (word !== '' && SAFE.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** A whole argv for sh. */
export const shJoin = (argv: readonly string[]): string => argv.map(shQuote).join(' ');
