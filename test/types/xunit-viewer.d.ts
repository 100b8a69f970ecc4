// xunit-viewer ships no types; its parser's output, as far as the tests read it.
declare module 'xunit-viewer/src/cli/parse.js' {
  interface XunitTest { name: string; classname: string; status: string; messages: string[] }
  interface XunitSuite { name: string; tests: Record<string, XunitTest> }
  export default function parse(xml: string): Promise<{ suites: Record<string, XunitSuite> }>;
}
