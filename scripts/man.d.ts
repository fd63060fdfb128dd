// Types of scripts/man.js for the test that imports it (test/unit/man-page.test.ts).
/** docs/commands/*.md one after another, in name order. */
export declare function commandPages(): string;
/** The man page as the sources make it now. */
export declare function manPage(): Promise<string>;
