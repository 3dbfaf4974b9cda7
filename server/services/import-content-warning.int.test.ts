/**
 * An import whose cases do not fit what the project's cases hold (caseContent) is imported all the
 * same, with one warning on the result: two real DICOM studies (../shared/data/dicom CT_small.dcm,
 * MR_small.dcm) and one narrative row into a narrative project, narrative rows into a project of
 * images, and imports that fit (no warning).
 */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { testDb } from "../testing/fixtures";
import { useImportFixture } from "../testing/import-fixtures";
import { importCommand } from "@/scripts/lib/import-command";

const DICOM_DIR = path.resolve(import.meta.dirname, "../../../shared/data/dicom");

const imports = useImportFixture("rads-import-content");
const run = imports.run;

async function createProject(caseContent: "narrative" | "images" | "both") {
  const project = await testDb().project.create({
    data: {
      name: `import-content-${Math.random().toString(36).slice(2, 10)}`,
      caseContent,
      labelSchema: { labels: [], multiLabel: false },
      minorityClasses: [],
      selectionParams: {},
      encoderConfig: { kind: "builtin" },
      settings: {},
      members: { create: [{ userId: imports.scientist.id }] },
    },
  });
  return project.id;
}

const csv = (prefix: string) => ({
  name: "reports.csv",
  bytes: new TextEncoder().encode(`case_id,text\n${prefix}-1,Chest radiograph shows no acute findings.\n${prefix}-2,Mild cardiomegaly without effusion.\n`),
});
const dicoms = () => ["CT_small.dcm", "MR_small.dcm"].map((name) => ({ name, bytes: new Uint8Array(fs.readFileSync(path.join(DICOM_DIR, name))) }));

const caseCount = (projectId: string) => testDb().case.count({ where: { projectId } });

describe("import warns when cases do not fit the project's content", () => {
  it("image-only DICOM cases in a narrative project: imported, with one warning naming the counts", async () => {
    const projectId = await createProject("narrative");
    const result = await run(projectId, [csv("n"), ...dicoms()]);
    expect(result.status).toBe("imported");
    if (result.status !== "imported") return;
    expect(result.counts.cases).toBe(4);
    expect(result.contentWarning).toBe("2 of 4 cases hold only images, but this project's cases are narratives — see Settings → General");
    expect(await caseCount(projectId)).toBe(4);
  });

  it("narrative-only rows in a project of images: imported, with the reverse warning", async () => {
    const projectId = await createProject("images");
    const result = await run(projectId, [csv("i")]);
    expect(result.status).toBe("imported");
    if (result.status !== "imported") return;
    expect(result.contentWarning).toBe("2 of 2 cases hold only a narrative, but this project's cases are images — see Settings → General");
    expect(await caseCount(projectId)).toBe(2);
  });

  it("imports that fit give no warning", async () => {
    const narrative = await run(await createProject("narrative"), [csv("f")]);
    expect(narrative.status).toBe("imported");
    expect(narrative).not.toHaveProperty("contentWarning");
    const images = await run(await createProject("images"), dicoms());
    expect(images.status).toBe("imported");
    expect(images).not.toHaveProperty("contentWarning");
    const both = await run(await createProject("both"), [csv("b"), ...dicoms()]);
    expect(both.status).toBe("imported");
    expect(both).not.toHaveProperty("contentWarning");
  });

  it("the import command prints the same warning", async () => {
    const projectId = await createProject("narrative");
    const scientistEmail = (await testDb().user.findUniqueOrThrow({ where: { id: imports.scientist.id } })).email;
    let out = "";
    const code = await importCommand(["--project", projectId, "--as", scientistEmail, path.join(DICOM_DIR, "CT_small.dcm")], {
      open: async () => ({ db: testDb(), blobs: imports.blobs(), description: "the test database", close: async () => undefined }),
      write: (text) => (out += text),
    });
    expect(code, out).toBe(0);
    expect(out).toContain("Imported all the same: 1 of 1 case holds only images, but this project's cases are narratives — see Settings → General");
  });
});
