import type { Command, Io } from '../../src/cli/command.js';

/** Runs a CLI command in-process with captured output, as a user would see it. */
export async function runCommand(command: Command, ...args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await command.main(args, io);
  return { code, out, err };
}
