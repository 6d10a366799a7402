// GPT-2's reference encoder from npm gpt-3-encoder: prints the ids of a
// UTF-8 file, one a line.  node gpt2-encode.js <gpt-3-encoder dir> <file>
const {encode} = require(process.argv[2]);
const text = require('fs').readFileSync(process.argv[3], 'utf8');
console.log(encode(text).join('\n'));
