// Types of scripts/docs.js for the test that imports it (test/unit/docs-reference.test.ts).
export declare const OPTIONS_PAGE: string;
export declare const SCHEMA_FILE: string;
/** The options reference and the config schema as the sources make them now, by file path. */
export declare function referenceDocs(): Promise<Record<string, string>>;
