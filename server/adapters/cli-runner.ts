/** What a command-line entry gets: its arguments, environment and output, passed in so tests can drive it. */
export interface CliIo {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  write: (line: string) => void;
  writeError: (line: string) => void;
}

/** Runs a CLI's main function as the process: its result is the exit code, a throw prints `<name>: <message>` and exits 1. */
export function runAsProcess(name: string, main: (io: CliIo) => Promise<number>): void {
  main({
    argv: process.argv.slice(2),
    env: process.env,
    write: (line) => process.stdout.write(`${line}\n`),
    writeError: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
