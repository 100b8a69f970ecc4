// Text from a guest or host as a reader should get it: without terminal
// control sequences (a console's colours and cursor moves, a title set with
// OSC), CR-LF line ends made LF, and no other control characters, which XML
// 1.0 refuses and a report would show as noise. TAB and LF stay.

export function plainText(s: string): string {
  return s
    // CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \\), the rest (ESC, intermediates, final: ESC ( B).
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]/g, '')
    .replace(/\r+\n/g, '\n')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/g, '');
}
