/** Small pieces of the certificate reports (cert renew, needs-renewal, enroll). */

/** A date to the second, as the reports show it: 2027-01-01T00:00:00Z. */
export const iso = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');

/** One labelled line of a report. */
export const row = (label: string, value: string): string => `  ${label.padEnd(12)} ${value}\n`;
