import fs from "node:fs";
import path from "node:path";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";
import { readZip, unsafeEntryName } from "./zip";

const CT = new Uint8Array(fs.readFileSync(path.resolve(import.meta.dirname, "../../../shared/data/dicom/CT_small.dcm")));
const limits = { maxTotalBytes: 64 * 1024 * 1024, maxRatio: 200, maxEntries: 100 };

describe("readZip", () => {
  it("refuses an archive of many small entries that expands past the ratio cap as a whole (each entry is under the 1 MiB per-entry check)", async () => {
    const block = new Uint8Array(900 * 1024);
    const entries = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`part-${i}.dcm`, block]));
    const zip = zipSync(entries, { level: 9 });
    const { files, issues } = await readZip("bomb.zip", zip, limits);
    expect(files).toEqual([]);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.file).toBe("bomb.zip");
    expect(issues[0]!.message).toMatch(/expands \d+-fold in total .*zip bomb/);
  });

  it("returns the files of a normal archive byte for byte, leaving folders and macOS resource forks out", async () => {
    const zip = zipSync({ "a/CT_small.dcm": CT, "b/": {}, "__MACOSX/a/._CT_small.dcm": new Uint8Array([1, 2]), "stored.txt": [new TextEncoder().encode("x"), { level: 0 }] });
    const { files, issues } = await readZip("up.zip", zip, limits);
    expect(issues).toEqual([]);
    expect(files.map((f) => f.path).sort()).toEqual(["a/CT_small.dcm", "stored.txt"]);
    expect(Buffer.compare(Buffer.from(files.find((f) => f.path === "a/CT_small.dcm")!.bytes), Buffer.from(CT))).toBe(0);
  });

  it("refuses traversal, absolute paths, symlinks and nested archives, naming each entry", async () => {
    const zip = zipSync({
      "../up.dcm": CT,
      "/etc/passwd": CT,
      "link.dcm": [new TextEncoder().encode("/etc/shadow"), { os: 3, attrs: (0o120777 << 16) >>> 0 }],
      "inner.zip": zipSync({ "x.dcm": CT }),
      "fine.dcm": CT,
    });
    const { files, issues } = await readZip("up.zip", zip, limits);
    expect(files).toEqual([]);
    expect(issues.map((i) => [i.file, i.message.split(" ").slice(0, 4).join(" ")])).toEqual([
      ["up.zip/../up.dcm", "the entry path leaves"],
      ["up.zip//etc/passwd", "the entry has an"],
      ["up.zip/link.dcm", "the entry is a"],
      ["up.zip/inner.zip", "nested zip archives are"],
    ]);
  });

  it("refuses a zip bomb by ratio and by total size before inflating anything", async () => {
    const zeros = new Uint8Array(20 * 1024 * 1024);
    const bomb = zipSync({ "zeros.dcm": zeros });
    expect((await readZip("bomb.zip", bomb, limits)).issues[0]!.message).toMatch(/expands \d+-fold .* zip bomb/);
    const many = zipSync({ "a.dcm": CT, "b.dcm": CT });
    expect((await readZip("big.zip", many, { ...limits, maxTotalBytes: CT.length })).issues[0]!.message).toMatch(/more than the \d+-byte limit/);
  });

  it("notices an entry whose size header lies, and a damaged archive", async () => {
    const zip = zipSync({ "a.dcm": CT });
    // Shrink the declared size in the central directory (offset 24 of the entry's record).
    const view = new DataView(zip.buffer);
    let cd = zip.length - 22;
    while (view.getUint32(cd, true) !== 0x06054b50) cd--;
    const entry = view.getUint32(cd + 16, true);
    view.setUint32(entry + 24, CT.length - 100, true);
    expect((await readZip("lie.zip", zip, limits)).issues[0]!.message).toMatch(/holds more bytes than its header declares/);
    expect((await readZip("cut.zip", zip.subarray(0, 100), limits)).issues[0]!.message).toMatch(/not a readable zip/);
  });

  it("names unsafe entry names", async () => {
    expect(unsafeEntryName("a\\..\\b")).toMatch(/backslash/);
    expect(unsafeEntryName("C:/x")).toMatch(/drive/);
    expect(unsafeEntryName("a/b/c.dcm")).toBeNull();
  });

  it("decodes CP437 names when flag bit 11 is clear, UTF-8 when set, and gives every name in NFC (../shared/data/robustness 17a, 17c, 17d)", async () => {
    const robustness = path.resolve(import.meta.dirname, "../../../shared/data/robustness");
    const names = async (file: string) => (await readZip(file, new Uint8Array(fs.readFileSync(path.join(robustness, file))), limits)).files.map((f) => f.path).sort();
    expect(await names("17a-zip-cp437-name-with-manifest.zip")).toEqual(["R\u00f6ntgen-01.png", "manifest.csv"]);
    expect(await names("17c-zip-nfd-name-nfc-manifest.zip")).toEqual(["L\u00e9sion-02.png", "manifest.csv"]);
    expect(await names("17d-zip-utf8-nfc-control.zip")).toEqual(["L\u00e9sion-03.png", "manifest.csv"]);
    // The same bytes read as UTF-8 would not be this name: 0x94 is "ö" only in CP437.
    const raw = fs.readFileSync(path.join(robustness, "17a-zip-cp437-name-with-manifest.zip"));
    expect(raw.includes(Buffer.from([0x52, 0x94, 0x6e]))).toBe(true);
  });
});
