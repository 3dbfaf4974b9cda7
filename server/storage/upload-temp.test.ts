import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeUploadDir, sweepAbandonedUploads } from "./upload-temp";

let parent: string | null = null;
afterEach(() => {
  if (parent) fs.rmSync(parent, { recursive: true, force: true });
});

describe("upload temp folders", () => {
  it("removes the folders of dead processes and keeps live ones and unrelated folders", async () => {
    parent = fs.mkdtempSync(path.join(os.tmpdir(), "upload-temp-test-"));
    // A pid that certainly existed and is gone: a child that has exited.
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout.trim();
    const abandoned = path.join(parent, `rads-upload-${dead}-abc123`);
    fs.mkdirSync(abandoned);
    fs.writeFileSync(path.join(abandoned, "part-0"), "uploaded bytes");
    const mine = await makeUploadDir(parent);
    const unrelated = path.join(parent, "rads-upload-notapid");
    fs.mkdirSync(unrelated);

    expect(path.basename(mine)).toMatch(new RegExp(`^rads-upload-${process.pid}-`));
    expect(await sweepAbandonedUploads(parent)).toEqual([path.basename(abandoned)]);
    expect(fs.existsSync(abandoned)).toBe(false);
    expect(fs.existsSync(mine)).toBe(true);
    expect(fs.existsSync(unrelated)).toBe(true);
  });
});
