// Preloaded with --require: at exit, lists every built-in and file module the process loaded, so a
// test can see what a command pulled in (CommonJS requires do not pass the ES module hooks).
process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice('NativeModule '.length)}`);
  process.stderr.write([...builtins, ...Object.keys(require.cache)].map((m) => `LOADED ${m}\n`).join(''));
});
