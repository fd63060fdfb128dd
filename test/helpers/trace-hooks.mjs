// Module hooks that print every resolved import to stderr, so a test can see what a command loads.
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  process.stderr.write(`IMPORT ${result.url}\n`);
  return result;
}
