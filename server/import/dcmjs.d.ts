/** The small part of dcmjs (no bundled types) that server/import/deidentify-dicom.ts uses. */
declare module "dcmjs" {
  interface DictionaryEntry {
    /** "(0010,0010)"; repeating groups are written with x, e.g. "(60xx,3000)". */
    tag: string;
    vr: string;
    vm: string;
    /** The PS3.6 keyword, e.g. "PatientName" ("RETIRED_…" for retired attributes). */
    name: string;
    version: string;
  }
  const dcmjs: {
    data: {
      DicomMetaDictionary: {
        /** Keyed by "(gggg,eeee)" in upper-case hex. */
        dictionary: Record<string, DictionaryEntry | undefined>;
        /** Keyed by keyword. */
        nameMap: Record<string, DictionaryEntry | undefined>;
      };
    };
    anonymizer: {
      /** dcmjs's list of keywords its cleanTags empties (CTP-derived). */
      getTagsNameToEmpty(): string[];
    };
  };
  export default dcmjs;
}
