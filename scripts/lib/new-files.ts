// Writes a group of new files all-or-nothing: every target is checked first, contents go to temporary files
// beside the targets, and only then are they moved into place. Existing files are kept unless `overwrite`.
import { randomBytes } from "node:crypto";
import { link, lstat, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CliError, describeError } from "./cli-error";

export interface NewFile {
  path: string;
  content: string;
  /** 0o600 for anything secret. */
  mode: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

export async function writeNewFiles(files: NewFile[], overwrite: boolean): Promise<void> {
  for (const file of files) {
    const folder = dirname(file.path);
    const folderStat = await stat(folder).catch(() => null);
    if (!folderStat?.isDirectory()) throw new CliError("input_invalid", `the folder ${folder} does not exist`);
    if (!overwrite && (await exists(file.path))) {
      throw new CliError("file_exists", `${file.path} already exists (use --force to overwrite)`);
    }
  }
  const staged: Array<{ temporary: string; file: NewFile }> = [];
  try {
    for (const file of files) {
      const temporary = join(dirname(file.path), `.${basename(file.path)}.${randomBytes(6).toString("hex")}.tmp`);
      staged.push({ temporary, file });
      await writeFile(temporary, file.content, { mode: file.mode, flag: "wx" });
    }
    for (const { temporary, file } of staged) {
      if (overwrite) {
        await rename(temporary, file.path);
      } else {
        // link() fails if the target appeared meanwhile, where rename() would silently replace it.
        await link(temporary, file.path);
        await rm(temporary);
      }
    }
  } catch (err) {
    await Promise.all(staged.map(({ temporary }) => rm(temporary, { force: true })));
    if (err instanceof CliError) throw err;
    if ((err as { code?: string }).code === "EEXIST") {
      throw new CliError("file_exists", `a target file appeared while writing (use --force to overwrite)`);
    }
    throw new CliError("input_invalid", `cannot write the files: ${describeError(err)}`);
  }
}
