/**
 * BERT-style WordPiece tokenizer driven by a Hugging Face fast-tokenizer `tokenizer.json`
 * (written here from the tokenizers library's documented behaviour; no tokenizer package is used,
 * so any BERT-family text encoder directory works offline).
 *
 * Pipeline per text, as the library does it:
 * 1. BertNormalizer: clean_text drops NUL, U+FFFD and control/format characters (category C*)
 *    and turns whitespace into " "; handle_chinese_chars puts spaces around CJK ideographs;
 *    strip_accents (null → follows lowercase) = NFD then drop combining marks (Mn); lowercase.
 * 2. BertPreTokenizer: split on whitespace (dropped) and on punctuation (each mark its own word);
 *    punctuation = ASCII symbols 33–47, 58–64, 91–96, 123–126 plus Unicode category P*.
 * 3. WordPiece: greedy longest-match-first; pieces after the first carry the "##" prefix; a word
 *    with no full segmentation, or longer than max_input_chars_per_word, becomes [UNK].
 * 4. Post-processing: [CLS] A [SEP] (TemplateProcessing or BertProcessing), truncated so the whole
 *    sequence fits maxLength, then padded with the pad id to the longest sequence of the batch
 *    (not tokenizer.json's fixed padding: masked padding does not change a mean-pooled vector and
 *    shorter batches run faster). token_type_ids are the template's type ids (0 for one sentence).
 */
import fs from "node:fs";

export interface WordPieceTokenizer {
  readonly vocabSize: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  /** Default maximum sequence length (tokenizer.json truncation.max_length, else 512). */
  readonly defaultMaxLength: number;
  /** Content token ids of `text` (no specials), at most `limit` of them. */
  tokenize(text: string, limit?: number): number[];
  /** Token strings (for debugging and tests). */
  tokenizeToStrings(text: string): string[];
  encodeBatch(texts: readonly string[], maxLength?: number): EncodedBatch;
}

/** Row-major [batch, seqLen] int64 tensors ready for onnxruntime. */
export interface EncodedBatch {
  batch: number;
  seqLen: number;
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  /** Real (unpadded) length of each row, specials included. */
  lengths: number[];
}

interface TokenizerJson {
  normalizer?: { type?: string; clean_text?: boolean; handle_chinese_chars?: boolean; strip_accents?: boolean | null; lowercase?: boolean } | null;
  pre_tokenizer?: { type?: string } | null;
  post_processor?: {
    type?: string;
    single?: Array<{ SpecialToken?: { id: string; type_id: number }; Sequence?: { id: string; type_id: number } }>;
    special_tokens?: Record<string, { ids: number[] }>;
    cls?: [string, number];
    sep?: [string, number];
  } | null;
  truncation?: { max_length?: number } | null;
  padding?: { pad_id?: number } | null;
  model?: { type?: string; vocab?: Record<string, number>; unk_token?: string; continuing_subword_prefix?: string; max_input_chars_per_word?: number };
}

export class TokenizerConfigError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "TokenizerConfigError";
  }
}

const CONTROL = /\p{C}/u;
/** The normaliser's whitespace (the library's is_whitespace): other C* controls are dropped instead. */
const NORM_WHITESPACE = /[ \t\n\r\p{Zs}]/u;
const WHITESPACE = /[\s\p{Zs}]/u;
const MARK_NONSPACING = /\p{Mn}/gu;
const UNICODE_PUNCT = /\p{P}/u;

function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function isPunctuation(ch: string, cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return UNICODE_PUNCT.test(ch);
}

interface NormalizerSettings {
  cleanText: boolean;
  chineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

function normalize(text: string, s: NormalizerSettings): string {
  let out = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (s.cleanText) {
      if (cp === 0 || cp === 0xfffd) continue;
      if (NORM_WHITESPACE.test(ch)) {
        out += " ";
        continue;
      }
      if (CONTROL.test(ch)) continue;
    }
    if (s.chineseChars && isChineseChar(cp)) out += ` ${ch} `;
    else out += ch;
  }
  if (s.stripAccents) out = out.normalize("NFD").replace(MARK_NONSPACING, "");
  if (s.lowercase) out = out.toLowerCase();
  return out;
}

/** Calls `emit` with each pre-token of the normalised text; stops early when it returns false. */
function preTokenize(text: string, emit: (word: string) => boolean): void {
  let word = "";
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (WHITESPACE.test(ch)) {
      if (word && !emit(word)) return;
      word = "";
    } else if (isPunctuation(ch, cp)) {
      if (word && !emit(word)) return;
      word = "";
      if (!emit(ch)) return;
    } else {
      word += ch;
    }
  }
  if (word) emit(word);
}

function readJson(file: string): TokenizerJson {
  let raw: string;
  try {
    raw = fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new TokenizerConfigError(file, `cannot be read (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  try {
    return JSON.parse(raw) as TokenizerJson;
  } catch (error) {
    throw new TokenizerConfigError(file, `is not valid JSON (${(error as Error).message})`);
  }
}

/** Loads a BERT-style WordPiece tokenizer from a `tokenizer.json`; other tokenizer types are refused. */
export function loadWordPieceTokenizer(file: string): WordPieceTokenizer {
  const json = readJson(file);
  const model = json.model;
  if (model?.type !== "WordPiece") throw new TokenizerConfigError(file, `model.type is ${JSON.stringify(model?.type)}; only WordPiece (BERT-style) tokenizers are supported`);
  const vocab = model.vocab;
  if (!vocab || typeof vocab !== "object" || Object.keys(vocab).length === 0) throw new TokenizerConfigError(file, "model.vocab is missing or empty");
  const vocabMap = new Map<string, number>(Object.entries(vocab));
  const prefix = model.continuing_subword_prefix ?? "##";
  const maxChars = model.max_input_chars_per_word ?? 100;
  const unkToken = model.unk_token ?? "[UNK]";
  const unkId = vocabMap.get(unkToken);
  if (unkId === undefined) throw new TokenizerConfigError(file, `unk_token ${unkToken} is not in the vocabulary`);

  const norm = json.normalizer;
  if (norm && norm.type !== "BertNormalizer") throw new TokenizerConfigError(file, `normalizer.type ${JSON.stringify(norm.type)} is not supported (BertNormalizer or none)`);
  const lowercase = norm?.lowercase ?? false;
  const settings: NormalizerSettings = {
    cleanText: norm?.clean_text ?? false,
    chineseChars: norm?.handle_chinese_chars ?? false,
    // The library's rule: strip_accents unset follows lowercase.
    stripAccents: norm ? (norm.strip_accents ?? lowercase) : false,
    lowercase,
  };
  if (json.pre_tokenizer && json.pre_tokenizer.type !== "BertPreTokenizer") {
    throw new TokenizerConfigError(file, `pre_tokenizer.type ${JSON.stringify(json.pre_tokenizer.type)} is not supported (BertPreTokenizer)`);
  }

  const specialId = (token: string): number => {
    const id = json.post_processor?.special_tokens?.[token]?.ids?.[0] ?? vocabMap.get(token);
    if (id === undefined) throw new TokenizerConfigError(file, `special token ${token} has no id`);
    return id;
  };
  let clsId: number;
  let sepId: number;
  let typeId = 0;
  const post = json.post_processor;
  if (post?.type === "TemplateProcessing" && post.single) {
    const items = post.single;
    const shape = items.map((item) => (item.SpecialToken ? "S" : item.Sequence ? "A" : "?")).join("");
    if (shape !== "SAS") throw new TokenizerConfigError(file, "post_processor.single must be [special] A [special] (BERT style)");
    clsId = specialId(items[0]!.SpecialToken!.id);
    sepId = specialId(items[2]!.SpecialToken!.id);
    typeId = items[1]!.Sequence!.type_id ?? 0;
  } else if (post?.type === "BertProcessing" && post.cls && post.sep) {
    clsId = post.cls[1];
    sepId = post.sep[1];
  } else if (!post) {
    clsId = specialId("[CLS]");
    sepId = specialId("[SEP]");
  } else {
    throw new TokenizerConfigError(file, `post_processor.type ${JSON.stringify(post.type)} is not supported (TemplateProcessing or BertProcessing)`);
  }
  const padId = json.padding?.pad_id ?? vocabMap.get("[PAD]") ?? 0;
  const defaultMaxLength = json.truncation?.max_length ?? 512;

  /** WordPiece pieces of one pre-token, appended to `out`. */
  const wordPiece = (word: string, out: number[], strings?: string[]): void => {
    const chars = Array.from(word);
    if (chars.length > maxChars) {
      out.push(unkId);
      strings?.push(unkToken);
      return;
    }
    const ids: number[] = [];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      let piece = "";
      while (start < end) {
        piece = chars.slice(start, end).join("");
        if (start > 0) piece = prefix + piece;
        found = vocabMap.get(piece);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        out.push(unkId);
        strings?.push(unkToken);
        return;
      }
      ids.push(found);
      pieces.push(piece);
      start = end;
    }
    out.push(...ids);
    strings?.push(...pieces);
  };

  const tokenize = (text: string, limit = Number.POSITIVE_INFINITY): number[] => {
    const out: number[] = [];
    if (limit <= 0) return out;
    preTokenize(normalize(text, settings), (word) => {
      wordPiece(word, out);
      return out.length < limit;
    });
    if (out.length > limit) out.length = limit;
    return out;
  };

  return {
    vocabSize: vocabMap.size,
    clsId,
    sepId,
    padId,
    unkId,
    defaultMaxLength,
    tokenize,
    tokenizeToStrings(text) {
      const ids: number[] = [];
      const strings: string[] = [];
      preTokenize(normalize(text, settings), (word) => {
        wordPiece(word, ids, strings);
        return true;
      });
      return strings;
    },
    encodeBatch(texts, maxLength = defaultMaxLength) {
      if (!Number.isInteger(maxLength) || maxLength < 3) throw new RangeError(`maxLength must be an integer ≥ 3 (got ${maxLength})`);
      // Right truncation of the content so [CLS] … [SEP] fits, as the library's LongestFirst does for one sequence.
      const rows = texts.map((text) => [clsId, ...tokenize(text, maxLength - 2), sepId]);
      const seqLen = Math.max(2, ...rows.map((r) => r.length));
      const batch = rows.length;
      const inputIds = new BigInt64Array(batch * seqLen).fill(BigInt(padId));
      const attentionMask = new BigInt64Array(batch * seqLen);
      const tokenTypeIds = new BigInt64Array(batch * seqLen);
      const type = BigInt(typeId);
      rows.forEach((row, b) => {
        const o = b * seqLen;
        for (let t = 0; t < row.length; t++) {
          inputIds[o + t] = BigInt(row[t]!);
          attentionMask[o + t] = 1n;
          tokenTypeIds[o + t] = type;
        }
      });
      return { batch, seqLen, inputIds, attentionMask, tokenTypeIds, lengths: rows.map((r) => r.length) };
    },
  };
}
