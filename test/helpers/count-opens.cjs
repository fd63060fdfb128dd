// Preloaded with --require: counts the opens of the file named by C8YTOKEN_TEST_COUNT_OPENS (every way
// node:fs opens a file) and prints "OPENS N" to stderr at exit, so a test can see how often a command
// read it. Installed before the program loads, so the program's own references are these wrappers.
const fs = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');

const watched = process.env.C8YTOKEN_TEST_COUNT_OPENS;
let opens = 0;
const counted = (original) =>
  function (path, ...rest) {
    if (String(path) === watched) opens++;
    return original.call(this, path, ...rest);
  };
fs.open = counted(fs.open);
fs.openSync = counted(fs.openSync);
fs.readFile = counted(fs.readFile);
fs.readFileSync = counted(fs.readFileSync);
fs.promises.open = counted(fs.promises.open);
fs.promises.readFile = counted(fs.promises.readFile);
syncBuiltinESMExports();
process.on('exit', () => process.stderr.write(`OPENS ${opens}\n`));
