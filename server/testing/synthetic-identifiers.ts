/**
 * Seeded synthetic clinical notes with planted FAKE identifiers of every kind the narrative scan
 * looks for (server/import/narrative-identifiers.ts), each with its character span — the recall
 * set of the scan's unit test and of `npm run scan:identifiers`.
 *
 * Each note is a few sentences of clinical filler with 1–4 identifiers planted in the forms they
 * take in real notes (labelled fields, names after titles, signature lines, several phone, date and
 * address formats). Names, streets and numbers are drawn at random; every value is invented.
 */
import { createRng, type Rng } from "@/workers/ml/rng";
import type { IdentifierKind } from "@/server/import/narrative-identifiers";

export interface PlantedIdentifier {
  kind: IdentifierKind;
  start: number;
  end: number;
}

export interface SyntheticNote {
  text: string;
  planted: PlantedIdentifier[];
}

const FIRST = ["Jane", "John", "Maria", "Ahmed", "Li", "Olga", "Kwame", "Sofia", "Rajesh", "Emily", "Carlos", "Hannah", "Yusuf", "Chloe", "Dmitri", "Grace", "Pedro", "Ingrid", "Tomas", "Aisha"];
const LAST = ["Smith", "Garcia", "O'Neil", "Nguyen", "Kowalski", "Patel", "Okafor", "Johansson", "Rossi", "Schmidt", "Fitzgerald", "Haddad", "Tanaka", "Moreau", "Brennan", "Castillo", "Novak", "Mbeki", "Lindqvist", "Alvarez-Ruiz"];
const STREETS = ["Maple", "Oak Hill", "Cedar", "Washington", "Lake View", "Pine", "Elm", "Sunset", "River", "Highland", "Church", "Mill Creek"];
const SUFFIXES = ["Street", "St.", "Avenue", "Ave", "Road", "Rd.", "Boulevard", "Lane", "Drive", "Court", "Way", "Place"];
const CITIES = ["Springfield", "Riverton", "Lakewood", "Fairview", "Georgetown", "Salem"];
const STATES = ["IL", "OH", "TX", "CA", "NY", "MA"];
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const FILLER = [
  "The patient presents with intermittent chest pain radiating to the left arm for two days.",
  "Blood pressure 132/84, heart rate 78, temperature 98.6 F, oxygen saturation 97% on room air.",
  "She was started on lisinopril 10 mg daily and advised to follow up in 2 weeks.",
  "CT of the abdomen showed no acute process; the appendix is normal.",
  "He denies fever, chills, nausea or vomiting.",
  "Labs: WBC 7.2, hemoglobin 13.1, platelets 245,000, creatinine 0.9.",
  "Assessment: community-acquired pneumonia, improving on antibiotics.",
  "Plan: continue current medications, repeat chest x-ray in 6 weeks.",
  "Past surgical history includes cholecystectomy in 2009 and appendectomy as a child.",
  "The wound was irrigated with 500 mL of normal saline and closed with 4-0 nylon.",
];

const pick = <T>(rng: Rng, list: readonly T[]): T => list[rng.int(list.length)]!;
const digits = (rng: Rng, n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 1 + rng.int(9) : rng.int(10))).join("");
const pad2 = (n: number) => String(n).padStart(2, "0");

/** One identifier of a kind: the text before it (context), the value, the text after it. */
function identifier(rng: Rng, kind: IdentifierKind): [string, string, string] {
  const first = pick(rng, FIRST);
  const last = pick(rng, LAST);
  switch (kind) {
    case "name": {
      const forms: [string, string, string][] = [
        [`Seen today with ${pick(rng, ["Dr.", "Dr", "Doctor"])} `, `${first} ${last}`, " in clinic."],
        [`${pick(rng, ["Mr.", "Mrs.", "Ms.", "Miss"])} `, last, " is a 54-year-old with diabetes."],
        ["Electronically signed by: ", `${first} ${pick(rng, ["A.", "J.", "M."])} ${last}`, ", attending."],
        ["Dictated by: ", `${first} ${last}`, ""],
        ["cc: ", `${first} ${last}`, ", primary care."],
        ["Patient name: ", `${last}, ${first}`, ""],
        ["Discussed with ", `${first} ${last}`, ", MD, who agrees with the plan."],
        ["Referring physician: Dr. ", `${first} ${last}`, "."],
        ["Sincerely,\n", `${first} ${last}`, ""],
      ];
      return pick(rng, forms);
    }
    case "mrn": {
      const n = digits(rng, 6 + rng.int(4));
      const forms: [string, string, string][] = [
        [`${pick(rng, ["MRN", "MRN:", "MRN #", "Medical record number:", "Medical record #", "Patient ID:", "Acct #:", "Account number"])} `, n, "."],
        ["MRN: ", `${pick(rng, ["A", "MR", "H"])}-${n}`, ""],
        ["Chart number ", n, " reviewed."],
        ["SSN ", `${digits(rng, 3)}-${pad2(10 + rng.int(89))}-${digits(rng, 4)}`, " on file."],
        ["Records filed under ", n, " in the archive."],
      ];
      return pick(rng, forms);
    }
    case "dob": {
      const y = 1930 + rng.int(80);
      const m = 1 + rng.int(12);
      const d = 1 + rng.int(28);
      const date = pick(rng, [`${pad2(m)}/${pad2(d)}/${y}`, `${m}/${d}/${String(y).slice(2)}`, `${y}-${pad2(m)}-${pad2(d)}`, `${MONTHS[m - 1]} ${d}, ${y}`, `${d} ${MONTHS[m - 1]} ${y}`, `${m}-${d}-${y}`]);
      return [`${pick(rng, ["DOB: ", "DOB ", "D.O.B. ", "Date of birth: ", "date of birth ", "Born on ", "Birth date: "])}`, date, "."];
    }
    case "phone": {
      const area = `${2 + rng.int(8)}${digits(rng, 2)}`;
      const ex = `${2 + rng.int(8)}${digits(rng, 2)}`;
      const line = digits(rng, 4);
      const number = pick(rng, [`(${area}) ${ex}-${line}`, `${area}-${ex}-${line}`, `${area}.${ex}.${line}`, `+1 ${area} ${ex} ${line}`, `1-${area}-${ex}-${line}`, `(${area})${ex}-${line}`]);
      return [pick(rng, ["Call back at ", "Phone: ", "Daughter can be reached at ", "Tel ", "Cell: ", "Pager "]), number, pick(rng, [".", " if needed.", ""])];
    }
    case "email": {
      const user = pick(rng, [`${first}.${last}`, `${first[0]}${last}${rng.int(100)}`, `${first}_${last}`]).toLowerCase().replace(/'/g, "");
      const domain = pick(rng, ["example.com", "mail.example.org", "clinic-example.net", "hospital.example.co.uk"]);
      return [pick(rng, ["Email: ", "She prefers e-mail at ", "Contact ", "Results sent to "]), `${user}@${domain}`, "."];
    }
    case "address": {
      const street = `${1 + rng.int(9999)} ${pick(rng, ["", "N. ", "W. ", "S "])}${pick(rng, STREETS)} ${pick(rng, SUFFIXES)}`;
      const full = pick(rng, [street, `${street}, ${pick(rng, CITIES)}, ${pick(rng, STATES)} ${digits(rng, 5)}`, `${street}, Apt ${1 + rng.int(40)}B`]);
      return [pick(rng, ["Lives at ", "Address: ", "Home address ", "Discharged home to "]), full, "."];
    }
  }
}

/**
 * `count` notes from `seed`; every kind is planted about equally often (kind i of note j is
 * kinds[(j + i) mod 6]).
 */
export function syntheticNotes(count: number, seed: number): SyntheticNote[] {
  const rng = createRng(seed);
  const kinds: IdentifierKind[] = ["name", "mrn", "dob", "phone", "email", "address"];
  const notes: SyntheticNote[] = [];
  for (let j = 0; j < count; j++) {
    let text = "";
    const planted: PlantedIdentifier[] = [];
    const n = 1 + rng.int(4);
    for (let i = 0; i < n; i++) {
      text += `${pick(rng, FILLER)} `;
      const [before, value, after] = identifier(rng, kinds[(j + i) % kinds.length]!);
      text += before;
      planted.push({ kind: kinds[(j + i) % kinds.length]!, start: text.length, end: text.length + value.length });
      text += `${value}${after} `;
    }
    text += pick(rng, FILLER);
    notes.push({ text, planted });
  }
  return notes;
}
