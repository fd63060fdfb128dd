/** Small pieces of the certificate reports (cert renew, needs-renewal, enroll). */

/** One labelled line of a report. */
export const row = (label: string, value: string): string => `  ${label.padEnd(12)} ${value}\n`;
