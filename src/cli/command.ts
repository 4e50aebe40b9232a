/** The shape every `rustro <command>` module exports, and the exit codes they share. */
export type Io = {
  out: (line: string) => void;
  err: (line: string) => void;
};

export const stdio: Io = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

/** Exit codes: 0 ok, 1 a check found problems / runtime failure, 2 bad usage or bad config. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export type Command = {
  summary: string;
  usage: string;
  main(args: string[], io: Io): Promise<number>;
};

/** Thrown for a bad command line; the dispatcher prints it with the command's usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
