/**
 * The WordPiece tokenizer against the real all-MiniLM-L6-v2 tokenizer files in
 * ../shared/models/all-MiniLM-L6-v2-tokenizer/. Expected pieces are written by hand; their ids are
 * looked up in vocab.txt (line number − 1), independently of tokenizer.json's vocab map.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadWordPieceTokenizer, TokenizerConfigError, type WordPieceTokenizer } from "./wordpiece-tokenizer";

const DIR = path.resolve("../shared/models/all-MiniLM-L6-v2-tokenizer");
let tok: WordPieceTokenizer;
let vocab: Map<string, number>;

function ids(pieces: string[]): number[] {
  return pieces.map((p) => {
    const id = vocab.get(p);
    if (id === undefined) throw new Error(`test expectation ${p} is not in vocab.txt`);
    return id;
  });
}

beforeAll(() => {
  tok = loadWordPieceTokenizer(path.join(DIR, "tokenizer.json"));
  vocab = new Map(fs.readFileSync(path.join(DIR, "vocab.txt"), "utf8").split("\n").map((line, i) => [line, i] as [string, number]));
});

describe("WordPiece tokenizer (real MiniLM tokenizer.json)", () => {
  it("reads the special tokens, vocabulary size and default length from tokenizer.json", () => {
    expect(tok.vocabSize).toBe(30522);
    expect(tok.clsId).toBe(vocab.get("[CLS]"));
    expect(tok.sepId).toBe(vocab.get("[SEP]"));
    expect(tok.padId).toBe(vocab.get("[PAD]"));
    expect(tok.unkId).toBe(vocab.get("[UNK]"));
    expect([tok.clsId, tok.sepId, tok.padId, tok.unkId]).toEqual([101, 102, 0, 100]);
    expect(tok.defaultMaxLength).toBe(128);
  });

  it("lower-cases, splits punctuation and breaks a clinical word into ## pieces", () => {
    const pieces = ["patient", "presents", "with", "acute", "cho", "##le", "##cy", "##sti", "##tis", "."];
    expect(tok.tokenizeToStrings("Patient presents with acute cholecystitis.")).toEqual(pieces);
    expect(tok.tokenize("Patient presents with acute cholecystitis.")).toEqual(ids(pieces));
  });

  it("strips accents (strip_accents null follows lowercase) and splits on hyphens and apostrophes", () => {
    const pieces = ["cafe", "-", "au", "-", "lai", "##t", "spots", ";", "s", "##jo", "##gren", "'", "s", "syndrome"];
    expect(tok.tokenizeToStrings("Café-au-lait spots; Sjögren's syndrome")).toEqual(pieces);
    expect(tok.tokenize("Café-au-lait spots; Sjögren's syndrome")).toEqual(ids(pieces));
    expect(tok.tokenizeToStrings("Naïve")).toEqual(["naive"]);
  });

  it("tokenizes abbreviations and numbers as BERT does", () => {
    const pieces = ["chest", "x", "-", "ray", ":", "no", "p", "##ne", "##um", "##otho", "##ra", "##x", "."];
    expect(tok.tokenize("Chest X-ray: no pneumothorax.")).toEqual(ids(pieces));
    expect(tok.tokenizeToStrings("Pt c/o dyspnea 2/2")).toEqual(["pt", "c", "/", "o", "d", "##ys", "##p", "##nea", "2", "/", "2"]);
  });

  it("gives [UNK] for characters outside the vocabulary and words over 100 characters", () => {
    expect(tok.tokenizeToStrings("🦴 bone")).toEqual(["[UNK]", "bone"]);
    expect(tok.tokenizeToStrings(`a ${"x".repeat(101)} b`)).toEqual(["a", "[UNK]", "b"]);
    // CJK ideographs become words of their own (handle_chinese_chars) before the lookup.
    expect(tok.tokenizeToStrings("肺炎pneumonia")).toEqual(["[UNK]", "[UNK]", "pneumonia"]);
  });

  it("cleans text: tabs/newlines are spaces, NUL and format characters vanish", () => {
    expect(tok.tokenizeToStrings("left\tlung\nbase")).toEqual(["left", "lung", "base"]);
    expect(tok.tokenizeToStrings("lu\u0000ng\u200b")).toEqual(["lung"]);
  });

  it("encodes a batch: [CLS] … [SEP], right padding to the longest row, mask and type ids", () => {
    const enc = tok.encodeBatch(["no acute findings", "normal"]);
    const row0 = [101, ...ids(["no", "acute", "findings"]), 102];
    const row1 = [101, ...ids(["normal"]), 102, 0, 0];
    expect(enc.batch).toBe(2);
    expect(enc.seqLen).toBe(5);
    expect(Array.from(enc.inputIds, Number)).toEqual([...row0, ...row1]);
    expect(Array.from(enc.attentionMask, Number)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(enc.tokenTypeIds, Number)).toEqual(new Array(10).fill(0));
    expect(enc.lengths).toEqual([5, 3]);
  });

  it("truncates to maxLength including the special tokens", () => {
    const enc = tok.encodeBatch(["patient presents with acute cholecystitis"], 6);
    expect(enc.seqLen).toBe(6);
    expect(Array.from(enc.inputIds, Number)).toEqual([101, ...ids(["patient", "presents", "with", "acute"]), 102]);
    // The default is tokenizer.json's truncation length (128).
    expect(tok.encodeBatch(["word ".repeat(500)]).seqLen).toBe(128);
    expect(() => tok.encodeBatch(["x"], 2)).toThrow(/maxLength/);
  });

  it("an empty text is [CLS] [SEP]", () => {
    const enc = tok.encodeBatch([""]);
    expect(Array.from(enc.inputIds, Number)).toEqual([101, 102]);
  });
});

describe("tokenizer.json validation", () => {
  function write(json: unknown): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-tok-"));
    const file = path.join(dir, "tokenizer.json");
    fs.writeFileSync(file, typeof json === "string" ? json : JSON.stringify(json));
    return file;
  }

  it("refuses non-WordPiece models, unknown normalizers and broken JSON, naming the file", () => {
    const bpe = write({ model: { type: "BPE", vocab: { a: 0 } } });
    expect(() => loadWordPieceTokenizer(bpe)).toThrow(TokenizerConfigError);
    expect(() => loadWordPieceTokenizer(bpe)).toThrow(/tokenizer\.json: model\.type is "BPE"/);
    const nfc = write({ normalizer: { type: "NFC" }, model: { type: "WordPiece", vocab: { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2 } } });
    expect(() => loadWordPieceTokenizer(nfc)).toThrow(/normalizer\.type "NFC" is not supported/);
    expect(() => loadWordPieceTokenizer(write("{not json"))).toThrow(/is not valid JSON/);
    expect(() => loadWordPieceTokenizer(path.join(os.tmpdir(), "no-such-dir", "tokenizer.json"))).toThrow(/cannot be read/);
    const noUnk = write({ model: { type: "WordPiece", vocab: { a: 0 } } });
    expect(() => loadWordPieceTokenizer(noUnk)).toThrow(/unk_token \[UNK\] is not in the vocabulary/);
  });

  it("works without normalizer and post-processor (case kept, specials from the vocabulary)", () => {
    const file = write({ model: { type: "WordPiece", vocab: { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, Lung: 4, lung: 5, "##s": 6 } } });
    const t = loadWordPieceTokenizer(file);
    expect(t.tokenize("Lungs lung")).toEqual([4, 6, 5]);
    expect(Array.from(t.encodeBatch(["lung"]).inputIds, Number)).toEqual([1, 5, 2]);
  });
});
