// Preloaded with --require: at exit, lists every built-in and file module the process loaded, so a
// test can see what a command pulled in (CommonJS requires do not pass the ES module hooks). The list is
// taken first and written to the descriptor: process.stderr would make a stream for a pipe, loading
// node:net and the stream machinery into the list it is about to print.
process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice('NativeModule '.length)}`);
  const lines = [...builtins, ...Object.keys(require.cache)].map((m) => `LOADED ${m}\n`).join('');
  require('node:fs').writeSync(2, lines);
});
